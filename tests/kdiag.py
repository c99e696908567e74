"""kdiag.py: what a canopy that stopped answering is doing, read from the
outside through QEMU's monitor (tests/qemu.py, Monitor).

    d = Diagnosis(mon, kernel="kernel/kernel")
    text = d.report(quiet_seconds=12)   # "hang: ..." or "still running: ..."

A guest is called hung when its console printed nothing for a while and,
over a second of watching, neither the tick count (`ticks`) nor the sum of
the harts' context switches (`cpus[i].nr_switches`) moved. The report then
gives each hart's pc and a backtrace walked through the frame pointers
(the kernel is built with -fno-omit-frame-pointer: the return address is
at fp-8 and the caller's fp at fp-16), symbolized from kernel/kernel.sym.
Otherwise it says the guest was still making progress: a slow host or a
test that takes too long, not a deadlock. Standard library only; the
struct offsets come from the kernel's debug information through gdb, and
without gdb only the ticks are watched.
"""

import bisect
import os
import re
import subprocess
import time

KERNEL_BASE = 0xffffffc000000000    # PAGE_OFFSET: every kernel address is above


class Symbols:
    """The kernel's text symbols (nm -n output), for pc -> name+offset."""

    def __init__(self, sym_path):
        self.addrs, self.names = [], []
        self.data = {}
        if not os.path.exists(sym_path):
            return
        for line in open(sym_path):
            parts = line.split()
            if len(parts) != 3:
                continue
            addr, kind, name = int(parts[0], 16), parts[1], parts[2]
            self.data[name] = addr
            if kind in "tT":
                self.addrs.append(addr)
                self.names.append(name)

    def name(self, pc):
        i = bisect.bisect_right(self.addrs, pc) - 1
        if i < 0 or pc < KERNEL_BASE:
            return "user or firmware code" if pc < KERNEL_BASE else "?"
        return "%s+%#x" % (self.names[i], pc - self.addrs[i])


def struct_layout(kernel):
    """(sizeof(struct cpu), offsetof(struct cpu, nr_switches)) from the
    kernel's debug information, or None without gdb."""
    for gdb in ("gdb-multiarch", "riscv64-unknown-elf-gdb", "riscv64-elf-gdb"):
        try:
            out = subprocess.run([gdb, "-batch", "-nx", "-ex", "print sizeof(struct cpu)",
                                  "-ex", "print (long)&((struct cpu *)0)->nr_switches", kernel],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 universal_newlines=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        vals = re.findall(r"^\$\d+ = (\d+)$", out, re.M)
        if len(vals) == 2:
            return int(vals[0]), int(vals[1])
    return None


class Diagnosis:
    def __init__(self, mon, kernel, sym_path=None, ncpu=None):
        self.mon = mon
        self.syms = Symbols(sym_path or os.path.splitext(kernel)[0] + ".sym")
        self.layout = struct_layout(kernel)
        self.ncpu = ncpu

    def progress(self):
        """(ticks, context switches summed over the harts, or None)."""
        ticks = self.mon.read_u64(self.syms.data["ticks"]) if "ticks" in self.syms.data else None
        switches = None
        if self.layout and "cpus" in self.syms.data and self.ncpu:
            size, off = self.layout
            vals = [self.mon.read_u64(self.syms.data["cpus"] + i * size + off)
                    for i in range(self.ncpu)]
            if None not in vals:
                switches = sum(vals)
        return ticks, switches

    def backtrace(self, cpu, regs, depth=16):
        """Symbolized frames of hart cpu, innermost first."""
        frames = [regs.get("pc", 0)]
        fp = regs.get("s0", 0)
        while len(frames) < depth and fp >= KERNEL_BASE and fp % 8 == 0:
            ra = self.mon.read_u64(fp - 8, cpu)
            prev = self.mon.read_u64(fp - 16, cpu)
            if ra is None or ra < KERNEL_BASE:
                break
            frames.append(ra)
            if prev is None or prev <= fp:
                break
            fp = prev
        return ["#%d %#x %s" % (i, pc, self.syms.name(pc)) for i, pc in enumerate(frames)]

    def report(self, quiet_seconds, watch=1.0):
        """A few lines: hang (with every hart's pc and backtrace) or still
        running (with how far it got while watched)."""
        before = self.progress()
        time.sleep(watch)
        after = self.progress()
        moved = [b != a for b, a in zip(before, after) if b is not None and a is not None]
        if not moved:
            return ("no progress information (kernel symbols unreadable); console quiet "
                    "for %.0f s" % quiet_seconds)
        if any(moved):
            what = "ticks %s -> %s, context switches %s -> %s" % (before[0], after[0],
                                                                 before[1], after[1])
            return ("still running, not hung (%s over %.0f s; console quiet for %.0f s): "
                    "a slow host or a test that takes too long" % (what, watch, quiet_seconds))
        lines = ["hang: no console output for %.0f s, and over %.0f s ticks stayed at %s "
                 "and context switches at %s" % (quiet_seconds, watch, after[0], after[1])]
        for cpu, regs in enumerate(self.mon.registers_all()):
            lines.append("hart %d: pc %#x %s" % (cpu, regs.get("pc", 0),
                                                   self.syms.name(regs.get("pc", 0))))
            lines += ["    " + f for f in self.backtrace(cpu, regs)[1:]]
        return "\n".join(lines)
