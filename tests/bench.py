#!/usr/bin/env python3
"""bench.py: `make bench`. Boots canopy headless, runs the user program
`bench` (user/bench.c) and prints its per-operation costs, the boot time
and the kernel counters. Numbers depend on the host: compare runs made on
the same machine, before and after a change."""
import argparse
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cpus", default="3")
    p.add_argument("--mem", default="128M")
    p.add_argument("--runs", type=int, default=1, help="run bench this many times")
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="canopy-bench-")
    img = qemu.copy_image(os.path.join(qemu.REPO, "fs.img"), tmp)
    m = qemu.Machine(qemu.qemu_command(img, args.cpus, args.mem),
                     os.path.join(tmp, "console.log"))
    try:
        print("boot to prompt: %.2f s (%s harts, %s)" % (m.boot(60), args.cpus, args.mem))
        for _ in range(args.runs):
            out = m.run("bench", timeout=300)
            for line in re.findall(r"^bench .*$", out, re.M):
                print(line)
        print(m.run("kstat", timeout=30).strip())
        m.poweroff(10)
    finally:
        m.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
