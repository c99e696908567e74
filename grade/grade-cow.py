#!/usr/bin/env python3
"""grade-cow.py: the grader of the cow lab (labs/cow/README.md).

Each run makes up random tokens, so no output can be prepared in advance.
`cowtest -t TOKEN` (user/cowtest.c, protected) forks a 2 MiB region
marked with the token and prints what each side saw together with the
kernel's counters, read back with kstat: shared_pages right after fork
(every page of the region must be shared), the free pages fork used (a
few, not a copy), cow_copies around a write() from shared pages (none:
reading never copies), cow_faults and cow_copies for stores to pages only
the parent still maps (faults, no copies). The rest of cowtest checks big
forks, the kernel writing into shared pages (copyout), exhaustion, and
that free_pages and shared_pages come back.
"""
import os
import random
import re
import string
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradelib import Lab, check, add_answers_test  # noqa: E402

lab = Lab("cow")


def token():
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(12))


def grade_run(c, tok):
    """Run cowtest -t tok; return its "cowtest grade:" facts as a dict."""
    out = c.run("cowtest -t " + tok, 60)
    check("FAILED" not in out and "killed" not in out, "cowtest -t failed:\n" + out[-800:])
    m = re.search(r"child shared (-?\d+) of (\d+) pages after fork, fork used (-?\d+) pages",
                  out)
    check(m, "cowtest -t printed no sharing line:\n" + out[-800:])
    facts = {"shared": int(m.group(1)), "region": int(m.group(2)), "used": int(m.group(3))}
    for key, pat in [("copies_on_read", r"copies on read (-?\d+)"),
                     ("parent_hidden", r"parent store hidden from child: (\w+)"),
                     ("child_read", r"child read (\S+)"),
                     ("child_hidden", r"child store hidden from parent: (\w+)"),
                     ("kept", r"parent kept (\S+)"),
                     ("copies", r"^cowtest grade: copies (-?\d+)"),
                     ("reuse", r"8 stores made (-?\d+ faults, -?\d+ copies)")]:
        f = re.search(pat, out, re.M)
        check(f, "cowtest -t printed no %r line:\n%s" % (key, out[-800:]))
        facts[key] = f.group(1)
    return facts


@lab.test(30, timeout=40, hint="uvmcopy shares each page (get_page) and maps it without W, "
          "with PTE_COW, in both page tables; flush the parent's TLB afterwards")
def cow_fork_shares(c):
    tok = token()
    f = grade_run(c, tok)
    check(f["shared"] >= f["region"], "right after fork %d pages were shared (kstat "
          "shared_pages), the region alone has %d" % (f["shared"], f["region"]))
    check(0 < f["used"] < f["region"] // 8, "fork took %d free pages for a %d-page process: "
          "it should share them, not copy" % (f["used"], f["region"]))
    check(f["parent_hidden"] == "yes", "the parent's store after fork reached the child: "
          "the parent's PTE stayed writable (or its TLB was not flushed)")
    check(f["child_hidden"] == "yes", "the child's store reached the parent: the store "
          "fault must copy a page that is still shared")
    check(f["kept"] == tok, "the parent's region was damaged while the child ran and "
          "exited (%s): was a shared page freed?" % f["kept"])
    check(f["copies_on_read"] == "0", "write() from %s... shared pages made %s copies: "
          "only stores copy" % (16, f["copies_on_read"]))
    check(int(f["copies"]) >= 2, "cow_copies rose by %s during the run: the stores to "
          "shared pages did not count copies" % f["copies"])


@lab.test(10, timeout=40, hint="a COW page whose count is 1 is only made writable again; "
          "count that fault in cow_faults but not in cow_copies")
def cow_last_reference(c):
    f = grade_run(c, token())
    faults, copies = (int(x) for x in re.findall(r"-?\d+", f["reuse"]))
    check(faults >= 8, "8 stores to COW pages that only the parent still maps counted %d "
          "cow_faults" % faults)
    check(copies == 0, "8 stores to COW pages that only the parent still maps made %d "
          "copies: the last reference takes the page back" % copies)


@lab.test(20, timeout=60, hint="a store fault from copyout comes without FAULT_FLAG_USER; "
          "a fault that finds no page for the copy returns -1, no panic")
def cow_copyout(c):
    tok = token()
    f = grade_run(c, tok)
    check(f["child_read"] == tok, "the child's read() from a pipe into a shared page gave "
          "%r, expected the token %r: copyout must break the sharing" % (f["child_read"], tok))
    out = c.run("cowtest pipe file exhaust", 120)
    for name in ("pipe", "file", "exhaust"):
        check("cowtest %s: ok" % name in out, "cowtest %s did not pass:\n%s"
              % (name, out[-1000:]))


@lab.test(20, timeout=90, hint="fork of a process holding 2/3 of memory must not copy; "
          "text (no W) stays read-only in both")
def cow_big_forks(c):
    out = c.run("cowtest big many same-page lazy text", 120)
    for name in ("big", "many", "same-page", "lazy", "text"):
        check("cowtest %s: ok" % name in out, "cowtest %s did not pass:\n%s"
              % (name, out[-1000:]))


def pages(c):
    """free_pages + lazy_roots and shared_pages, once two reads agree."""
    prev = None
    for _ in range(20):
        k = c.kstat()
        n = (k["free_pages"] + k["lazy_roots"], k["shared_pages"], k["cow_copies"])
        if prev and n[:2] == prev[:2]:
            break
        prev = n
    return n


@lab.test(10, timeout=60, hint="the copy drops the fault's reference to the shared page "
          "(kfree); the last reference is taken back, not copied")
def cow_no_leak(c):
    c.run("cowtest -t " + token(), 60)   # first run: page tables of the shell etc.
    before = pages(c)
    for _ in range(3):
        f = grade_run(c, token())
        check(f["kept"] != "(damaged)", "the parent's region was damaged")
    out = c.run("cowtest same-page pipe", 60)
    check("cowtest: all passed" in out, "cowtest same-page pipe failed:\n" + out[-800:])
    for _ in range(20):
        after = pages(c)
        if after[:2] == before[:2]:
            break
        time.sleep(0.2)
    check(after[2] > before[2], "cow_copies stayed at %d" % after[2])
    check(after[1] == before[1], "shared_pages was %d before, %d after the processes "
          "exited: references leaked" % (before[1], after[1]))
    check(after[0] == before[0], "free_pages + lazy_roots was %d before, %d after: "
          "%d pages leaked" % (before[0], after[0], before[0] - after[0]))


add_answers_test(lab, 10)

if __name__ == "__main__":
    sys.exit(lab.main())
