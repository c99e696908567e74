#!/usr/bin/env python3
"""grade-asid.py: the grader of the asid lab (labs/asid/README.md).

QEMU flushes its whole TLB on every satp write, so a wrong ASID scheme
still runs correctly there. The grader therefore reads the kernel's
counters and its model of each hart's TLB (kernel/asid.c): asid_noflush
(satp writes that needed no flush), full_flushes, asid_rollovers, and the
model's bug counts stale_asid_loads and missed_shootdowns, which must stay
0. Each run uses a random number of processes with random tokens, which
must come back on the console.
"""
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradelib import Lab, check, add_answers_test  # noqa: E402

lab = Lab("asid")


def check_model(c):
    k = c.kstat()
    check(k["stale_asid_loads"] == 0, "kstat stale_asid_loads is %d: a hart loaded an ASID "
          "whose previous owner's translations it may still hold (a rollover without "
          "the flush it owes, or one ASID for two mms)" % k["stale_asid_loads"])
    check(k["missed_shootdowns"] == 0, "kstat missed_shootdowns is %d: an unmap did not "
          "reach a hart that may hold the mm's translations" % k["missed_shootdowns"])
    return k


def echoes(c, n):
    """Run n processes (each a fresh mm), each echoing a random token."""
    for _ in range(n):
        tok = "asid%08x" % random.getrandbits(32)
        out = c.run("echo " + tok)
        check(tok in out, "echo %s printed %r" % (tok, out[-200:]))


def noflush_rises(c, before, n):
    after = c.kstat()
    got = after["asid_noflush"] - before["asid_noflush"]
    check(got >= n, "asid_noflush rose by %d across %d processes: switches to an mm whose "
          "ASID is current must not flush (*flush_all = 0)" % (got, n))
    return after


@lab.test(25, timeout=40, hint="reuse mm->context when its generation is current (the "
          "fast path) and leave *flush_all 0; a stale context gets new_context(mm)")
def asid_switch_no_flush(c):
    c.ktest_ok("asid_reuse_no_flush")
    n = random.randint(4, 9)
    before = c.kstat()
    echoes(c, n)
    after = noflush_rises(c, before, n)
    full = after["full_flushes"] - before["full_flushes"]
    check(full < after["asid_noflush"] - before["asid_noflush"],
          "%d full flushes against %d flush-free switches for %d processes"
          % (full, after["asid_noflush"] - before["asid_noflush"], n))
    check_model(c)


@lab.test(25, timeout=40, hint="when the ASIDs run out new_context rolls over; a hart in "
          "flush_pending must clear its bit and set *flush_all; each hart's running "
          "context is reserved and keeps its ASID (keep_reserved)")
def asid_rollover(c):
    before = c.kstat()
    c.ktest_ok("asid_rollover")
    after = check_model(c)
    rolls = after["asid_rollovers"] - before["asid_rollovers"]
    check(rolls >= 2, "asid_rollovers rose by %d during asid_rollover" % rolls)
    n = random.randint(2, 5)
    echoes(c, n)
    noflush_rises(c, after, n)
    check_model(c)


@lab.test(15, timeout=40, hint="user leaves never carry PTE_G (invariant 4): a global "
          "user translation would survive the switch to another ASID")
def asid_user_leaves_not_global(c):
    before = c.kstat()
    pages = random.randint(3, 40)
    # a process with heap pages, alive meanwhile
    pid = c.start_background("grow %d &" % pages,
                             r"grow:pid(\d+),%dpagesadded" % pages,
                             "grow's report that it has grown").group(1)
    c.ktest_ok("pte_u_g_bits")
    c.run("kill %s" % pid)
    noflush_rises(c, before, 1)
    check_model(c)


@lab.test(15, timeout=50, hint="a hart stays in mm->cpumask once it has loaded the mm: "
          "leaving it on switch-out lets a shootdown miss a TLB that still holds the "
          "mm's translations under its ASID")
def asid_shootdown_targeted(c):
    before = c.kstat()
    c.ktest_ok("shootdown_targeted")
    out = c.run("forktest", 40)
    check("fork test OK" in out, "forktest did not pass:\n" + out[-500:])
    noflush_rises(c, before, 2)
    check_model(c)


add_answers_test(lab, 20)

if __name__ == "__main__":
    sys.exit(lab.main())
