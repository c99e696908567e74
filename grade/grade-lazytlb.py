#!/usr/bin/env python3
"""grade-lazytlb.py: the grader of the lazytlb lab (labs/lazytlb/README.md).

Besides the kernel self-tests, the grader reads counters it can check:
lazy_switches (raised only on a switch to a kernel thread that borrows),
and free_soon (free pages + roots kept by lazy borrowers + dead stacks
being freed, read by the kernel as one number), which must come back to
the same value after processes have come and gone while kernel threads
borrowed their roots.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradelib import Lab, check, add_answers_test  # noqa: E402

lab = Lab("lazytlb")


@lab.test(25, timeout=30, hint="a switch to a kernel thread borrows prev->active_mm and "
          "leaves satp alone; count every one in nr_lazy_switches, from a user task or "
          "from another kernel thread")
def lazytlb_no_satp_write(c):
    before = c.kstat()
    c.ktest_ok("kthread_switch_no_satp_write", "kthread_to_kthread_lazy")
    after = c.kstat()
    lazy = after["lazy_switches"] - before["lazy_switches"]
    check(lazy >= 25, "lazy_switches rose by %d during 50 switches to a kernel thread" % lazy)


@lab.test(25, timeout=40, hint="user->kernel mmgrab; kernel->user mmdrop after the switch "
          "(leave it in c->prev_mm: never drop under sched_lock); exit_mm keeps an mm_count reference while the task runs on it, "
          "without switching satp")
def lazytlb_mm_counts(c):
    before = c.kstat()["lazy_switches"]
    c.ktest_ok("mm_counts_consistent", "borrowed_mm_outlives_exit")
    after = c.kstat()["lazy_switches"]
    # Counts that match because nothing is ever borrowed prove nothing.
    check(after > before, "lazy_switches stayed at %d: no kernel thread borrowed an mm "
          "while the counts were checked" % after)


def pages(c):
    """free_soon: the kernel reads the free pages, the roots kept by lazy
    borrowers and the dead stacks still being freed under one lock, so a
    page moving between them is counted once. (free_pages + lazy_roots,
    read apart, missed the stack of a process reaped while its hart was
    still freeing it: 4 pages short on a loaded host.)"""
    return c.kstat()["free_soon"]


@lab.test(10, timeout=40, hint="before a kernel thread runs on the borrowed mm, make its "
          "stack reachable there: enter_lazy_tlb(next->active_mm, next)")
def lazytlb_kstack_borrowed(c):
    # The thread's stack lies under a root entry the borrowed root lacks;
    # it must really have borrowed (a switch to init_mm would sync it too).
    before = c.kstat()["lazy_switches"]
    c.ktest_ok("kstack_reachable_borrowed")
    k = c.kstat()
    check(k["lazy_switches"] > before, "lazy_switches stayed at %d: the thread did not run "
          "on a borrowed mm" % before)
    n = k["unflushed_syncs"]
    check(n == 0, "%d synced root entries were used without a TLB flush covering them" % n)


@lab.test(20, timeout=40, hint="every mmgrab needs its mmdrop: the kernel->user case and "
          "exec from a kernel thread drop the borrowed mm")
def lazytlb_no_leak(c):
    c.ktest_ok("no_leaked_pages")
    c.run("forktest", 30)
    drops = c.kstat()["idle_mm_drops"]
    before = pages(c)
    kept = 0
    for _ in range(3):
        out = c.run("forktest", 30)
        check("fork test OK" in out, "forktest did not pass:\n" + out[-500:])
        c.run("echo x | wc")
        kept = max(kept, c.kstat()["lazy_roots"])
    # A hart whose last process exited goes on borrowing its root, until
    # the idle task gives it back (idle_mm_drops) or a user task runs.
    drops = c.kstat()["idle_mm_drops"] - drops
    check(kept > 0 or drops > 0, "lazy_roots stayed 0 and idle_mm_drops did not rise: "
          "no exited process's root was borrowed (exit_mm should leave the task "
          "running on its mm)")
    after = pages(c)
    check(after == before, "free_soon (free_pages + lazy_roots + dying stacks) was %d "
          "before 3 forktests, %d after: %d pages leaked" % (before, after, before - after))


add_answers_test(lab, 20)

if __name__ == "__main__":
    sys.exit(lab.main())
