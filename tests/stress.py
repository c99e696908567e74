#!/usr/bin/env python3
"""stress.py: the concurrency stress run (make stress SECS=t [CPUS=8];
a short one in make test). docs/robustness.md.

Boots canopy (8 harts by default) and runs `stress SECS` (user/stress.c):
workers mixing fork/exec/exit, fork trees, pipes, file I/O, sbrk, and the
kernel-thread and lazy-sync self-tests, for SECS seconds. Pass: no kernel
panic; the run ends (a watchdog: SECS plus a generous margin, else it is
reported as a deadlock, with the console's tail); stress prints
"stress: OK" (every worker succeeded, free pages and tasks back at their
starting counts); and the shell still answers afterwards.
"""

import argparse
import os
import re
import sys
import tempfile
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import (REPO, Machine, KernelPanic, Timeout, QemuExited,  # noqa: E402
                  qemu_command, copy_image, kill_all)

OUT = os.path.join(REPO, "tests", "out")


def stress(fsimg, cpus, mem, secs, scale, tmpdir, kernel=None, name="stress"):
    """Run one stress round. Returns (ok, message, console tail)."""
    img = copy_image(fsimg, tmpdir)
    m = Machine(qemu_command(img, cpus, mem), os.path.join(OUT, "console-%s.log" % name), scale)
    if kernel:
        m.cmd[m.cmd.index("-kernel") + 1] = kernel
    try:
        m.boot(60)
        start = len(m.text)
        m.send("stress %d" % secs)
        try:
            r = m.expect(r"stress: (OK|FAIL[^\n]*)\n", secs + 240,
                         what="stress to finish (a deadlock?)")
        except Timeout as e:
            return False, "watchdog: %s" % e, m.tail(30)
        out = m.text[start:]
        m.expect(r"\$ ", 30)
        echo = m.run("echo alive", 30)
        if "alive" not in echo:
            return False, "shell does not answer after the run", m.tail(20)
        m.poweroff(30)
        m.check_panic()
        counts = re.findall(r"worker \d+ (\w+): (\d+) iterations", out)
        after = re.search(r"stress: after: [^\n]*", out)
        summary = "%s; %s" % (", ".join("%s %s" % c for c in counts),
                              after.group(0) if after else "")
        return r.group(1) == "OK", summary, out[-1500:]
    except KernelPanic as e:
        return False, str(e), m.tail(40)
    except (Timeout, QemuExited) as e:
        return False, str(e), m.tail(20)
    finally:
        m.kill()
        os.unlink(img)


def run(args, res, tmpdir, secs=20):
    """make test's short run: the main machine's harts (3), 256M, secs
    seconds. run.py's debug group adds an 8-hart round under the lock
    checker (run_debug_stress)."""
    ok, msg, tail = stress(args.fsimg, args.cpus, "256M", secs, args.timeout_scale, tmpdir)
    res.check("stress_%sharts_%ds" % (args.cpus, secs), ok, msg + ("" if ok else "\n" + tail))
    if ok:
        print("    " + msg)


def main():
    p = argparse.ArgumentParser(description="8-hart stress run.")
    p.add_argument("--secs", type=int, default=60)
    p.add_argument("--cpus", default="8")
    p.add_argument("--mem", default="512M")
    p.add_argument("--kernel", default=None, help="another kernel image (e.g. a -DDEBUG build)")
    p.add_argument("--timeout-scale", type=float, default=1.0)
    p.add_argument("--fsimg", default=os.path.join(REPO, "fs.img"))
    args = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    tmpdir = tempfile.mkdtemp(prefix="canopy-stress-")
    try:
        ok, msg, tail = stress(args.fsimg, args.cpus, args.mem, args.secs,
                               args.timeout_scale, tmpdir, args.kernel)
    finally:
        kill_all()
        shutil.rmtree(tmpdir, ignore_errors=True)
    print("stress (%s harts, %d s): %s (%s)" % (args.cpus, args.secs, "OK" if ok else "FAIL", msg))
    if not ok:
        print(tail)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
