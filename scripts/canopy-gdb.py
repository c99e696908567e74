# canopy-gdb.py: gdb commands that know canopy's page tables and tasks.
# Loaded by the .gdbinit that `make qemu-gdb` writes; see docs/debugging.md.
#
#   ptdump [pid]     the page table in satp (or of process pid), in the
#                    format of the kernel's ptdump (docs/ptdump.md)
#   ptdump --html F  every root, the template and the harts drawn as one
#                    page F (scripts/ptview.py renders it; make ptview)
#   kpt              the root entries of kernel_pagetable, the template
#   procs            every task in proc[] and idle_tasks[]
#   va2pa ADDR [pid] walk the page table in satp (or pid's), level by level
#   uprog NAME       load user/_NAME's symbols (text at 0): break main
#
# Memory is read by physical address (QEMU's gdb stub can do that, see
# phys_mode below), so the commands work whatever the hart is doing: in
# user mode, where the kernel half cannot be read through satp, or still
# in the boot code with the MMU off. Kernel pointers are direct-map
# addresses (pa + PAGE_OFFSET) and are translated by arithmetic.

import os
import struct

import gdb

PAGE_OFFSET = 0xFFFFFFC000000000
VMALLOC_START = 0xFFFFFFD000000000
VMALLOC_END = 0xFFFFFFE000000000
KERNEL_PGD_FIRST = 256
VMALLOC_PGD_FIRST = 320
VMALLOC_PGD_LAST = 383
PGSIZE = 4096
MASK64 = (1 << 64) - 1

# Sv39 PTE bits
PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G, PTE_A, PTE_D = (1 << i for i in range(8))
LEVEL_NAMES = {2: "pgd", 1: "pmd", 0: "pte"}
SATP_SV39 = 8


class CanopyError(Exception):
    """A condition the user should read about, e.g. paging still off."""


# ---- reading the machine ------------------------------------------------------

def pte_present(pte):
    return pte & PTE_V != 0


def pte_leaf(pte):
    return pte & (PTE_R | PTE_W | PTE_X) != 0


def pte_pa(pte):
    return (pte >> 10) << 12


def px(level, va):
    """The index of va in a table of the given level (2 = root)."""
    return (va >> (12 + 9 * level)) & 0x1FF


def perm_string(pte):
    """rwxug, as kernel/ptdump.c prints it."""
    return "".join(c if pte & bit else "-" for c, bit in
                   (("r", PTE_R), ("w", PTE_W), ("x", PTE_X), ("u", PTE_U), ("g", PTE_G)))


def flag_string(pte):
    """All eight flag bits, for va2pa: vrwxugad."""
    return "".join(c if pte & (1 << i) else "-" for i, c in enumerate("vrwxugad"))


def hexa(x):
    """An address the way the kernel's %p prints it."""
    return "0x%016x" % (x & MASK64)


_phys_ok = None


def check_connected():
    inf = gdb.selected_inferior()
    if inf is None or inf.pid == 0 or not inf.threads():
        raise CanopyError("not connected to QEMU: start it with `make qemu-gdb`, "
                          "then `make gdb` (or target remote 127.0.0.1:PORT)")


def phys_mode(on):
    """Switch QEMU's gdb stub between physical and virtual memory access.
    Returns False if the stub does not know the packet (not QEMU)."""
    out = gdb.execute("maintenance packet Qqemu.PhyMemMode:%d" % (1 if on else 0),
                      to_string=True)
    return '"OK"' in out


def read_phys(pa, size):
    """size bytes at physical address pa."""
    global _phys_ok
    inf = gdb.selected_inferior()
    if _phys_ok is None:
        _phys_ok = phys_mode(False)
    if not _phys_ok:
        # Not QEMU: fall back on the direct map through the current satp.
        return bytes(inf.read_memory(pa + PAGE_OFFSET, size))
    phys_mode(True)
    try:
        return bytes(inf.read_memory(pa, size))
    except gdb.MemoryError:
        raise CanopyError("cannot read physical memory at %s" % hexa(pa))
    finally:
        phys_mode(False)


def read_table(pa):
    """The 512 entries of the page-table page at physical address pa."""
    return struct.unpack("<512Q", read_phys(pa, PGSIZE))


def walk(root_pa, va):
    """Walk va down from the root at root_pa. Returns a list of steps
    (level, index, entry, physical address of the entry); the last step is
    a leaf, or an invalid entry."""
    steps = []
    table = root_pa
    for level in (2, 1, 0):
        idx = px(level, va)
        entry_pa = table + 8 * idx
        pte = struct.unpack("<Q", read_phys(entry_pa, 8))[0]
        steps.append((level, idx, pte, entry_pa))
        if not pte_present(pte) or pte_leaf(pte):
            break
        table = pte_pa(pte)
    return steps


def leaf_pa(steps, va):
    """The physical address va translates to, or None."""
    level, _, pte, _ = steps[-1]
    if not pte_present(pte) or not pte_leaf(pte):
        return None
    span = 1 << (12 + 9 * level)   # 4 KiB, 2 MiB or 1 GiB
    return pte_pa(pte) + (va & (span - 1))


def kernel_symbol_address(name):
    """The link address of kernel symbol name, and its gdb.Symbol (None
    for an assembler label such as early_pgd). Always the direct-map
    address, never the physical copy that .gdbinit loads for the boot code."""
    for objfile in gdb.objfiles():
        sym = objfile.lookup_global_symbol(name) or objfile.lookup_static_symbol(name)
        if sym is not None:
            addr = int(sym.value().address) & MASK64
            if addr >= PAGE_OFFSET:
                return addr, sym
    try:   # a label has no debug information, only an ELF symbol
        addr = int(gdb.parse_and_eval("(unsigned long)&'%s'" % name)) & MASK64
    except gdb.error:
        raise CanopyError("no kernel symbol %s: is kernel/kernel loaded (symbol-file)?" % name)
    return (addr if addr >= PAGE_OFFSET else addr + PAGE_OFFSET), None


def kva_to_pa(va):
    """Physical address of a kernel virtual address: arithmetic in the
    direct map, a walk of kernel_pagetable in the vmalloc area."""
    if PAGE_OFFSET <= va < VMALLOC_START:
        return va - PAGE_OFFSET
    if VMALLOC_START <= va < VMALLOC_END:
        pa = leaf_pa(walk(template_pa(), va), va)
        if pa is not None:
            return pa
    raise CanopyError("kernel address %s is not mapped" % hexa(va))


def read_kernel(va, size):
    return read_phys(kva_to_pa(va), size)


def load(va, type_name):
    """The kernel object of type type_name at kernel address va, as a
    gdb.Value read by physical address."""
    t = gdb.lookup_type(type_name)
    return gdb.Value(read_kernel(va, t.sizeof), t)


def read_u64(va):
    return struct.unpack("<Q", read_kernel(va, 8))[0]


def template_pa():
    """Physical address of kernel_pagetable's root page."""
    addr, _ = kernel_symbol_address("kernel_pagetable")
    root = read_u64(addr)
    if root == 0:
        raise CanopyError("kernel_pagetable is not built yet (kvminit has not run): "
                          "continue past kvminit, e.g. `break mm_init`")
    return root - PAGE_OFFSET


def read_satp():
    """satp of the selected hart, checked to hold an Sv39 root."""
    satp = int(gdb.parse_and_eval("$satp")) & MASK64
    if satp >> 60 == 0:
        raise CanopyError("paging is off on this hart (satp = 0): it is still in "
                          "the boot code before entry.S's `csrw satp`, and addresses "
                          "are physical. Continue to start_kernel, then retry")
    if satp >> 60 != SATP_SV39:
        raise CanopyError("satp = %s is not an Sv39 root" % hexa(satp))
    return satp


def satp_root_pa(satp):
    return (satp & ((1 << 44) - 1)) << 12


def to_int(expr):
    """An address from a gdb expression: a number, $pc, a symbol..."""
    v = gdb.parse_and_eval(expr)
    if v.type.strip_typedefs().code == gdb.TYPE_CODE_FUNC:
        v = v.address
    return int(v) & MASK64


# ---- tasks ----------------------------------------------------------------------

def c_string(value):
    data = bytes(int(c) & 0xFF for c in (value[i] for i in range(value.type.sizeof)))
    return data.split(b"\0", 1)[0].decode("ascii", "replace")


def task_array(name):
    """(kernel address, element count) of the array proc or idle_tasks."""
    addr, sym = kernel_symbol_address(name)
    lo, hi = sym.type.strip_typedefs().range()
    return addr, hi - lo + 1


def all_tasks():
    """Every task in use, as (address, struct proc value): proc[] first,
    then the idle tasks."""
    size = gdb.lookup_type("struct proc").sizeof
    tasks = []
    for array in ("proc", "idle_tasks"):
        base, n = task_array(array)
        for i in range(n):
            p = load(base + i * size, "struct proc")
            if str(p["state"]) != "UNUSED" or c_string(p["name"]):
                tasks.append((base + i * size, p))
    return tasks


def task_name(p):
    """The name as ps prints it: kernel threads (no mm) in brackets."""
    name = c_string(p["name"])
    return name if int(p["mm"]) else "[%s]" % name


def find_task(pid):
    for addr, p in all_tasks():
        if int(p["pid"]) == pid and str(p["state"]) != "UNUSED":
            return addr, p
    raise CanopyError("no task with pid %d" % pid)


def load_mm(ptr):
    return load(int(ptr) & MASK64, "struct mm") if int(ptr) else None


def describe_root(root_pa):
    """Who owns the root page at root_pa: a string for headers."""
    try:
        if root_pa == template_pa():
            return "kernel_pagetable (the template)"
    except CanopyError:
        pass
    early, _ = kernel_symbol_address("early_pgd")
    if root_pa == early - PAGE_OFFSET:
        return "early_pgd (the boot page table)"
    for _, p in all_tasks():
        mm = load_mm(p["mm"])
        if mm is not None and (int(mm["pgd"]) & MASK64) - PAGE_OFFSET == root_pa:
            return "pid %d (%s), mm %d" % (int(p["pid"]), c_string(p["name"]), int(mm["id"]))
    for _, p in all_tasks():
        mm = load_mm(p["active_mm"])
        if mm is not None and (int(mm["pgd"]) & MASK64) - PAGE_OFFSET == root_pa:
            return "mm %d (no task owns it any more; borrowed)" % int(mm["id"])
    return "a root no task owns"


def hart_name():
    """The selected hart: QEMU shows hart N as gdb thread N+1."""
    return "hart %d" % (gdb.selected_thread().ptid[1] - 1)


def current_task_addr():
    """The task running on the selected hart (tp in the kernel), or None
    in user mode or at boot, when tp is something else."""
    try:
        priv = int(gdb.parse_and_eval("$priv"))
    except gdb.error:
        priv = 1
    tp = int(gdb.parse_and_eval("$tp")) & MASK64
    if priv == 0:
        tp = int(gdb.parse_and_eval("$sscratch")) & MASK64
    return tp if tp >= PAGE_OFFSET else None


# ---- ptdump ---------------------------------------------------------------------

def region_name(i):
    if i < VMALLOC_PGD_FIRST:
        return "direct map"
    return "vmalloc" if i <= VMALLOC_PGD_LAST else "reserved"


class Totals:
    def __init__(self):
        self.pages = self.tables = self.shared = self.unsynced = self.differs = 0


def print_leaf(prefix, va, pte, level, t):
    size = {2: " (1 GiB page)", 1: " (2 MiB page)", 0: ""}[level]
    print("%s va %s -> pa %s %s%s" % (prefix, hexa(va), hexa(pte_pa(pte)),
                                       perm_string(pte), size))
    t.pages += 1


def dump_user_entry(i, root_pte, t):
    """The user part below root entry i, as kernel/ptdump.c prints it."""
    if pte_leaf(root_pte):
        print_leaf(" %3d:" % i, i << 30, root_pte, 2, t)
        return
    print(" %3d: pmd %s" % (i, hexa(pte_pa(root_pte))))
    t.tables += 1
    pmd = read_table(pte_pa(root_pte))
    for j, e in enumerate(pmd):
        if not pte_present(e):
            continue
        if pte_leaf(e):
            print_leaf(" %3d: .. %3d:" % (i, j), (i << 30) | (j << 21), e, 1, t)
            continue
        print(" %3d: .. %3d: pte %s" % (i, j, hexa(pte_pa(e))))
        t.tables += 1
        for k, leaf in enumerate(read_table(pte_pa(e))):
            if pte_present(leaf):
                va = (i << 30) | (j << 21) | (k << 12)
                print_leaf(" %3d: .. %3d: .. %3d:" % (i, j, k), va, leaf, 0, t)


def dump_kernel_entry(i, mine, tmpl, t):
    if mine == tmpl:
        what = "shared"
        t.shared += 1
    elif not pte_present(mine):
        what = "not yet synced"
        t.unsynced += 1
    else:
        what = "DIFFERS from the template (bug)"
        t.differs += 1
    shown = mine if pte_present(mine) else tmpl
    print(" %3d: %s, %s, pmd %s" % (i, region_name(i), what, hexa(pte_pa(shown))))


def dump_pgd(root_pa):
    pgd = read_table(root_pa)
    try:
        tmpl = read_table(template_pa())
    except CanopyError as e:
        tmpl = None   # at boot, before kvminit: nothing to compare with
        print("(%s)" % e)
    t = Totals()
    print("user half (entries 0-255):")
    for i in range(KERNEL_PGD_FIRST):
        if pte_present(pgd[i]):
            dump_user_entry(i, pgd[i], t)
    print("kernel half (entries 256-511):")
    for i in range(KERNEL_PGD_FIRST, 512):
        if tmpl is None:
            if pte_present(pgd[i]):
                leaf = " (1 GiB page)" if pte_leaf(pgd[i]) else ""
                print(" %3d: %s, pmd %s%s" % (i, region_name(i), hexa(pte_pa(pgd[i])), leaf))
        elif pte_present(pgd[i]) or pte_present(tmpl[i]):
            dump_kernel_entry(i, pgd[i], tmpl[i], t)
    if tmpl is None:
        print("summary: %d user pages, %d user page-table pages, kernel half not compared"
              % (t.pages, t.tables))
        return
    print("summary: %d user pages, %d user page-table pages, %d kernel entries shared, "
          "%d not yet synced, %d differ" % (t.pages, t.tables, t.shared, t.unsynced, t.differs))


class CanopyCommand(gdb.Command):
    """Base: runs self.run(arg) and turns expected problems into one line."""

    def invoke(self, arg, from_tty):
        try:
            check_connected()
            self.run(arg.strip())
        except CanopyError as e:
            print("%s: %s" % (self._name, e))
        except gdb.MemoryError as e:
            print("%s: cannot read memory (%s)" % (self._name, e))

    def __init__(self, name):
        self._name = name
        super().__init__(name, gdb.COMMAND_DATA)


class PtdumpCommand(CanopyCommand):
    """ptdump [PID]: print the page table in satp (of the selected hart), or
of process PID, as the kernel's ptdump does (docs/ptdump.md). The kernel
half is compared with kernel_pagetable: each root entry is `shared`, `not
yet synced` (a lazy vmalloc sync will copy it) or DIFFERS (a bug).
ptdump --html FILE [--json FILE]: draw every root of the machine, the
template and the harts as one page (scripts/ptview.py, docs/ptview.md)."""

    def __init__(self):
        super().__init__("ptdump")

    def run(self, arg):
        args = gdb.string_to_argv(arg)
        if args and args[0] == "--html":
            if len(args) not in (2, 4) or (len(args) == 4 and args[2] != "--json"):
                raise CanopyError("usage: ptdump --html FILE [--json FILE]")
            write_ptview(args[1], args[3] if len(args) == 4 else None)
            return
        if arg:
            pid = int(gdb.parse_and_eval(arg))
            _, p = find_task(pid)
            mm = load_mm(p["mm"])
            if mm is None:
                raise CanopyError("pid %d (%s) is a kernel thread: it has no page table "
                                  "of its own" % (pid, task_name(p)))
            root = (int(mm["pgd"]) & MASK64) - PAGE_OFFSET
            print("page table of pid %d (%s), mm %d, pgd at pa %s"
                  % (pid, c_string(p["name"]), int(mm["id"]), hexa(root)))
        else:
            root = satp_root_pa(read_satp())
            print("page table in satp of %s: %s, pgd at pa %s"
                  % (hart_name(), describe_root(root), hexa(root)))
        dump_pgd(root)


class KptCommand(CanopyCommand):
    """kpt: print the root entries of kernel_pagetable, the template every
process root copies its kernel half from (like `ptdump -k`)."""

    def __init__(self):
        super().__init__("kpt")

    def run(self, arg):
        root = template_pa()
        print("kernel_pagetable (the template), pgd at pa %s" % hexa(root))
        for i, e in enumerate(read_table(root)):
            if i >= KERNEL_PGD_FIRST and pte_present(e):
                print(" %3d: %s, pmd %s" % (i, region_name(i), hexa(pte_pa(e))))


class ProcsCommand(CanopyCommand):
    """procs: list every task in proc[] and idle_tasks[]: pid, state, the
hart it runs on (or last ran on), name (kernel threads in brackets), the
ids of mm and active_mm, and active_mm's mm_users/mm_count. `*` marks the
task running on each hart, `>` the one on the hart gdb has selected."""

    def __init__(self):
        super().__init__("procs")

    def run(self, arg):
        tasks = all_tasks()
        if not tasks:
            raise CanopyError("no tasks yet: the kernel has not created any (still booting)")
        current = current_task_addr()
        print("   %4s %-9s %4s %-16s %4s %9s %11s" % ("pid", "state", "hart", "name", "mm",
                                                   "active_mm", "users/count"))
        for addr, p in tasks:
            mm = load_mm(p["mm"])
            active = load_mm(p["active_mm"])
            hart = "-"
            if int(p["cpu"]):
                hart = str(int(load(int(p["cpu"]) & MASK64, "struct cpu")["hartid"]))
            counts = "-"
            if active is not None:
                counts = "%d/%d" % (int(active["mm_users"]), int(active["mm_count"]))
            mark = ">" if addr == current else "*" if str(p["state"]) == "RUNNING" else " "
            print(" %s %4d %-9s %4s %-16s %4s %9s %11s"
                  % (mark, int(p["pid"]), str(p["state"]), hart, task_name(p),
                     mm["id"] if mm is not None else "-",
                     active["id"] if active is not None else "-", counts))


class Va2paCommand(CanopyCommand):
    """va2pa ADDR [PID]: translate ADDR through the page table in satp (of
the selected hart), or through process PID's, printing each level's index,
entry, flags (vrwxugad) and the kernel address of the entry (to `watch`
it), then the physical address. ADDR is any expression: 0x..., $pc, &x."""

    def __init__(self):
        super().__init__("va2pa")

    def run(self, arg):
        args = gdb.string_to_argv(arg)
        if not args or len(args) > 2:
            raise CanopyError("usage: va2pa ADDR [PID]")
        va = to_int(args[0])
        if len(args) == 2:
            _, p = find_task(int(args[1], 0))
            mm = load_mm(p["mm"])
            if mm is None:
                raise CanopyError("pid %s is a kernel thread: no page table of its own"
                                  % args[1])
            root = (int(mm["pgd"]) & MASK64) - PAGE_OFFSET
        else:
            root = satp_root_pa(read_satp())
        print("va %s in the root at pa %s (%s)" % (hexa(va), hexa(root), describe_root(root)))
        if va >> 38 not in (0, (1 << 26) - 1):
            raise CanopyError("%s is not a valid Sv39 address (bits 63-39 must equal bit 38)"
                              % hexa(va))
        steps = walk(root, va)
        for level, idx, pte, entry_pa in steps:
            what = "invalid"
            if pte_present(pte):
                what = "leaf" if pte_leaf(pte) else "-> %s at pa %s" % (
                    LEVEL_NAMES.get(level - 1, "?"), hexa(pte_pa(pte)))
            print("  level %d (%s) index %3d: entry %s [%s] at %s  %s"
                  % (level, LEVEL_NAMES[level], idx, hexa(pte), flag_string(pte),
                     hexa(entry_pa + PAGE_OFFSET), what))
        pa = leaf_pa(steps, va)
        if pa is None:
            print("va %s is not mapped" % hexa(va))
        else:
            print("va %s -> pa %s" % (hexa(va), hexa(pa)))


class UprogCommand(gdb.Command):
    """uprog NAME: load the symbols of user program user/_NAME (linked at
0), replacing the program loaded before, so that `break main` or `break
NAME.c:LINE` work in it. A user breakpoint fires in every process that
runs code at that address: check `p ((struct proc *)$sscratch)->name`."""

    loaded = None

    def __init__(self):
        super().__init__("uprog", gdb.COMMAND_FILES, gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        name = arg.strip()
        if not name:
            print("usage: uprog NAME   (loads user/_NAME)")
            return
        path = name if os.path.sep in name else os.path.join("user", "_" + name)
        if not os.path.exists(path):
            print("uprog: %s does not exist (run make, and gdb from the top of the tree)" % path)
            return
        if UprogCommand.loaded:
            try:
                gdb.execute("remove-symbol-file %s" % UprogCommand.loaded, to_string=True)
            except gdb.error:
                pass
        gdb.execute("add-symbol-file %s 0" % path, to_string=True)
        UprogCommand.loaded = path
        print("uprog: symbols of %s loaded at 0; e.g. `break main`" % path)


# ---- ptdump --html: the page tables of the whole machine, as a picture ----

def user_leaves(root):
    """(va, pte, level) of every leaf in the user half of the root table
    root (512 entries), and the number of lower-level tables."""
    leaves, tables = [], 0
    for i in range(KERNEL_PGD_FIRST):
        e = root[i]
        if not pte_present(e):
            continue
        if pte_leaf(e):
            leaves.append((i << 30, e, 2))
            continue
        tables += 1
        for j, e1 in enumerate(read_table(pte_pa(e))):
            if not pte_present(e1):
                continue
            if pte_leaf(e1):
                leaves.append(((i << 30) | (j << 21), e1, 1))
                continue
            tables += 1
            for k, e0 in enumerate(read_table(pte_pa(e1))):
                if pte_present(e0):
                    leaves.append(((i << 30) | (j << 21) | (k << 12), e0, 0))
    return leaves, tables


def mm_info(ptr):
    """A dict for the struct mm at kernel address ptr (or None)."""
    mm = load_mm(ptr)
    if mm is None:
        return None
    return dict(addr=int(ptr) & MASK64, id=int(mm["id"]), users=int(mm["mm_users"]),
                count=int(mm["mm_count"]), pgd=(int(mm["pgd"]) & MASK64) - PAGE_OFFSET)


def hart_satps():
    """{hart id: satp} of every hart, read through gdb's threads (QEMU
    shows hart N as thread N+1); the selected thread is restored."""
    inf = gdb.selected_inferior()
    here = gdb.selected_thread()
    out = {}
    try:
        for th in inf.threads():
            th.switch()
            out[th.ptid[1] - 1] = int(gdb.parse_and_eval("$satp")) & MASK64
    finally:
        if here is not None:
            here.switch()
    return out


def machine_snapshot():
    """Everything scripts/ptview.py draws, as plain data: the template,
    every root an mm owns (with its 512 root entries and the user half's
    leaves), the tasks and what each hart runs. Read while gdb has the
    machine stopped, so it is one consistent moment."""
    tmpl_pa = template_pa()
    init_addr, _ = kernel_symbol_address("init_mm")
    init = mm_info(init_addr)
    tasks, mms = [], {}
    if init is not None:
        mms[init["pgd"]] = dict(init, init_mm=True)
    cpu_type = gdb.lookup_type("struct cpu")
    for addr, p in all_tasks():
        mm, active = mm_info(p["mm"]), mm_info(p["active_mm"])
        for m in (mm, active):
            if m is not None and m["pgd"] not in mms:
                mms[m["pgd"]] = m
        hart = None
        if int(p["cpu"]):
            hart = int(load(int(p["cpu"]) & MASK64, "struct cpu")["hartid"])
        tasks.append(dict(addr=addr, pid=int(p["pid"]), name=c_string(p["name"]),
                          state=str(p["state"]), kthread=mm is None, hart=hart,
                          mm=mm["pgd"] if mm else None,
                          active_mm=active["pgd"] if active else None))
    satps = hart_satps()
    cpus_addr, _ = kernel_symbol_address("cpus")
    ncpu = int(gdb.Value(read_kernel(kernel_symbol_address("ncpu")[0], 4),
                         gdb.lookup_type("int")))
    harts = []
    for i in range(ncpu):
        c = load(cpus_addr + i * cpu_type.sizeof, "struct cpu")
        hartid = int(c["hartid"])
        satp = satps.get(hartid, 0)
        curr = int(c["curr"]) & MASK64
        harts.append(dict(cpu=i, hart=hartid, satp=satp,
                          root=satp_root_pa(satp) if satp >> 60 == SATP_SV39 else None,
                          task=curr or None))
    roots = []
    wanted = dict(mms)
    for h in harts:   # a root in satp that no mm names (say, the template)
        if h["root"] is not None and h["root"] not in wanted:
            wanted[h["root"]] = dict(pgd=h["root"], id=None, users=None, count=None,
                                     addr=None)
    for pa, m in sorted(wanted.items()):
        entries = read_table(pa)
        leaves, tables = user_leaves(entries) if pa != tmpl_pa else ([], 0)
        roots.append(dict(m, entries=list(entries), template=pa == tmpl_pa,
                          owner=describe_root(pa),
                          leaves=[list(x) for x in leaves], user_tables=tables))
    return dict(template=dict(pgd=tmpl_pa, entries=list(read_table(tmpl_pa))),
                roots=roots, tasks=tasks, harts=harts,
                constants=dict(kernel_pgd_first=KERNEL_PGD_FIRST,
                               vmalloc_pgd_first=VMALLOC_PGD_FIRST,
                               vmalloc_pgd_last=VMALLOC_PGD_LAST))


def ptview_module():
    """scripts/ptview.py, beside this file (the renderer)."""
    import importlib.util
    here = os.path.dirname(os.path.abspath(globals().get("__file__", "scripts/canopy-gdb.py")))
    path = os.path.join(here, "ptview.py")
    if not os.path.exists(path):
        path = os.path.join("scripts", "ptview.py")
    spec = importlib.util.spec_from_file_location("ptview", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_ptview(html_path, json_path=None):
    import json
    snap = machine_snapshot()
    if json_path:
        with open(json_path, "w") as f:
            json.dump(snap, f)
    page = ptview_module().render(snap)
    with open(html_path, "w") as f:
        f.write(page)
    print("ptdump: wrote %s: %d roots, %d harts, %d tasks"
          % (html_path, len(snap["roots"]), len(snap["harts"]), len(snap["tasks"])))


PtdumpCommand()
KptCommand()
ProcsCommand()
Va2paCommand()
UprogCommand()
