#!/usr/bin/env python3
"""syscall_trace.py: `make syscall-trace`. Lists every instruction of one
null system call (getpid) as canopy runs it, grouped by function: the
user side of user/bench.c's loop, the trap entry, the dispatch, the
handler and the way back (docs/performance.md, "Where a null system
call's instructions go").

How: boots canopy headless with a gdb stub, has gdb stop in sys_getpid
while `bench` runs its getpid loop, then single-steps until sys_getpid
is reached again: one whole turn of the loop. (gdb steps by planting a
breakpoint where it predicts the next instruction, wrongly for ecall and
sret: at those the script stops at stvec or sepc instead.) Each pc is named with the kernel's
symbols or, below the kernel half, the symbols of user/_bench.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
from qemu import Machine, qemu_command, copy_image, start_with_gdb_stub  # noqa: E402
from gdb_test import find_gdb, write_gdbinit, kill_process  # noqa: E402

MAX_STEPS = int(os.environ.get("TRACE_STEPS", "5000"))
GDB_SCRIPT = r"""
break sys_getpid
echo @@waiting\n
continue
delete
python
import gdb
start = int(gdb.parse_and_eval("$pc"))
pcs = [start]
ECALL, SRET = 0x00000073, 0x10200073
for _ in range(%d):
    pc = int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff
    insn = int(gdb.parse_and_eval("*(unsigned int *)$pc")) & 0xffffffff
    # gdb steps RISC-V by a breakpoint at the next instruction it
    # predicts, which is wrong for a trap and a return from one: there,
    # stop where the hart will really go (stvec, sepc).
    target = {ECALL: "$stvec", SRET: "$sepc"}.get(insn)
    if target:
        gdb.execute("tbreak *(%%s & ~3)" %% target, to_string=True)
        gdb.execute("continue", to_string=True)
    else:
        gdb.execute("stepi", to_string=True)
    pc = int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff
    if pc == start:
        break
    pcs.append(pc)
print("@@pcs " + " ".join("%%x" %% p for p in pcs))
end
detach
""" % MAX_STEPS


def symbols(path):
    """Sorted [(address, name)] of the text symbols of an ELF file."""
    out = subprocess.run(["riscv64-unknown-elf-nm", "-n", path], capture_output=True,
                         text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tTW" and not f[2].startswith((".L", "$")):
            syms.append((int(f[0], 16), f[2]))
    return syms


def name_of(pc, syms):
    best = None
    for addr, name in syms:
        if addr > pc:
            break
        best = name
    return best or "?"


def group(pcs, ksyms, usyms):
    """[(side, function, instructions)] for runs of pcs in one function."""
    runs = []
    for pc in pcs:
        side = "kernel" if pc >= 1 << 63 else "user"
        fn = name_of(pc, ksyms if side == "kernel" else usyms)
        if runs and runs[-1][0] == side and runs[-1][1] == fn:
            runs[-1][2] += 1
        else:
            runs.append([side, fn, 1])
    return runs


def trace(cpus, mem, timeout):
    gdb = find_gdb()
    if gdb is None:
        sys.exit("syscall_trace: no gdb-multiarch (apt-get install gdb-multiarch)")
    tmp = tempfile.mkdtemp(prefix="canopy-trace-")
    img = copy_image(os.path.join(REPO, "fs.img"), tmp)
    cmd = qemu_command(img, cpus, mem)
    gdbinit, script = os.path.join(tmp, "gdbinit"), os.path.join(tmp, "script")
    with open(script, "w") as f:
        f.write(GDB_SCRIPT)
    m, port = start_with_gdb_stub(lambda port: Machine(
        cmd + ["-gdb", "tcp:127.0.0.1:%d" % port], os.path.join(tmp, "console.log")))
    write_gdbinit(gdbinit, port)
    g = None
    try:
        m.boot(timeout)
        g = subprocess.Popen([gdb, "-nx", "-q", "-batch", "-x", gdbinit, "-x", script],
                             cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        text = ""
        while "@@waiting" not in text:   # the breakpoint is set, the machine runs
            line = g.stdout.readline()
            if not line:
                sys.exit("syscall_trace: gdb ended early:\n" + text)
            text += line
        time.sleep(0.5)                  # gdb's continue reaches the stub
        m.send("bench")
        out, _ = g.communicate(timeout=timeout)
        found = re.search(r"^@@pcs (.*)$", out, re.M)
        if not found:
            sys.exit("syscall_trace: no trace from gdb:\n" + out[-2000:])
        return [int(x, 16) for x in found.group(1).split()]
    finally:
        kill_process(g)
        m.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cpus", default="1")
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    pcs = trace(args.cpus, args.mem, args.timeout)
    runs = group(pcs, symbols(os.path.join(REPO, "kernel", "kernel")),
                 symbols(os.path.join(REPO, "user", "_bench")))
    print("one getpid() of user/bench.c's loop, from sys_getpid to sys_getpid:")
    print("%-7s %-32s %s" % ("side", "function", "instructions"))
    for side, fn, n in runs:
        print("%-7s %-32s %5d" % (side, fn, n))
    user = sum(n for side, _, n in runs if side == "user")
    print("total %d instructions: %d in user mode, %d in the kernel"
          % (len(pcs), user, len(pcs) - user))


if __name__ == "__main__":
    main()
