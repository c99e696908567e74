#!/usr/bin/env python3
"""grade-kpti.py: the grader of the kpti lab (labs/kpti/README.md).

The tree is built with make KPTI=1 (lab.json's "make"). Every check reads
back state the student's code cannot print by itself: kstat's counters
around a random number of system calls (satp writes, and kpti_user_runs,
raised only when the hardware walked the user root's entry page, read
from its A bit), ptdump -u of a process that grew by a random number of
pages, the data page's satp values (ktest kpti_data_page), the sfences
kpti_entry.S counted while the kernel forced the ASIDs-off path
(kpti_flushes), a child's load from a random kernel address, and
usertests on the KPTI=1 kernel.
"""
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradelib import Lab, check, add_answers_test  # noqa: E402

lab = Lab("kpti")
rng = random.SystemRandom()


def calls(c, n):
    """kptitest calls n: the counters' rise during n system calls."""
    out = c.run("kptitest calls %d" % n, 60)
    m = re.search(r"calls (\d+) traps (\d+) satp (\d+) user_runs (\d+) flushes (\d+)", out)
    check(m and int(m.group(1)) == n, "kptitest calls %d printed:\n%s" % (n, out))
    return dict(zip(("traps", "satp", "user_runs", "flushes"), map(int, m.groups()[1:])))


@lab.test(20, timeout=120, hint="kpti_mm_init: map the page of kpti_entry.S (kpti_text_start) "
          "R-X in the user root at its own address, and share root entry 384 (the data "
          "page's tables) with the kernel root; nothing else, never U or G")
def kpti_user_root(c):
    check(c.kstat().get("kpti") == 1, "kstat kpti is not 1: the kernel was not built KPTI=1")
    c.ktest_ok("kpti_user_root")
    npages = rng.randint(5, 60)
    out = c.run("kptitest pages %d" % npages, 40)
    m = re.search(r"summary: (\d+) user pages, (\d+) kernel entries in the user root", out)
    check(m, "ptdump -u printed no summary:\n" + out)
    kernel = sorted(re.findall(r"^\s*(\d+): (kpti entry text|kpti data), (\d+) pages$",
                               out, re.M))
    check(int(m.group(1)) >= npages, "ptdump -u of a process that grew by %d pages shows "
          "%s user pages: the user half is not the kernel root's" % (npages, m.group(1)))
    check(kernel == [("258", "kpti entry text", "1"), ("384", "kpti data", "1")],
          "the kernel half of the user root should be one entry page (root entry 258) "
          "and one data page (384); ptdump -u shows %s" % kernel)


@lab.test(25, timeout=120, hint="kpti_return must write the user root's satp (KD_USATP) "
          "before sret, and kpti_trap_entry the kernel root's (KD_KSATP) before it "
          "leaves the entry page")
def kpti_switches_per_syscall(c):
    n = rng.randint(1500, 4000)
    d = calls(c, n)
    slack = d["traps"] - n + 20
    check(d["traps"] >= n, "%d traps for %d system calls" % (d["traps"], n))
    check(2 * n <= d["satp"] <= 2 * n + 2 * slack,
          "%d satp writes during %d system calls (%d traps), want 2 per call"
          % (d["satp"], n, d["traps"]))
    check(n <= d["user_runs"] <= n + slack,
          "user mode ran on the user root %d times during %d system calls: after the "
          "return, the hardware never walked the user root's entry page (want one per "
          "call)" % (d["user_runs"], n))
    if c.kstat()["asid_bits"]:
        check(d["flushes"] == 0, "%d sfences during %d system calls with ASIDs on: "
              "neither switch should flush" % (d["flushes"], n))


@lab.test(15, timeout=120, hint="kpti_prepare_return: usatp = the user root's satp with "
          "the kernel root's ASID | kpti_user_asid_bit")
def kpti_two_asids(c):
    before = c.kstat()["kpti_user_runs"]
    c.ktest_ok("kpti_data_page")
    d = calls(c, rng.randint(50, 400))
    check(d["user_runs"] > 0 and c.kstat()["kpti_user_runs"] > before,
          "the data page is right but user mode never ran on the user root")


@lab.test(15, timeout=120, hint="when the data page's flush flag (KD_FLUSH) is set, both "
          "switches must sfence.vma after the satp write, and count it (KD_NFLUSH)")
def kpti_flush_without_asids(c):
    check(c.kstat()["asid_bits"] > 0, "ASIDs are off on this machine")
    before = c.kstat()["kpti_flushes"]
    c.ktest_ok("kpti_force_flush")   # the next 64 returns flush as with ASIDs off
    for _ in range(rng.randint(2, 5)):
        calls(c, rng.randint(20, 100))
    got = c.kstat()["kpti_flushes"] - before
    check(64 <= got <= 2 * 64 + 40, "%d sfences counted after 64 returns with the flush "
          "flag set: want one at each of them and one at each following entry (64-128)" % got)


@lab.test(15, timeout=300, hint="usertests -q must pass on KPTI=1, on the user root")
def kpti_usertests(c):
    # A load from a kernel address kills the child, whatever the address.
    for addr in (0xffffffe000000000 + rng.randrange(0, 4096, 8),
                 0xffffffc080200000 + rng.randrange(0, 0x40000, 8)):
        out = c.run("kptitest peek 0x%x" % addr, 30)
        check(re.search(r"status -1$", out, re.M) and "read" not in out,
              "a user-mode load from 0x%x was not killed:\n%s" % (addr, out))
    runs = c.kstat()["kpti_user_runs"]
    out = c.run("usertests -q", 150)
    failed = re.findall(r"^test (\w+): FAILED", out, re.M)
    if "ALL TESTS PASSED" not in out and failed and len(failed) <= 3:
        # A few usertests measure counters against the time they spin
        # (trapnosatp) or free pages while other harts run: on a loaded
        # host they can miss once. A wrong kernel fails them again.
        again = c.run("usertests " + " ".join(failed), 60)
        check("ALL TESTS PASSED" in again, "usertests -q on KPTI=1 failed %s, and again "
              "when run alone:\n%s\n%s" % (failed, out[-800:], again[-800:]))
    else:
        check("ALL TESTS PASSED" in out, "usertests -q on KPTI=1:\n" + out[-1500:])
    check(c.kstat()["kpti_user_runs"] - runs > 1000, "usertests passed, but user mode "
          "did not run on the user root")


add_answers_test(lab, 10)

if __name__ == "__main__":
    sys.exit(lab.main())
