#!/usr/bin/env python3
"""run.py: canopy's test driver, behind `make test`.

Boots canopy headless on a copy of fs.img and runs, in order:

  boot      boot_to_prompt: the shell prompt appears (boot time printed)
  shell     shell_*: a few commands typed at the shell, output compared
  usertests one test per "test NAME: OK|FAILED" line of `usertests -q`,
            and usertests_complete for its final "ALL TESTS PASSED";
            meanwhile QEMU's monitor samples every hart's satp
            (template_never_in_satp_sampled: never kernel_pagetable)
  cow       cowtest_NAME per "cowtest NAME: ok|FAILED" line of `cowtest`
            (user/cowtest.c, copy-on-write fork), cowtest_complete for its
            "cowtest: all passed"; the DEBUG kernel runs it too
  security  sectests_*: the same for `sectests` (user/sectests.c, isolation
            between user programs and the kernel, docs/security.md)
  exhaust   exhaust_*: the same for `exhaust` (user/exhaust.c: out of
            memory, tasks, fds, files, inodes, blocks; argv and path limits)
  (always)  poweroff_exits_qemu: `poweroff` makes QEMU exit by itself
  fsck      fsck_after_usertests: mkfs/fsck accepts the image afterwards
  host      every tests/host/*.sh; each prints "test NAME: OK|FAIL" lines
  debug     debug_*: a -DDEBUG -DFAULT_INJECT kernel (junk-filled frees,
            poisoned mms, the lock checker): usertests, cowtest, ktest,
            debug_lockdep_quiet; then lockdep_*: tests/lockdep_test.py
            (the checker's three reports, provoked by crash 3, 4 and 5);
            debug_stress_8harts_20s: tests/stress.py on 8 harts under it
  prealloc  prealloc_*: the VMSYNC=prealloc kernel: usertests, ktest, no sync
  asid      asid4_*, asid0_*: ASID_BITS=4 (rollovers) and 0 (ASIDs off)
            kernels: usertests, ktest, a clean TLB model
  kpti      kpti_*: the KPTI=1 kernel: usertests, ktest, and a user root
            that lacks the kernel half
  matrix    boot_cpus1_128M, boot_cpus8_1G: boot other machines, `echo ok`,
            poweroff
  fuzz      fuzz_*: a short fixed-seed round of user/fuzz on 3 harts
            (tests/fuzz.py), and its shrinker on a made-up failure
  gdb       gdb_*, crash_refused, panic_*: tests/gdb_test.py (gdb on a
            halted QEMU; a FAULT_INJECT kernel's panics, on machines apart)
  ptview    ptview_*: tests/ptview_test.py (make ptview's page: its structure,
            and, with Chromium installed, rendered headless)
  crash     crash_*: tests/crashtest.py, power cut at 8 points under a file
            system workload; fsck and every acknowledged operation checked
  stress    stress_3harts_20s: tests/stress.py, mixed work on the main
            machine's harts for 20 s (make stress: 8 harts); no panic or hang, free pages and tasks back at baseline
  labs      tests/labs_test.py: each lab's solution gets full marks, its
            starter builds, boots, passes usertests and fails the lab's tests,
            each grade/mutants/<lab>/*.patch is rejected
  (always)  no_kernel_panic: no console ever printed "panic: " (reported
            only if at least one machine booted)

A kernel panic stops the run at once (the console's tail is printed); a
time-out fails the test that waited and ends that machine's session. QEMU
is killed on every way out. One line per test, "name: OK" or
"name: FAIL (reason)", then the last line "N passed, N failed"; the exit
status is 1 if anything failed.

Console logs go to tests/out/console-<machine>.log. To add a test, add a
function below and call it from main(); tests/qemu.py has the Machine.
"""

import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import (REPO, Machine, MachineError, KernelPanic, Timeout,  # noqa: E402
                  QemuExited, Monitor, qemu_command, copy_image, kill_all)
import qemu  # noqa: E402
import gdb_test  # noqa: E402
import fuzz  # noqa: E402
import crashtest  # noqa: E402
import stress  # noqa: E402
import labs_test  # noqa: E402
import ptview_test  # noqa: E402
import lockdep_test  # noqa: E402

# Console logs; CANOPY_TEST_OUT moves them (the harness's own test does).
OUT = os.environ.get("CANOPY_TEST_OUT") or os.path.join(REPO, "tests", "out")
GROUPS = ["shell", "usertests", "cow", "security", "exhaust", "ktest", "prealloc", "asid", "kpti",
          "debug", "fsck", "host", "matrix", "fuzz", "gdb", "ptview", "crash", "stress", "labs"]

# Time limits in seconds, multiplied by --timeout-scale.
BOOT_TIMEOUT = 60
SHELL_TIMEOUT = 30
USERTESTS_TIMEOUT = 600
POWEROFF_TIMEOUT = 10
HOST_TIMEOUT = 300


class Results:
    """Collects verdicts and prints each one as it is known."""

    def __init__(self):
        self.passed = 0
        self.failed = []

    def ok(self, name):
        self.passed += 1
        print("%s: OK" % name, flush=True)

    def fail(self, name, reason):
        reason = " ".join(str(reason).split())   # one line
        self.failed.append((name, reason))
        print("%s: FAIL (%s)" % (name, reason), flush=True)

    def check(self, name, good, reason):
        if good:
            self.ok(name)
        else:
            self.fail(name, reason)

    def summary(self):
        # The failures again, just above the last line: a CI log is often
        # read from its tail only.
        for name, reason in self.failed:
            print("FAILED %s: %s" % (name, reason[:300]), flush=True)
        print("%d passed, %d failed" % (self.passed, len(self.failed)), flush=True)
        return 1 if self.failed else 0


class StopRun(Exception):
    """A kernel panic: nothing after it can be trusted."""


def info(msg):
    print("# " + msg, flush=True)


# ---- shell tests ------------------------------------------------------------
#
# Each test is a list of (command, expected). expected is None (output not
# checked), a string (the whole output, compared line by line without
# trailing blanks), or a list of regexes that must each match some line.

SHELL_TESTS = [
    ("shell_echo", [("echo hello", "hello")]),
    ("shell_pipe_wc", [("echo abc | wc", "1 1 4")]),
    ("shell_ls", [("ls", [r"^README\.md\s", r"^usertests\s"])]),
    ("shell_grep_pipe", [("cat README.md | grep canopy", [r"canopy"])]),
    ("shell_redirect", [("echo x > f", ""), ("cat f", "x")]),
    ("shell_mkdir_cd", [("mkdir d", ""), ("cd d", ""), ("echo y > g", ""),
                        ("cat g", "y"), ("cd /", "")]),
    ("shell_kstat_per_hart", [("kstat -h", [r"^counter\s+total\s+hart0",
                                            r"^satp_writes\s+\d+(\s+\d+)+$",
                                            r"^vmalloc_syncs\s+[1-9]\d*\s"])]),
]


def normalize(text):
    lines = [l.rstrip() for l in text.split("\n")]
    return "\n".join(lines).strip("\n")


def output_problem(cmd, out, expected):
    """None if out is what cmd should print, else a description."""
    if expected is None:
        return None
    got = normalize(out)
    if isinstance(expected, str):
        if got == expected:
            return None
        return "%r printed %r, expected %r" % (cmd, got, expected)
    for pattern in expected:
        if not re.search(pattern, got, re.M):
            return "%r printed %r, expected a line matching %r" % (cmd, got, pattern)
    return None


def run_shell_tests(m, res):
    for name, steps in SHELL_TESTS:
        problem = None
        for cmd, expected in steps:
            try:
                out = m.run(cmd, SHELL_TIMEOUT)
            except (Timeout, QemuExited) as e:
                res.fail(name, e)
                raise
            problem = problem or output_problem(cmd, out, expected)
        res.check(name, problem is None, problem)


# ---- cowtest ----------------------------------------------------------------

COWTEST_TIMEOUT = 300


def run_cowtest(m, res, prefix="cowtest_"):
    """cowtest: one test per check it prints, and prefix + complete."""
    out = m.run("cowtest", COWTEST_TIMEOUT)
    for name, verdict, rest in re.findall(r"^cowtest ([\w-]+): (ok|FAILED)(.*)$", out, re.M):
        res.check(prefix + name.replace("-", "_"), verdict == "ok", rest.strip())
    res.check(prefix + "complete", "cowtest: all passed" in out,
              "cowtest did not print 'cowtest: all passed':\n" + out[-1500:])


# ---- usertests --------------------------------------------------------------

def parse_usertests(text):
    """Split usertests output at each "test NAME: ". Returns a list of
    (name, passed, reason) and whether "ALL TESTS PASSED" was printed.
    A failing test may print lines of its own before FAILED."""
    starts = list(re.finditer(r"test (\S+): ", text))
    verdicts = []
    for i, s in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[s.end():end]
        lines = [l.strip() for l in body.split("\n")]
        if lines and lines[0] == "OK":
            verdicts.append((s.group(1), True, ""))
        elif "FAILED" in body:
            reason = " | ".join(l for l in lines
                                if l and "TESTS" not in l and not l.startswith("$"))
            verdicts.append((s.group(1), False, reason[:300]))
        else:
            verdicts.append((s.group(1), False, "no verdict: %r" % body.strip()[:200]))
    return verdicts, "ALL TESTS PASSED" in text


class SatpSampler(threading.Thread):
    """Reads every hart's satp through QEMU's monitor, again and again,
    until stop() (invariant 2: the template is never in any hart's satp)."""

    def __init__(self, mon, interval=0.05):
        super().__init__(daemon=True)
        self.mon = mon
        self.interval = interval
        self.samples = []       # one list of satp values (CPU order) each
        self.error = None
        self._done = threading.Event()

    def run(self):
        while not self._done.wait(self.interval):
            try:
                self.samples.append(self.mon.satp_all())
            except MachineError as e:
                self.error = e
                return

    def stop(self):
        self._done.set()
        self.join(60)


def satp_root_pa(satp):
    return (satp & ((1 << 44) - 1)) << 12


def check_satp_samples(m, sampler, cpus, res):
    """template_never_in_satp_sampled: enough samples of every hart, and
    none of them is the template's root (its address is in the banner)."""
    name = "template_never_in_satp_sampled"
    found = re.search(r"template kernel_pagetable at pa (0x[0-9a-fA-F]+)", m.text)
    if not found:
        res.fail(name, "the boot banner does not give the template's address")
        return
    template = int(found.group(1), 16)
    samples = [s for s in sampler.samples if len(s) == int(cpus)]
    hits = sum(satp_root_pa(v) == template for s in samples for v in s)
    roots = set(satp_root_pa(v) for s in samples for v in s)
    if len(samples) < 10:
        res.fail(name, "only %d samples of %s harts' satp (monitor error: %s)"
                 % (len(samples), cpus, sampler.error))
        return
    info("satp sampled %d times on %s harts: %d distinct roots, %d on the template"
         % (len(samples), cpus, len(roots), hits))
    res.check(name, hits == 0, "%d of %d hart samples had kernel_pagetable (pa %#x) in satp"
              % (hits, len(samples) * int(cpus), template))
    check_asid_samples(m, samples, res)


def check_asid_samples(m, samples, res):
    """asid_samples_distinct: with ASIDs on (the banner says how many
    bits), user roots carry several distinct non-zero ASIDs, and in no
    sample do two harts run different roots under one ASID."""
    found = re.search(r"canopy: (\d+) ASID bits(, too few)?", m.text)
    if not found or found.group(2) or int(found.group(1)) == 0:
        info("ASIDs off: asid_samples_distinct not checked")
        return
    asids = set()
    clash = None
    for s in samples:
        owner = {}
        for v in s:
            asid, root = (v >> 44) & 0xffff, satp_root_pa(v)
            if asid == 0:
                continue
            asids.add(asid)
            if owner.setdefault(asid, root) != root and clash is None:
                clash = (asid, owner[asid], root)
    info("ASIDs seen in satp: %d distinct non-zero" % len(asids))
    res.check("asid_samples_distinct", len(asids) >= 2 and clash is None,
              "ASID %d ran on roots %#x and %#x at once" % clash if clash else
              "only %d distinct non-zero ASIDs in %d samples" % (len(asids), len(samples)))


def run_usertests(m, res, mon=None, cpus=None):
    start = len(m.text)
    t0 = time.monotonic()
    sampler = SatpSampler(mon) if mon else None
    if sampler:
        sampler.start()
    m.send("usertests -q")
    error = None
    try:
        m.expect(r"ALL TESTS PASSED|SOME TESTS FAILED", USERTESTS_TIMEOUT,
                 what="usertests -q to finish (ALL TESTS PASSED or SOME TESTS FAILED)")
        m.expect(r"\$ ", SHELL_TIMEOUT, what="the prompt after usertests")
        info("usertests -q: %.1f s" % (time.monotonic() - t0))
    except (Timeout, QemuExited) as e:
        error = e
    except KernelPanic:
        report_usertests(m.text[start:], res, "running when the kernel panicked")
        raise
    finally:
        if sampler:
            sampler.stop()
    report_usertests(m.text[start:], res, str(error) if error else None)
    if sampler:
        check_satp_samples(m, sampler, cpus, res)
    if error:
        raise error


def report_usertests(text, res, error):
    verdicts, complete = parse_usertests(text)
    for i, (name, passed, reason) in enumerate(verdicts):
        last = i == len(verdicts) - 1
        if error and last and not passed:
            reason = error          # the test that was running
        res.check("usertests_" + name, passed, reason)
    res.check("usertests_complete", complete,
              error or "usertests did not print ALL TESTS PASSED")


def run_suite(m, res, prog):
    """A user test suite in usertests' format (user/sectests.c,
    user/exhaust.c): one named test per "test NAME:" line."""
    start = len(m.text)
    t0 = time.monotonic()
    m.send(prog)
    error = None
    try:
        m.expect(r"ALL TESTS PASSED|SOME TESTS FAILED", USERTESTS_TIMEOUT,
                 what="%s to finish" % prog)
        m.expect(r"\$ ", SHELL_TIMEOUT, what="the prompt after %s" % prog)
        info("%s: %.1f s" % (prog, time.monotonic() - t0))
    except (Timeout, QemuExited) as e:
        error = e
    verdicts, complete = parse_usertests(m.text[start:])
    for name, passed, reason in verdicts:
        res.check(prog + "_" + name, passed, reason)
    res.check(prog + "_complete", complete and not error,
              error or "%s did not print ALL TESTS PASSED" % prog)
    if error:
        raise error


FUZZ_SEED = 0x15c0ffee
FUZZ_CALLS = 6000


def run_fuzz(args, res):
    """A short round of the system call fuzzer with a fixed seed on 3
    harts: no panic, no hang, every count back (tests/fuzz.py)."""
    fa = fuzz.parse_args(["--cpus", "3", "--mem", args.mem, "--fsimg", args.fsimg,
                          "--timeout-scale", str(args.timeout_scale), "--hang-secs", "120"])
    t0 = time.monotonic()
    v = fuzz.fuzz_round(fa, FUZZ_SEED, FUZZ_CALLS)
    info("fuzz round: %.1f s: %s" % (time.monotonic() - t0, v.detail))
    res.check("fuzz_round_seed_%x" % FUZZ_SEED, not v.failed(),
              "%s; reproduce with make fuzz SEED=%#x N=%d" % (v, FUZZ_SEED, FUZZ_CALLS))
    if v.kind == "panic":
        res.fail("no_kernel_panic", v.detail)
    # The shrinker, on a made-up failure: fails when both 17 and 42 are in.
    calls = list(range(200))
    found = fuzz.ddmin(calls, lambda c: 17 in c and 42 in c)
    res.check("fuzz_ddmin_finds_minimal", found == [17, 42],
              "ddmin returned %r, expected [17, 42]" % (found,))


def run_ktest(m, res, prefix="ktest_"):
    """The kernel's self-tests: one named test per `ktest NAME:` line."""
    out = m.run("ktest", timeout=USERTESTS_TIMEOUT)
    found = re.findall(r"^ktest (\w+): (OK|FAIL.*)$", out, re.M)
    for name, verdict in found:
        res.check(prefix + name, verdict == "OK", verdict)
    res.check(prefix + "complete", bool(found) and "ktest: 0 failed" in out,
              "ktest did not end with 'ktest: 0 failed'")
    # Every lazy sync so far (the tests make many) was followed by a flush.
    out = m.run("kstat", timeout=SHELL_TIMEOUT)
    res.check(prefix + "syncs_flushed", re.search(r"^unflushed_syncs 0$", out, re.M)
              and re.search(r"^tlb_flushes [1-9]", out, re.M),
              "kstat does not show unflushed_syncs 0 and some tlb_flushes:\n" + out)


def print_counters(m, when, res=None):
    """Print the kernel's counters; with res, also check the ones that
    must be 0 whatever ran: template_satp (invariant 2), stale_asid_loads
    and missed_shootdowns (invariant 12)."""
    out = m.run("kstat", timeout=SHELL_TIMEOUT)
    pairs = re.findall(r"^(\w+) (\d+)$", out, re.M)
    info("counters %s: %s" % (when, ", ".join("%s %s" % p for p in pairs)))
    if res:
        counts = dict((k, int(v)) for k, v in pairs)
        res.check("kstat_template_satp_zero", counts.get("template_satp") == 0,
                  "kstat template_satp is %s %s, want 0" % (counts.get("template_satp"), when))
        res.check("kstat_tlb_model_clean", counts.get("stale_asid_loads") == 0 and
                  counts.get("missed_shootdowns") == 0,
                  "kstat stale_asid_loads %s, missed_shootdowns %s %s, want 0 and 0"
                  % (counts.get("stale_asid_loads"), counts.get("missed_shootdowns"), when))
        res.check("kstat_every_counter_named", "(null)" not in out and "disk_writes" in counts,
                  "kstat printed a counter without a name, or no disk_writes:\n" + out)


def run_design_probes(m, res):
    """Probe the running kernel: every page table's kernel half is the
    template's (shared) or not yet synced, and kernel threads show in ps."""
    out = m.run("ps", timeout=SHELL_TIMEOUT)
    res.check("ps_shows_kernel_threads",
              re.search(r"\[kzerod\]", out) and re.search(r"\[idle/0\]", out),
              "ps did not list [kzerod] and [idle/0]:\n" + out)
    pids = re.findall(r"^\s*(\d+)\s+\d+\s+\w+\s+-?\d+\s+\d+\s+(?!\[)\S+", out, re.M)
    bad = []
    for pid in pids + ["$$"]:
        cmd = "ptdump" if pid == "$$" else "ptdump " + pid
        dump = m.run(cmd, timeout=SHELL_TIMEOUT)
        if pid == "$$" or "summary:" in dump:
            found = re.search(r"summary: .* (\d+) kernel entries shared, \d+ not yet synced, 0 differ", dump)
            if not found or int(found.group(1)) < 3:   # 2 direct-map entries + stacks
                bad.append("%s:\n%s" % (cmd, dump))
    res.check("ptdump_kernel_half_shared", not bad and pids, "\n".join(bad) or "no pids in ps")


def build_kernel_variant(tmpdir, name, make_args):
    """Build a kernel with other make variables in a copy of the tree,
    reusing the objects already built where the flags allow. Returns its
    path."""
    tree = os.path.join(tmpdir, name + "-tree")
    os.makedirs(tree)
    for d in ("kernel", "scripts"):
        shutil.copytree(os.path.join(REPO, d), os.path.join(tree, d), symlinks=True)
    shutil.copy2(os.path.join(REPO, "Makefile"), tree)
    subprocess.run(["make", "-s"] + make_args + ["kernel/kernel"], cwd=tree,
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(tree, "kernel", "kernel")


def free_pages_at_boot(m):
    found = re.search(r"(\d+) pages free", m.text)
    return int(found.group(1)) if found else None


def run_variant(args, res, tmpdir, name, make_args, label, after_boot=None,
                after_usertests=None, after_ktest=None):
    """Build a kernel with other make variables (make_args) in a copy of
    the tree, boot it, and run usertests -q (NAME_usertests) and ktest
    (NAME_ktest_*); the hooks, given the machine, add the variant's own
    checks after boot, after usertests and after ktest. NAME_builds fails
    if the build does, NAME_complete if the machine stops answering.
    Returns the kernel's path, or None if it did not build."""
    try:
        kernel = build_kernel_variant(tmpdir, name, make_args)
    except subprocess.CalledProcessError as e:
        res.fail(name + "_builds", e)
        return None
    res.ok(name + "_builds")
    m, _ = new_machine(args, tmpdir, name, args.cpus, args.mem)
    m.cmd[m.cmd.index("-kernel") + 1] = kernel
    try:
        m.boot(BOOT_TIMEOUT)
        if after_boot:
            after_boot(m)
        out = m.run("usertests -q", USERTESTS_TIMEOUT)
        res.check(name + "_usertests", "ALL TESTS PASSED" in out,
                  "usertests -q on the %s kernel:\n%s" % (label, out[-1500:]))
        if after_usertests:
            after_usertests(m)
        run_ktest(m, res, name + "_ktest_")
        if after_ktest:
            after_ktest(m)
        m.poweroff(POWEROFF_TIMEOUT)
        m.check_panic()
    except KernelPanic as e:
        panic_stop(m, res, e)
    except (Timeout, QemuExited) as e:
        res.fail(name + "_complete", e)
    finally:
        m.kill()
    return kernel


def kstat_counts(m):
    return dict((k, int(v)) for k, v in re.findall(r"^(\w+) (\d+)$", m.run("kstat"), re.M))


def run_debug_kernel(args, res, tmpdir):
    """A -DDEBUG kernel junk-fills freed pages and poisons freed mms, so a
    use after free shows up, and checks every spinlock (kernel/lockdep.c):
    usertests -q, cowtest and ktest must still pass, with no lock-order or
    stuck-spin report and the checker still on (debug_lockdep_quiet). It is also built with FAULT_INJECT, so
    tests/lockdep_test.py can make the checker report on purpose."""
    def after_usertests(m):
        run_cowtest(m, res, "debug_cowtest_")

    def after_ktest(m):
        # "held for" warnings are printed, not failed: guest time follows
        # the host's clock, and a loaded host can stop a hart for seconds
        # inside any critical section.
        lines = re.findall(r"^lockdep: .*$", m.text, re.M)
        reports = [l for l in lines if " held for " not in l]
        if len(lines) > len(reports):
            info("lock checker: %d long-hold warnings (host load?): %s"
                 % (len(lines) - len(reports), "; ".join(lines[:3])))
        res.check("debug_lockdep_quiet", not reports,
                  "the lock checker reported during usertests, cowtest and ktest:\n"
                  + "\n".join(reports[:10]))
    kernel = run_variant(args, res, tmpdir, "debug", ["-B", "KCFLAGS=-DDEBUG -DFAULT_INJECT"],
                         "DEBUG", after_usertests=after_usertests, after_ktest=after_ktest)
    if kernel:
        lockdep_test.run(args, res, tmpdir, kernel)
        run_debug_stress(args, res, tmpdir, kernel)


DEBUG_STRESS_SECS = 20


def run_debug_stress(args, res, tmpdir, kernel):
    """debug_stress_8harts: the stress run on 8 harts under the lock
    checker, which reports a hart stuck spinning instead of hanging (it
    found a global lock held across every kernel-stack shootdown)."""
    ok, msg, tail = stress.stress(args.fsimg, "8", "512M", DEBUG_STRESS_SECS,
                                  args.timeout_scale, tmpdir, kernel, "debug-stress8")
    res.check("debug_stress_8harts_%ds" % DEBUG_STRESS_SECS, ok,
              msg + ("" if ok else "\n" + tail))
    if ok:
        info(msg)


def run_prealloc(args, res, tmpdir, lazy_free):
    """VMSYNC=prealloc: every vmalloc root entry exists from boot, so no
    lazy sync ever happens; the self-tests and usertests still pass."""
    def after_boot(m):
        free = free_pages_at_boot(m)
        if free is not None and lazy_free is not None:
            info("VMSYNC=prealloc costs %d pages (%d KiB) at boot"
                 % (lazy_free - free, (lazy_free - free) * 4))
        dump = m.run("ptdump -k", SHELL_TIMEOUT)
        res.check("prealloc_template_has_64_vmalloc_entries",
                  len(re.findall(r"vmalloc, pmd", dump)) == 64, dump)

    def after_usertests(m):
        out = m.run("kstat", SHELL_TIMEOUT)
        res.check("prealloc_no_lazy_sync", re.search(r"^vmalloc_syncs 0$", out, re.M),
                  "vmalloc_syncs is not 0 after usertests -q:\n" + out)
    run_variant(args, res, tmpdir, "prealloc", ["VMSYNC=prealloc"], "VMSYNC=prealloc",
                after_boot, after_usertests)


def run_asid_variant(args, res, tmpdir, bits):
    """ASID_BITS=4: 16 ASIDs for 3 harts, so usertests roll over many
    times; ASID_BITS=0: ASIDs off, every switch flushes. usertests -q and
    ktest pass on both, and the TLB model finds no stale ASID load and no
    missed shootdown."""
    name = "asid%d" % bits

    def after_ktest(m):
        k = kstat_counts(m)
        want = k.get("asid_rollovers", 0) > 0 if bits else k.get("asid_bits") == 0
        res.check(name + "_tlb_model_clean", want and k.get("stale_asid_loads") == 0
                  and k.get("missed_shootdowns") == 0,
                  "asid_bits %s, asid_rollovers %s, stale_asid_loads %s, missed_shootdowns %s"
                  % (k.get("asid_bits"), k.get("asid_rollovers"), k.get("stale_asid_loads"),
                     k.get("missed_shootdowns")))
    run_variant(args, res, tmpdir, name, ["ASID_BITS=%d" % bits], "ASID_BITS=%d" % bits,
                after_ktest=after_ktest)


def run_kpti(args, res, tmpdir):
    """KPTI=1: two roots per process. usertests -q (trapnosatp then wants
    two satp writes per system call) and ktest pass, and the user root of
    a process holds its user half and, of the kernel, only the trap entry
    page and the mm's data page."""
    def after_ktest(m):
        dump = m.run("ptdump -u", SHELL_TIMEOUT)
        lines = re.findall(r"^\s*(\d+): (kpti entry text|kpti data), (\d+) pages$", dump, re.M)
        summary = re.search(r"^summary: (\d+) user pages, (\d+) kernel entries in the user root",
                            dump, re.M)
        ok = summary and int(summary.group(1)) > 0 and int(summary.group(2)) == 2 and \
            sorted((w, int(n)) for _, w, n in lines) == [("kpti data", 1), ("kpti entry text", 1)]
        res.check("kpti_user_root_lacks_kernel", ok,
                  "the user root should hold user pages and, of the kernel, one page of "
                  "entry text and one data page:\n" + dump)
    run_variant(args, res, tmpdir, "kpti", ["KPTI=1"], "KPTI=1", after_ktest=after_ktest)


# ---- host-side checks ---------------------------------------------------------

def run_fsck(img, res):
    fsck = os.path.join(REPO, "mkfs", "fsck")
    if not os.access(fsck, os.X_OK):
        info("mkfs/fsck not built: fsck_after_usertests skipped")
        return
    p = subprocess.run([fsck, img], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    res.check("fsck_after_usertests", p.returncode == 0,
              "mkfs/fsck exited %d: %s" % (p.returncode, p.stdout.strip()[-300:]))


def run_host_scripts(img, res, scale):
    env = dict(os.environ, CANOPY_REPO=REPO)
    if img:
        env["CANOPY_FSIMG"] = img
    for script in sorted(glob.glob(os.path.join(REPO, "tests", "host", "*.sh"))):
        label = "host_" + os.path.splitext(os.path.basename(script))[0]
        try:
            p = subprocess.run(["sh", script], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=HOST_TIMEOUT * scale)
        except subprocess.TimeoutExpired:
            res.fail(label, "timed out after %g s" % (HOST_TIMEOUT * scale))
            continue
        seen_fail = False
        for m in re.finditer(r"^test (\S+): (OK|FAIL.*)$", p.stdout, re.M):
            passed = m.group(2) == "OK"
            seen_fail = seen_fail or not passed
            reason = m.group(2)[4:].strip(" :-")
            if reason.startswith("(") and reason.endswith(")"):
                reason = reason[1:-1]
            res.check(m.group(1), passed, reason or "failed")
        if p.returncode != 0 and not seen_fail:
            res.fail(label, "exited %d: %s" % (p.returncode, p.stdout.strip()[-300:]))


# ---- machines -----------------------------------------------------------------

def new_machine(args, tmpdir, name, cpus, mem):
    img = copy_image(args.fsimg, tmpdir)
    cmd = qemu_command(img, cpus, mem, args.qemu_extra, args.qemu_cmd)
    log = os.path.join(OUT, "console-%s.log" % name)
    return Machine(cmd, log, args.timeout_scale), img


def print_tail(m, lines):
    print("--- console tail (all of it in %s) ---" % os.path.relpath(m.log_path, REPO))
    print(m.tail(lines))
    print("---", flush=True)


def panic_stop(m, res, err):
    res.fail("no_kernel_panic", err)
    print_tail(m, 40)
    raise StopRun()


def boot(m, res, name, label):
    """Boot m to the prompt; records test name. False if it did not boot."""
    try:
        secs = m.boot(BOOT_TIMEOUT)
    except (Timeout, QemuExited) as e:
        res.fail(name, e)
        print_tail(m, 20)
        return False
    info("boot (%s): %.2f s" % (label, secs))
    res.ok(name)
    return True


def poweroff(m, res):
    """poweroff_exits_qemu; True if QEMU exited by itself."""
    exited = m.poweroff(POWEROFF_TIMEOUT)
    m.check_panic()
    res.check("poweroff_exits_qemu", exited,
              "QEMU still running %g s after poweroff" % (POWEROFF_TIMEOUT * m.scale))
    return exited


def main_session(args, res, tmpdir):
    """Boot the main machine and run everything that needs it. Returns the
    disk image if the machine shut down cleanly, else None."""
    label = "%s harts, %s" % (args.cpus, args.mem)
    m, img = new_machine(args, tmpdir, "main", args.cpus, args.mem)
    mon = None if args.qemu_cmd else Monitor.attach_to(m.cmd, tmpdir)
    try:
        if not boot(m, res, "boot_to_prompt", label):
            return None
        args.lazy_free_pages = free_pages_at_boot(m)
        try:
            if "shell" in args.only:
                run_shell_tests(m, res)
            if "usertests" in args.only:
                run_usertests(m, res, mon, args.cpus)
                print_counters(m, "after usertests -q", res)
            if "cow" in args.only:
                run_cowtest(m, res)
            if "security" in args.only:
                run_suite(m, res, "sectests")
            if "exhaust" in args.only:
                run_suite(m, res, "exhaust")
            if "ktest" in args.only:
                run_ktest(m, res)
                run_design_probes(m, res)
        except (Timeout, QemuExited):
            info("the rest of the tests on this machine were not run")
            print_tail(m, 20)
            return None
        return img if poweroff(m, res) else None
    except KernelPanic as e:
        panic_stop(m, res, e)
    finally:
        if mon:
            mon.close()
        m.kill()


def matrix_boot(args, res, tmpdir, cpus, mem):
    name = "boot_cpus%s_%s" % (cpus, mem)
    m, _ = new_machine(args, tmpdir, name, cpus, mem)
    try:
        m.boot(BOOT_TIMEOUT)
        info("boot (%s harts, %s): %.2f s" % (cpus, mem, m.boot_seconds))
        out = m.run("echo ok", SHELL_TIMEOUT)
        problem = output_problem("echo ok", out, "ok")
        if problem:
            res.fail(name, problem)
            return
        if "ktest" in args.only:
            run_ktest(m, res, "ktest_cpus%s_" % cpus)
        if not m.poweroff(POWEROFF_TIMEOUT):
            res.fail(name, "QEMU still running after poweroff")
            return
        m.check_panic()
        res.ok(name)
    except KernelPanic as e:
        panic_stop(m, res, e)
    except (Timeout, QemuExited) as e:
        res.fail(name, e)
    finally:
        m.kill()


# ---- main -----------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(description="Boot canopy and run its tests.")
    p.add_argument("--cpus", default="3", help="harts of the main machine (default 3)")
    p.add_argument("--mem", default="128M", help="memory of the main machine (default 128M)")
    p.add_argument("--only", default=",".join(GROUPS),
                   help="comma-separated groups to run: " + ",".join(GROUPS))
    p.add_argument("--boot-only", action="store_true",
                   help="only boot the main machine to the prompt and power it off")
    p.add_argument("--timeout-scale", type=float, default=1.0,
                   help="multiply every time limit (slow hosts)")
    p.add_argument("--fsimg", default=os.path.join(REPO, "fs.img"),
                   help="disk image to copy (default fs.img)")
    p.add_argument("--qemu-extra", default=None, help="QEMUEXTRA for the Makefile")
    p.add_argument("--qemu-cmd", default=None,
                   help="run this instead of the Makefile's QEMU command "
                        "({fsimg} {cpus} {mem} are filled in), e.g. "
                        "'python3 tests/fake_qemu.py'")
    args = p.parse_args()
    args.only = set(g.strip() for g in args.only.split(",") if g.strip())
    unknown = args.only - set(GROUPS)
    if unknown:
        p.error("unknown group(s) %s; groups are %s" % (",".join(sorted(unknown)), ",".join(GROUPS)))
    if args.boot_only:
        args.only = set()
    return args


def run_all(args, res, tmpdir):
    img = main_session(args, res, tmpdir)
    if "fsck" in args.only and img:
        run_fsck(img, res)
    if "host" in args.only:
        run_host_scripts(img, res, args.timeout_scale)
    if "debug" in args.only:
        run_debug_kernel(args, res, tmpdir)
    if "prealloc" in args.only:
        run_prealloc(args, res, tmpdir, getattr(args, "lazy_free_pages", None))
    if "asid" in args.only:
        run_asid_variant(args, res, tmpdir, 4)
        run_asid_variant(args, res, tmpdir, 0)
    if "kpti" in args.only:
        run_kpti(args, res, tmpdir)
    if "matrix" in args.only:
        matrix_boot(args, res, tmpdir, 1, "128M")
        matrix_boot(args, res, tmpdir, 8, "1G")
    if "fuzz" in args.only:
        run_fuzz(args, res)
    if "gdb" in args.only:
        gdb_test.run(args, res, tmpdir)
    if "ptview" in args.only:
        ptview_test.run(args, res, tmpdir)
    if "crash" in args.only:
        crashtest.run(args, res, tmpdir)
    if "stress" in args.only:
        stress.run(args, res, tmpdir)
    if "labs" in args.only:
        labs_test.run(args, res, tmpdir)
    if any(name == "no_kernel_panic" for name, _ in res.failed):
        return
    if qemu.consoles_seen == 0:
        info("no machine printed anything: no_kernel_panic not reported")
    else:
        info("no panic on %d machine consoles read by this process" % qemu.consoles_seen)
        res.ok("no_kernel_panic")


def on_sigterm(signum, frame):
    raise KeyboardInterrupt()


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.makedirs(OUT, exist_ok=True)
    res = Results()
    tmpdir = tempfile.mkdtemp(prefix="canopy-test-")
    try:
        if not os.path.exists(args.fsimg):
            res.fail("boot_to_prompt", "%s does not exist: run make first" % args.fsimg)
        else:
            run_all(args, res, tmpdir)
    except StopRun:
        info("run stopped after a kernel panic")
    except KeyboardInterrupt:
        res.fail("interrupted", "the run was interrupted")
    except (MachineError, subprocess.CalledProcessError, OSError) as e:
        res.fail("harness", e)
    finally:
        kill_all()
        shutil.rmtree(tmpdir, ignore_errors=True)
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
