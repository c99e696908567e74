#!/usr/bin/env python3
"""grade-vmsync.py: the grader of the vmsync lab (labs/vmsync/README.md).

The kernel self-tests exercise the fault path for real (a read through a
root that lacks the entry must return the data); the grader also reads the
vmalloc_syncs counter before and after, which only the sync code raises.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradelib import Lab, check, add_answers_test  # noqa: E402

lab = Lab("vmsync")


def syncs(c):
    return c.kstat()["vmalloc_syncs"]


def check_flushed(c):
    """QEMU never caches a failed walk, so a sync without a flush works
    there; the kernel counts such syncs instead (kernel/tlbflush.c)."""
    n = c.kstat()["unflushed_syncs"]
    check(n == 0, "%d root entries were synced without a TLB flush on the "
          "hart (kstat unflushed_syncs): real harts may cache the failed walk" % n)


@lab.test(10, timeout=30, hint="start [kzerod] (kzerod_start()) after init's exec in kernel_init() (kernel/proc.c), "
          "so that its stack's root entry is newer than init's root")
def vmsync_boot_sync(c):
    # Right after boot, before any self-test: [kzerod]'s stack lies in root
    # entry 321, created after init's root was copied. Either init's root
    # still lacks it, or a fault or a switch copied it.
    n = syncs(c)
    dump = c.run("ptdump 1")
    check(re.search(r"^ 321: vmalloc, not yet synced", dump, re.M) or n > 0,
          "after boot vmalloc_syncs is %d and init's root already has entry 321: "
          "nothing was newer than init's root\n%s" % (n, dump))
    check_flushed(c)


@lab.test(20, timeout=30, hint="vmalloc_fault must copy the entry into the root in satp "
          "(current_pgd()) through sync_root_entry, count it, flush it with "
          "local_flush_tlb_page(addr) and return 1")
def vmsync_lazy_fault(c):
    before = syncs(c)
    c.ktest_ok("vmalloc_lazy_sync", "init_mm_lazy_sync")
    after = syncs(c)
    check(after > before, "vmalloc_syncs went from %d to %d across a lazy sync"
          % (before, after))
    check_flushed(c)


@lab.test(15, timeout=30, hint="sync addresses in [VMALLOC_START, VMALLOC_END) that the "
          "template maps; return 0 for everything else")
def vmsync_fault_refuses(c):
    # Syncing is required too: a vmalloc_fault() that refuses everything
    # would pass the two refusal checks.
    c.ktest_ok("vmalloc_lazy_sync", "vmalloc_fault_refuses_unmapped",
               "vmalloc_fault_only_vmalloc")


@lab.test(15, timeout=40, hint="a kernel thread runs on a borrowed root: use the root in "
          "satp, never myproc()->mm")
def vmsync_many_harts(c):
    before = syncs(c)
    c.ktest_ok("lazy_sync_many_harts", "pgd_consistent_all_tasks")
    after = syncs(c)
    check(after > before, "vmalloc_syncs went from %d to %d while every hart synced"
          % (before, after))
    check_flushed(c)


@lab.test(10, timeout=40, hint="when another hart sharing the root copied the entry first, "
          "the root already has the template's entry: if the template maps addr, flush "
          "addr and return 1 (retry), do not refuse")
def vmsync_shared_root_race(c):
    # Two harts on one root fault on the same missing entry; a hook in the
    # fault path lets the second in only once the first has copied it.
    c.ktest_ok("vmalloc_fault_race")
    check_flushed(c)


@lab.test(20, timeout=40, hint="vmalloc_sync_stack: copy the root entry of p->kstack_base "
          "before p runs, and flush with local_flush_tlb_all() if you copied")
def vmsync_kstack_reachable(c):
    c.ktest_ok("kstack_reachable_borrowed")
    out = c.run("forktest", 30)
    check("fork test OK" in out, "forktest did not pass:\n" + out[-500:])
    check_flushed(c)


add_answers_test(lab, 10)

if __name__ == "__main__":
    sys.exit(lab.main())
