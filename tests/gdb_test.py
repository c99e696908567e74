"""gdb_test.py: the "gdb" group of tests/run.py: debugging works.

Does gdb see the kernel as docs/debugging.md promises? And does a kernel
bug end in a panic that names its functions?

  gdb_break_before_paging QEMU halted with a gdb stub (as make qemu-gdb),
                          gdb in batch mode with the .gdbinit of
                          scripts/gdbinit.tmpl: `break common_start` stops
                          in entry.S at its physical address, satp 0
  gdb_break_sys_exec      `break sys_exec`, continue until init's exec of
                          sh hits it
  gdb_backtrace           `bt` names sys_exec, syscall and user_trap
  gdb_ptdump              `ptdump` prints its summary with 0 differ and
                          shared kernel entries
  gdb_procs               `procs` lists init and [idle/0]
  gdb_va2pa               `va2pa sys_exec` gives its link address minus
                          PAGE_OFFSET
  gdb_break_user_program  `uprog sh`, `break main`: stops in sh's main,
                          and `procs` shows sh running there
  gdb_detach_boots        after gdb detaches, the machine boots to a shell
  syscall_trace           `make syscall-trace` (scripts/syscall_trace.py)
                          single-steps one getpid() from sys_getpid round
                          to sys_getpid: user side, trap entry, dispatch
                          and return, in order
  crash_refused           `crash 0` on the normal kernel returns: "kernel
                          built without FAULT_INJECT"
  panic_backtrace_symbolized  a FAULT_INJECT kernel (built in a copy of the
                          tree) panics on `crash 0` with a page fault and a
                          backtrace naming the faultinject functions
  panic_stack_overflow    `crash 1` panics with "kernel stack overflow"
                          and a backtrace
  panic_backtrace_crosses_trap  `crash 2` corrupts a root entry; the fault
                          handler's panic shows the handler's frames, the
                          trap (cause, sepc) and the code that faulted
  grade_reports_hang      a grader test whose guest deadlocks (`crash 3`)
                          fails as TIMED OUT with "hang:", each hart's pc
                          and a backtrace naming crash_deadlock and acquire
  grade_reports_slow_not_hang  one that only waits too little fails as
                          TIMED OUT, "still running", not as a hang

The panics are expected: they run on machines of their own, and never
reach run.py's no_kernel_panic check. QEMU, gdb and the build are killed
on every way out, each within a time limit.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

from qemu import (REPO, Machine, MachineError, KernelPanic, Timeout, QemuExited,
                  qemu_command, copy_image, start_with_gdb_stub)

OUT = os.path.join(REPO, "tests", "out")
PAGE_OFFSET = 0xFFFFFFC000000000

BOOT_TIMEOUT = 60
GDB_TIMEOUT = 90      # gdb: connect, boot to init's exec, run the commands
BUILD_TIMEOUT = 300   # the FAULT_INJECT kernel, on 2 cores
PANIC_TIMEOUT = 20    # from `crash N` to the end of the backtrace

CRASH0_FRAMES = ["crash_read_bad_pointer", "crash_nested_call", "crash_bad_pointer",
                 "sys_crash"]

# Between the gdb commands, markers split gdb's output into sections.
GDB_SCRIPT = """\
break common_start
continue
echo @@early\\n
info symbol $pc
p/x $satp
delete
break sys_exec
continue
echo @@bt\\n
bt
echo @@ptdump\\n
ptdump
echo @@procs\\n
procs
echo @@va2pa\\n
va2pa sys_exec
delete
uprog sh
break main
continue
echo @@uprog\\n
info symbol $pc
procs
echo @@detach\\n
delete
detach
"""


def find_gdb():
    for g in ("gdb-multiarch", "riscv64-unknown-elf-gdb", "riscv64-linux-gnu-gdb",
              "riscv64-elf-gdb"):
        path = shutil.which(g)
        if path:
            return path
    return None


def write_gdbinit(path, port):
    """.gdbinit as make qemu-gdb writes it, for port."""
    with open(os.path.join(REPO, "scripts", "gdbinit.tmpl")) as f:
        text = f.read().replace("@GDBPORT@", str(port))
    with open(path, "w") as f:
        f.write(text)


def sections(text):
    """{marker: text after it} for the @@name lines of GDB_SCRIPT."""
    parts = re.split(r"^@@(\w+)$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def symbol_address(name):
    """name's address from kernel/kernel.sym (nm -n), or None."""
    try:
        with open(os.path.join(REPO, "kernel", "kernel.sym")) as f:
            for line in f:
                fields = line.split()
                if len(fields) == 3 and fields[2] == name:
                    return int(fields[0], 16)
    except OSError:
        pass
    return None


def kill_process(p):
    """Kill a subprocess started in its own session, and its children."""
    if p is not None and p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            p.kill()
        p.wait()


# ---- (a) a gdb session --------------------------------------------------------

def run_gdb(gdb, gdbinit, script, timeout):
    """Run gdb in batch mode from the top of the tree; returns its output.
    -nx: no ~/.gdbinit, nothing auto-loaded: only ours."""
    p = subprocess.Popen([gdb, "-nx", "-q", "-batch", "-x", gdbinit, "-x", script],
                         cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return out
    except subprocess.TimeoutExpired:
        kill_process(p)
        raise Timeout("gdb did not finish within %g s" % timeout)
    finally:
        kill_process(p)


def check_gdb_output(out, res):
    s = sections(out)
    early = s.get("early", "")
    phys = re.search(r"^common_start in section \.text", early, re.M) and \
        re.search(r"^\$\d+ = 0x0$", early, re.M)
    res.check("gdb_break_before_paging", phys,
              "expected to stop in common_start with satp 0 (paging off): %r"
              % early.strip()[:300])
    hit = re.search(r"hit Breakpoint \d+(\.\d+)?, sys_exec", out)
    res.check("gdb_break_sys_exec", hit,
              "gdb never stopped in sys_exec: %s" % out.strip()[-300:])
    bt = s.get("bt", "")
    missing = [f for f in ("sys_exec", "syscall", "user_trap")
               if not re.search(r"^#\d+\s.*\b%s\b" % f, bt, re.M)]
    res.check("gdb_backtrace", not missing,
              "bt has no frame named %s: %r" % (", ".join(missing), bt.strip()[:300]))
    pt = s.get("ptdump", "")
    good = re.search(r"^summary: .*\b0 differ", pt, re.M) and re.search(r", shared,", pt)
    res.check("gdb_ptdump", good,
              "expected a summary with 0 differ and shared entries: %r" % pt.strip()[-300:])
    procs = s.get("procs", "")
    good = re.search(r"\binit\b", procs) and "[idle/0]" in procs
    res.check("gdb_procs", good, "expected init and [idle/0]: %r" % procs.strip()[:300])
    va2pa = s.get("va2pa", "")
    addr = symbol_address("sys_exec")
    if addr is None:
        res.fail("gdb_va2pa", "kernel/kernel.sym has no sys_exec")
    else:
        want = "-> pa 0x%016x" % (addr - PAGE_OFFSET)
        res.check("gdb_va2pa", want in va2pa,
                  "expected %r: %r" % (want, va2pa.strip()[-300:]))
    up = s.get("uprog", "")
    good = re.search(r"^main in section \.text of .*user/_sh", up, re.M) and \
        re.search(r"^\s*>.*\bsh\b", up, re.M)
    res.check("gdb_break_user_program", good,
              "expected `uprog sh; break main` to stop in sh's main with sh running: %r"
              % up.strip()[:400])


def gdb_session(args, res, tmpdir, gdb):
    """Tests (a), then the machine, left running by gdb's detach, must
    boot to a shell where crash() is refused."""
    img = copy_image(args.fsimg, tmpdir)
    cmd = qemu_command(img, args.cpus, args.mem, args.qemu_extra, args.qemu_cmd)
    gdbinit = os.path.join(tmpdir, "gdbinit")
    script = os.path.join(tmpdir, "gdb-script")
    with open(script, "w") as f:
        f.write(GDB_SCRIPT)
    m = None
    try:
        m, port = start_with_gdb_stub(
            lambda port: Machine(cmd + ["-S", "-gdb", "tcp:127.0.0.1:%d" % port],
                                 os.path.join(OUT, "console-gdb.log"), args.timeout_scale))
        write_gdbinit(gdbinit, port)
        t0 = time.monotonic()
        try:
            out = run_gdb(gdb, gdbinit, script, GDB_TIMEOUT * args.timeout_scale)
        except Timeout as e:
            for name in ("gdb_break_before_paging", "gdb_break_sys_exec", "gdb_backtrace",
                         "gdb_ptdump", "gdb_procs", "gdb_va2pa", "gdb_break_user_program",
                         "gdb_detach_boots"):
                res.fail(name, e)
            return
        with open(os.path.join(OUT, "gdb-session.log"), "w") as f:
            f.write(out)
        print("# gdb session: %.1f s (tests/out/gdb-session.log)" % (time.monotonic() - t0),
              flush=True)
        check_gdb_output(out, res)
        after_detach(m, res)
    except MachineError as e:
        res.fail("gdb_session", e)
    finally:
        if m is not None:
            m.kill()


def after_detach(m, res):
    try:
        m.expect(r"\$ ", BOOT_TIMEOUT, what="the shell prompt after gdb detached")
        res.ok("gdb_detach_boots")
        out = m.run("crash 0", 30)
        res.check("crash_refused", "kernel built without FAULT_INJECT" in out,
                  "crash 0 printed %r" % out.strip())
        m.poweroff(10)
    except KernelPanic as e:
        res.fail("gdb_detach_boots", e)
    except (Timeout, QemuExited) as e:
        res.fail("gdb_detach_boots", e)


# ---- (b) panics of a FAULT_INJECT kernel ------------------------------------------

def start_fault_build(tmpdir):
    """Copy the tree (sources and user programs, no kernel objects) and
    start `make KCFLAGS=-DFAULT_INJECT kernel/kernel` in the copy.
    Returns (directory, process)."""
    copy = os.path.join(tmpdir, "faultinject-tree")

    def ignore(directory, names):
        rel = os.path.relpath(directory, REPO)
        skip = {".git", "out", "__pycache__"} & set(names)
        if rel.split(os.sep)[0] == "kernel":
            skip |= {n for n in names if n.endswith(".o") or n in ("kernel", "kernel.pass1")}
        return skip

    shutil.copytree(REPO, copy, ignore=ignore, symlinks=True)
    log = open(os.path.join(OUT, "faultinject-build.log"), "w")
    p = subprocess.Popen(["make", "-j2", "KCFLAGS=-DFAULT_INJECT", "kernel/kernel"],
                         cwd=copy, stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return copy, p


def wait_for_panic(m, timeout):
    """Wait until the console has printed a panic and its backtrace, and
    then been quiet for a moment. Returns the text from "panic: " on."""
    deadline = time.monotonic() + timeout * m.scale
    seen, quiet_since = None, time.monotonic()
    while time.monotonic() < deadline:
        text = m.text
        if text != seen:
            seen, quiet_since = text, time.monotonic()
        elif "panic: " in text and "backtrace:" in text and \
                time.monotonic() - quiet_since > 1.0:
            break
        if not m.running() and text == seen:
            break
        time.sleep(0.2)
    i = seen.find("panic: ") if seen else -1
    return seen[i:] if i >= 0 else ""


def crash_machine(args, tmpdir, tree, how):
    """Boot the FAULT_INJECT kernel, run `crash how`; returns the panic text."""
    img = copy_image(args.fsimg, tmpdir)
    cmd = qemu_command(img, args.cpus, args.mem, args.qemu_extra, args.qemu_cmd)
    m = Machine(cmd, os.path.join(OUT, "console-crash%d.log" % how), args.timeout_scale,
                cwd=tree)
    try:
        m.boot(BOOT_TIMEOUT)
        m.send("crash %d" % how)
        return wait_for_panic(m, PANIC_TIMEOUT)
    finally:
        m.kill()


def frames_named(text):
    """Function names of the backtrace lines "  #N 0x... name+0x..."."""
    return re.findall(r"^\s*#\d+ 0x[0-9a-f]+ (\w+)\+0x", text, re.M)


def check_crash0(text, res):
    problems = []
    if not text.startswith("panic: "):
        problems.append("no panic")
    if not re.search(r"(load|store) page fault", text):
        problems.append("no 'load page fault' or 'store page fault'")
    names = frames_named(text)
    missing = [f for f in CRASH0_FRAMES if f not in names]
    if missing:
        problems.append("backtrace lacks %s" % ", ".join(missing))
    res.check("panic_backtrace_symbolized", not problems,
              "%s; console: %r" % ("; ".join(problems), text[:400]))


def check_crash1(text, res):
    problems = []
    if "panic: kernel stack overflow" not in text:
        problems.append("no 'panic: kernel stack overflow'")
    names = frames_named(text)
    if "crash_recurse" not in names or "sys_crash" not in names:
        problems.append("backtrace lacks crash_recurse or sys_crash")
    res.check("panic_stack_overflow", not problems,
              "%s; console: %r" % ("; ".join(problems), text[:400]))


CRASH2_FRAMES = ["sync_root_entry", "vmalloc_fault", "kernel_trap",
                 "crash_corrupt_root", "sys_crash", "syscall"]


def check_crash2(text, res):
    problems = []
    if "panic: vmalloc sync: root entry" not in text:
        problems.append("no 'panic: vmalloc sync: root entry ... differs'")
    if not re.search(r"^\s*-- load page fault at sepc 0x[0-9a-f]+", text, re.M):
        problems.append("no '-- load page fault at sepc' line where the walk crosses the trap")
    names = frames_named(text)
    missing = [f for f in CRASH2_FRAMES if f not in names]
    if missing:
        problems.append("backtrace lacks %s" % ", ".join(missing))
    elif names.index("kernel_trap") > names.index("crash_corrupt_root"):
        problems.append("the faulting code is not listed below the handler")
    res.check("panic_backtrace_crosses_trap", not problems,
              "%s; console: %r" % ("; ".join(problems), text[:600]))


CRASHES = [(0, "panic_backtrace_symbolized", check_crash0),
           (1, "panic_stack_overflow", check_crash1),
           (2, "panic_backtrace_crosses_trap", check_crash2)]

# A grader for the FAULT_INJECT tree with two tests that must fail, each
# in its own way: a deadlock (crash 3) and a command slower than its limit.
HANG_PROBE = """
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradelib import Lab
lab = Lab("hangprobe")

@lab.test(1, timeout=60)
def deadlock(c):
    c.send("crash 3")
    c.run("echo still here", 15)

@lab.test(1, timeout=60)
def slow(c):
    c.run("grow 1", 4)          # grow sleeps a minute; waited for 4 s

sys.exit(lab.main())
"""


def grade_hang_tests(args, res, tree):
    """grade_reports_hang, grade_reports_slow_not_hang: gradelib tells a
    deadlocked guest (each hart's pc and backtrace) from a slow one."""
    path = os.path.join(tree, "grade", "grade-hangprobe.py")
    with open(path, "w") as f:
        f.write(HANG_PROBE)
    try:
        out = subprocess.run([sys.executable, path, "--no-build"], cwd=tree,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, timeout=300 * args.timeout_scale).stdout
    except subprocess.TimeoutExpired:
        res.fail("grade_reports_hang", "the probe grader did not finish in 300 s")
        return
    parts = re.split(r"^(?=\w+: (?:OK|FAIL))", out, flags=re.M)
    dead = next((p for p in parts if p.startswith("deadlock: ")), "")
    slow = next((p for p in parts if p.startswith("slow: ")), "")
    want = ["deadlock: FAIL", "TIMED OUT", "hang: no console output", "crash_deadlock",
            "acquire"]
    missing = [w for w in want if w not in dead]
    res.check("grade_reports_hang", not missing and re.search(r"hart 1: pc 0x", dead),
              "missing %s in the report of a deadlocked guest: %r" % (missing, dead[:1500]))
    ok = "slow: FAIL" in slow and "TIMED OUT" in slow and "still running" in slow \
        and "hang:" not in slow
    res.check("grade_reports_slow_not_hang", ok,
              "a slow command should be reported as TIMED OUT and still running, "
              "not as a hang: %r" % slow[:1000])


def fault_tests(args, res, tmpdir, build):
    tree, p = build
    try:
        p.wait(BUILD_TIMEOUT * args.timeout_scale)
    except subprocess.TimeoutExpired:
        kill_process(p)
        for _, name, _ in CRASHES:
            res.fail(name, "the FAULT_INJECT build took more than %g s" % BUILD_TIMEOUT)
        return
    if p.returncode != 0:
        for _, name, _ in CRASHES:
            res.fail(name, "make KCFLAGS=-DFAULT_INJECT failed, see "
                     "tests/out/faultinject-build.log")
        return
    for how, name, check in CRASHES:
        try:
            check(crash_machine(args, tmpdir, tree, how), res)
        except MachineError as e:
            res.fail(name, e)
    grade_hang_tests(args, res, tree)


# ---- the group ------------------------------------------------------------------

def syscall_trace_test(res):
    """make syscall-trace follows one getpid() all the way round: user
    side, trap entry, dispatch, handler, return, in that order."""
    want = ["sys_getpid", "syscall", "ret_to_user", "getpid", "trap_entry_from_user",
            "user_trap", "syscall"]
    try:
        p = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "syscall_trace.py")],
                           cwd=REPO, capture_output=True, text=True, timeout=300)
        out = p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        res.fail("syscall_trace", "scripts/syscall_trace.py took over 300 s")
        return
    fns = re.findall(r"^(?:user|kernel)\s+(\w+)\s+\d+$", out, re.M)
    seen = iter(fns)
    in_order = all(any(f == w for f in seen) for w in want)
    total = re.search(r"^total (\d+) instructions: (\d+) in user mode", out, re.M)
    good = p.returncode == 0 and in_order and total and int(total.group(2)) > 0
    res.check("syscall_trace", good,
              "want %s in that order and a total with user instructions: %r"
              % (", ".join(want), out[-800:]))


def run(args, res, tmpdir):
    """Entry point for tests/run.py."""
    if args.qemu_cmd:
        print("# gdb group skipped: it needs the real QEMU, not --qemu-cmd", flush=True)
        return
    build = start_fault_build(tmpdir)   # compiles while gdb runs
    try:
        gdb = find_gdb()
        if gdb is None:
            res.fail("gdb_break_sys_exec", "no gdb-multiarch or riscv64 gdb installed")
        else:
            gdb_session(args, res, tmpdir, gdb)
            syscall_trace_test(res)
        fault_tests(args, res, tmpdir, build)
    finally:
        kill_process(build[1])
