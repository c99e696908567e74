#!/usr/bin/env python3
"""fuzz.py: run user/fuzz on a fresh canopy machine and judge it (make fuzz).

    python3 tests/fuzz.py --seed 1234 --calls 100000 [--cpus 3] [--workers 4]

A round boots QEMU on a copy of fs.img and types `fuzz -p WORKERS SEED N`
(the seed in hex). It passes when fuzz prints its final line with OK: no
kernel panic, every task it made reaped, and the kernel's counts of free
pages, mms, tasks, open files, inodes and vmalloc areas back where they
started (user/fuzz.c checks them). A watchdog here fails the round as a
hang if the console shows no progress for --hang-secs.

On a failure it prints the seed, then, unless --no-minimize, looks for the
shortest call sequence that still fails:

 1. the same seed again with -v, so each worker logs its calls
    ("F tag num a0..a5 fill");
 2. the calls of one tag (the one that logged last before a panic or hang,
    or each tag in turn for a leak) are written to a file `replay` on a new
    disk image and replayed alone with `fuzz -r replay` on a new machine;
 3. a sequence that fails alone is shrunk by delta debugging (ddmin): drop
    chunks of calls, keep any smaller sequence that still fails the same
    way, until no single call can go.

It prints the sequence as the lines of a replay file and the command that
replays it. Exit status 0 if the round passed.

Used by tests/run.py (group fuzz): a short round with a fixed seed.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import (REPO, Machine, KernelPanic, Timeout, QemuExited,  # noqa: E402
                  qemu_command, copy_image, kill_all)

OUT = os.path.join(REPO, "tests", "out")
BOOT_TIMEOUT = 60
RESULT = re.compile(r"(?m)^(fuzz|replay): .*: (OK|FAILED)$", re.M)
CALL = re.compile(r"^F ([0-9a-f]+) ((?:[0-9a-f]+ ){7}[0-9a-f]+)$", re.M)
MAX_FLAT = 15000


class Verdict:
    """What one run of fuzz showed: kind is "ok", "panic", "hang", "leak"
    or "error"; detail says more."""

    def __init__(self, kind, detail, text=""):
        self.kind = kind
        self.detail = detail
        self.text = text

    def failed(self):
        return self.kind != "ok"

    def __str__(self):
        return "%s: %s" % (self.kind, self.detail)


def run_on_machine(img, command, args, name, hang_secs):
    """Boot a machine on disk image img, type command, and judge it. The
    console goes to tests/out/console-<name>.log."""
    log = os.path.join(OUT, "console-%s.log" % name)
    m = Machine(qemu_command(img, args.cpus, args.mem), log, args.timeout_scale)
    try:
        try:
            m.boot(BOOT_TIMEOUT)
        except (Timeout, QemuExited) as e:
            return Verdict("error", "did not boot: %s" % e)
        m.send(command)
        last_len, last_change = 0, time.monotonic()
        limit = hang_secs * args.timeout_scale
        while True:
            try:
                found = m.expect(RESULT.pattern, 2)
                m.expect(r"\$ ", 30, what="the prompt after fuzz")
                text = m.text
                if found.group(2) == "OK":
                    return Verdict("ok", found.group(0), text)
                leaks = re.findall(r"^\w+: (?:LEAK .*|\d+ tasks still alive.*)$", text, re.M)
                return Verdict("leak", "; ".join(leaks) or found.group(0), text)
            except KernelPanic as e:
                time.sleep(1)       # let the backtrace reach the log
                return Verdict("panic", str(e), m.text)
            except QemuExited as e:
                return Verdict("error", str(e), m.text)
            except Timeout:
                n = len(m.text)
                if n != last_len:
                    last_len, last_change = n, time.monotonic()
                elif time.monotonic() - last_change > limit:
                    # ^P: the kernel lists its tasks, for the log.
                    try:
                        m.proc.stdin.write(b"\x10")
                        m.proc.stdin.flush()
                        time.sleep(2)
                    except OSError:
                        pass
                    return Verdict("hang", "no console output for %g s (fuzz still running; "
                                   "^P's task list is in %s)" % (limit, os.path.relpath(log, REPO)),
                                   m.text)
    finally:
        m.kill()


def fuzz_round(args, seed, calls, verbose=False, name="fuzz"):
    """One round of fuzz on a fresh copy of fs.img."""
    with tempfile.TemporaryDirectory(prefix="canopy-fuzz-") as tmp:
        img = copy_image(args.fsimg, tmp)
        cmd = "fuzz %s-p %d %x %d" % ("-v " if verbose else "", args.workers, seed, calls)
        return run_on_machine(img, cmd, args, name, args.hang_secs)


def image_with(tmp, files):
    """A disk image with the usual programs plus files ({name: text})."""
    img = os.path.join(tmp, "fuzz.img")
    extra = []
    for name, text in files.items():
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        extra.append("%s=%s" % (name, path))
    progs = sorted(glob.glob(os.path.join(REPO, "user", "_*")))
    subprocess.run([os.path.join(REPO, "mkfs", "mkfs"), img, "README.md",
                    "README=README.md"] + progs + extra, cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return img


def replay(args, calls, name="fuzz-replay"):
    """Replay calls (lines "F tag ...") alone on a new machine."""
    per_file = 2500                    # a file holds at most 268 KiB
    files = {}
    for i in range(0, len(calls), per_file):
        files["replay%d" % (i // per_file)] = "".join(c + "\n" for c in calls[i:i + per_file])
    with tempfile.TemporaryDirectory(prefix="canopy-replay-") as tmp:
        img = image_with(tmp, files)
        return run_on_machine(img, "fuzz -r " + " ".join(sorted(files, key=lambda f: int(f[6:]))),
                              args, name, args.hang_secs)


def same_failure(a, b):
    return a.kind == b.kind


def ddmin(items, fails, budget=200):
    """Delta debugging: a 1-minimal sublist of items for which fails(list)
    is true (fails(items) must be). Stops early after budget tests and
    returns the smallest failing list found."""
    n = 2
    tests = 0
    while len(items) >= 2 and tests < budget:
        size = (len(items) + n - 1) // n
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        reduced = False
        for i in range(len(chunks)):
            complement = [x for j, c in enumerate(chunks) if j != i for x in c]
            for candidate in (chunks[i], complement):
                if not candidate or len(candidate) == len(items):
                    continue
                tests += 1
                if fails(candidate):
                    items = candidate
                    n = 2 if candidate is chunks[i] else max(n - 1, 2)
                    reduced = True
                    break
                if tests >= budget:
                    return items
            if reduced:
                break
        if not reduced:
            if n >= len(items):
                break
            n = min(n * 2, len(items))
    return items


def calls_by_tag(text):
    """The logged calls of a verbose run: {tag: [line, ...]} in log order,
    and the tags ordered by their last line (latest first)."""
    tags, last = {}, {}
    for i, m in enumerate(CALL.finditer(text)):
        tags.setdefault(m.group(1), []).append(m.group(0))
        last[m.group(1)] = i
    return tags, sorted(tags, key=lambda t: -last[t])


def minimize(args, seed, first):
    """Find and print the shortest call sequence that fails like first."""
    print("# minimizing: the same seed with each call logged (fuzz -v)", flush=True)
    verbose = fuzz_round(args, seed, args.calls, verbose=True, name="fuzz-verbose")
    print("# verbose run: %s" % verbose, flush=True)
    if not verbose.failed():
        print("# the verbose run passed: not reproduced (timing-dependent); "
              "console of the failing run: tests/out/console-fuzz-failed.log")
        return None
    tags, order = calls_by_tag(verbose.text)
    # At most the last MAX_FLAT calls: they must fit on the disk.
    everything = [m.group(0) for m in CALL.finditer(verbose.text)][-MAX_FLAT:]
    # Candidates: the process that logged last (a panic's or hang's
    # suspect), then every call in log order made by one process, then
    # each process's calls alone.
    candidates = []
    if verbose.kind in ("panic", "hang") and order:
        candidates.append(("tag %s" % order[0], tags[order[0]]))
    candidates.append(("all %d calls in log order" % len(everything), everything))
    candidates += [("tag %s" % t, tags[t]) for t in order[1:args.max_tags]]
    sequence = None
    for what, calls in candidates:
        print("# replaying %s alone (%d calls)" % (what, len(calls)), flush=True)
        v = replay(args, calls)
        print("#   %s" % v, flush=True)
        if same_failure(v, verbose):
            sequence = calls
            break
    if sequence is None:
        print("# no single process's calls fail alone; the full log is in "
              "tests/out/console-fuzz-verbose.log")
        return None
    count = [0]

    def fails(candidate):
        count[0] += 1
        v = replay(args, candidate, name="fuzz-ddmin")
        print("#   ddmin test %d: %d calls: %s" % (count[0], len(candidate), v.kind), flush=True)
        return same_failure(v, verbose)

    # A panic's culprit is usually the last call: try it alone first.
    if len(sequence) > 1 and fails(sequence[-1:]):
        sequence = sequence[-1:]
    sequence = ddmin(sequence, fails, args.ddmin_budget)
    print("shortest sequence found (%d calls; F tag num a0 a1 a2 a3 a4 a5 fill, hex):"
          % len(sequence))
    for c in sequence:
        print("  " + c)
    print("replay it: put these lines in a file on the disk and run `fuzz -r FILE`")
    return sequence


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Fuzz canopy's system calls.")
    p.add_argument("--seed", type=lambda s: int(s, 0), default=1, help="seed (default 1)")
    p.add_argument("--calls", type=int, default=20000, help="calls to make (default 20000)")
    p.add_argument("--cpus", default="3", help="harts (default 3)")
    p.add_argument("--mem", default="128M", help="memory (default 128M)")
    p.add_argument("--workers", type=int, default=4, help="worker processes at a time")
    p.add_argument("--hang-secs", type=float, default=120,
                   help="no console output for this long is a hang (default 120)")
    p.add_argument("--timeout-scale", type=float, default=1.0)
    p.add_argument("--fsimg", default=os.path.join(REPO, "fs.img"))
    p.add_argument("--no-minimize", action="store_true", help="report the seed only")
    p.add_argument("--max-tags", type=int, default=8,
                   help="processes whose calls to replay alone (default 8)")
    p.add_argument("--ddmin-budget", type=int, default=150,
                   help="at most this many replays while shrinking (default 150)")
    return p.parse_args(argv)


def main():
    args = parse_args()
    os.makedirs(OUT, exist_ok=True)
    t0 = time.monotonic()
    try:
        v = fuzz_round(args, args.seed, args.calls)
        secs = time.monotonic() - t0
        if not v.failed():
            print(v.detail)
            print("fuzz passed: seed %#x, %d calls asked, %d harts, %.0f s"
                  % (args.seed, args.calls, int(args.cpus), secs))
            return 0
        print("fuzz FAILED: seed %#x (%s)" % (args.seed, v))
        print("reproduce: make fuzz SEED=%#x N=%d CPUS=%s" % (args.seed, args.calls, args.cpus))
        # Keep the failing run's console (a hang's ^P task list, a panic's
        # backtrace): the runs below write their own logs.
        failed_log = os.path.join(OUT, "console-fuzz-failed.log")
        shutil.copyfile(os.path.join(OUT, "console-fuzz.log"), failed_log)
        print("console of the failing run: %s" % os.path.relpath(failed_log, REPO))
        if not args.no_minimize:
            minimize(args, args.seed, v)
        return 1
    except KeyboardInterrupt:
        return 1
    finally:
        kill_all()


if __name__ == "__main__":
    sys.exit(main())
