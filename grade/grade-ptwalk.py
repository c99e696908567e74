#!/usr/bin/env python3
"""grade-ptwalk.py: the grader of the ptwalk lab (labs/ptwalk/README.md).

The checks cross-check ptdump's output against numbers the grader chooses
or reads elsewhere: a process grown by a random number of pages (its size
read from ps), the template's root entries (ptdump -k), and a root entry
created after the process was forked (the self-tests' vmalloc region).
"""
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradelib import Lab, check, add_answers_test  # noqa: E402

lab = Lab("ptwalk")
PGSIZE = 4096
HEX = r"(0x[0-9a-f]+)"
LEAF = re.compile(r"^\s*(\d+): \.\.\s+(\d+): \.\.\s+(\d+): va %s -> pa %s (\S+)\s*$" % (HEX, HEX), re.M)
PTE_TABLE = re.compile(r"^\s*(\d+): \.\.\s+(\d+): pte %s\s*$" % HEX, re.M)
PMD_TABLE = re.compile(r"^\s*(\d+): pmd %s\s*$" % HEX, re.M)
KERNEL = re.compile(r"^\s*(\d+): (direct map|vmalloc|reserved), (.+?), pmd %s\s*$" % HEX, re.M)
SUMMARY = re.compile(r"^summary: (\d+) user pages, (\d+) user page-table pages, (\d+) kernel "
                     r"entries shared, (\d+) not yet synced, (\d+) differ", re.M)


def start_grow(c, pages):
    """Start `grow pages &`; returns its pid once it has grown. Its output
    may be interleaved with the shell's prompt, so the pid comes from ps."""
    c.start_background("grow %d &" % pages, r"grow:pid\d+,%dpagesadded" % pages,
                       "grow's report that it has grown")
    pids = [t["pid"] for t in c.ps() if t["name"] == "grow"]
    check(len(pids) == 1, "ps lists %d processes called grow" % len(pids))
    return pids[0]


def ptdump(c, arg):
    out = c.run("ptdump %s" % arg)
    s = SUMMARY.search(out)
    check(s, "`ptdump %s` printed no summary line:\n%s" % (arg, out[-1500:]))
    return out, [int(x) for x in s.groups()]


@lab.test(35, timeout=40, hint="walk both lower levels of every valid root entry; a leaf's "
          "va is built from its three indices (PXSHIFT); count every table page you print")
def ptwalk_user_pages(c):
    n = random.randint(520, 900)          # crosses a 2 MiB boundary: two level-0 tables
    pid = start_grow(c, n)
    size = [t["size"] for t in c.ps() if t["pid"] == pid]
    check(size, "ps does not list grow (pid %d)" % pid)
    npages = size[0] // PGSIZE
    out, (pages, tables, _, _, _) = ptdump(c, pid)
    check(re.search(r"^page table of pid %d " % pid, out, re.M),
          "no header line for pid %d" % pid)
    leaves = LEAF.findall(out)
    vas = {}
    for i, j, k, va, pa, perm in leaves:
        want = (int(i) << 30) | (int(j) << 21) | (int(k) << 12)
        check(int(va, 16) == want, "leaf %s/%s/%s printed va %s, its indices say %#x"
              % (i, j, k, va, want))
        vas[int(va, 16) // PGSIZE] = (int(pa, 16), perm)
    check(len(vas) == npages - 1,
          "grow (pid %d) is %d bytes = %d pages with one guard page, so %d mapped pages; "
          "ptdump printed %d leaf lines" % (pid, size[0], npages, npages - 1, len(vas)))
    check(pages == len(vas), "the summary says %d user pages, %d leaves were printed"
          % (pages, len(vas)))
    missing = [p for p in range(npages) if p not in vas]
    check(len(missing) == 1 and 0 < missing[0] < npages - n,
          "expected exactly one unmapped guard page below the heap, missing pages: %s"
          % missing[:10])
    check(all(p < npages for p in vas), "leaves above the process size")
    pas = [pa for pa, _ in vas.values()]
    check(len(set(pas)) == len(pas) and all(pa % PGSIZE == 0 and pa for pa in pas),
          "leaf physical addresses are not distinct page addresses")
    check(vas[0][1] == "r-xu-", "page 0 (text) printed %r, expected r-xu-" % vas[0][1])
    heap = [vas[p][1] for p in range(npages - n, npages)]
    check(all(h == "rw-u-" for h in heap), "heap pages should all be rw-u-, got %s"
          % sorted(set(heap)))
    pte_tables = PTE_TABLE.findall(out)
    pmd_pas = [int(pa, 16) for _, pa in PMD_TABLE.findall(out)]
    table_pas = [int(pa, 16) for _, _, pa in pte_tables]
    check(len(set(table_pas)) == len(table_pas) and not set(table_pas) & set(pmd_pas)
          and not set(table_pas) & set(pas),
          "each pte line must show its own level-0 table's address (PTE2PA of the pmd "
          "entry): pte tables at %s, pmd at %s" % ([hex(a) for a in table_pas],
                                                   [hex(a) for a in pmd_pas]))
    wanted_tables = len({p >> 9 for p in vas})
    check(len(pte_tables) == wanted_tables,
          "the leaves lie in %d level-0 tables, %d pte lines were printed"
          % (wanted_tables, len(pte_tables)))
    check(len(PMD_TABLE.findall(out)) == 1, "expected exactly one pmd line (root entry 0)")
    check(tables == 1 + wanted_tables, "the summary says %d user page-table pages, "
          "expected %d (one pmd, %d pte)" % (tables, 1 + wanted_tables, wanted_tables))
    c.run("kill %d" % pid)


def kernel_lines(out):
    return {int(i): (region, what, int(pa, 16)) for i, region, what, pa in KERNEL.findall(out)}


@lab.test(25, timeout=40, hint="compare the root's entry with kernel_pagetable's: equal is "
          "shared, absent here but present in the template is not yet synced")
def ptwalk_kernel_half(c):
    pid = start_grow(c, 1)                    # its root is copied now
    c.ktest_ok("vmalloc_lazy_sync")           # the template gains root entry 383
    tmpl = {int(i): int(pa, 16) for i, pa in
            re.findall(r"^\s*(\d+): (?:direct map|vmalloc|reserved), pmd %s" % HEX,
                       c.run("ptdump -k"), re.M)}
    check(383 in tmpl and 256 in tmpl, "ptdump -k lacks root entry 256 or 383")
    for who, fresh in ((pid, False), ("", True)):
        out, (_, _, shared, unsynced, differ) = ptdump(c, who)
        lines = kernel_lines(out)
        label = "ptdump %s" % (who or "(itself, forked after the entry was made)")
        check(set(lines) == set(tmpl), "%s printed kernel entries %s, the template has %s"
              % (label, sorted(lines), sorted(tmpl)))
        for i, (region, what, pa) in sorted(lines.items()):
            check(pa == tmpl[i], "%s: entry %d points at %#x, the template's at %#x"
                  % (label, i, pa, tmpl[i]))
            check(what in ("shared", "not yet synced"), "%s: entry %d classified %r"
                  % (label, i, what))
        check(lines[256][1] == "shared", "%s: entry 256 (direct map) must be shared" % label)
        want383 = "shared" if fresh else "not yet synced"
        check(lines[383][1] == want383, "%s: entry 383 was made after %s, expected %r, got %r"
              % (label, "this process" if not fresh else "its fork", want383, lines[383][1]))
        if fresh:
            check(all(w == "shared" for _, w, _ in lines.values()),
                  "%s: a root copied after every entry existed shares all of them" % label)
        n_sh = sum(w == "shared" for _, w, _ in lines.values())
        check((shared, unsynced, differ) == (n_sh, len(lines) - n_sh, 0),
              "%s: summary counts %d shared, %d not yet synced, %d differ; the lines say "
              "%d, %d, 0" % (label, shared, unsynced, differ, n_sh, len(lines) - n_sh))
    c.run("kill %d" % pid)


@lab.test(20, timeout=40, hint="a leaf's va needs all three indices, the root index too "
          "(i << PXSHIFT(2)), as uint64; an entry present in this root but not equal to "
          "the template's (all its bits, not only its address), or absent from the "
          "template, DIFFERS")
def ptwalk_specimen(c):
    # ptdump -d VA: a root the kernel builds for the purpose, with one user
    # page at a VA of our choosing above 1 GiB (root index 1-255), entry 321
    # not yet synced, and entries 320 (another table), 256 (the template's
    # table with the U bit) and 382 (absent from the template) differing.
    # Every other kernel entry is shared. Root index 2 or more: with 1,
    # i << 30 computed in an int would still be right.
    i, j, k = random.randint(2, 254), random.randint(0, 511), random.randint(0, 511)
    va = (i << 30) | (j << 21) | (k << 12)
    out = c.run("ptdump -d %#x" % va)
    s = SUMMARY.search(out)
    check(s, "`ptdump -d %#x` printed no summary line:\n%s" % (va, out[-1500:]))
    pages, tables, shared, unsynced, differ = [int(x) for x in s.groups()]
    leaves = LEAF.findall(out)
    check(len(leaves) == 1, "the specimen has one user page, %d leaf lines were printed:\n%s"
          % (len(leaves), out[-1500:]))
    li, lj, lk, lva, _, perm = leaves[0]
    check((int(li), int(lj), int(lk)) == (i, j, k), "the page at %#x has indices %d/%d/%d, "
          "ptdump printed %s/%s/%s" % (va, i, j, k, li, lj, lk))
    check(int(lva, 16) == va, "the page's va is %#x, ptdump printed %s" % (va, lva))
    check(perm == "rw-u-", "the page is rw-u-, ptdump printed %s" % perm)
    check([int(x[0]) for x in PMD_TABLE.findall(out)] == [i],
          "expected one pmd line, for root entry %d" % i)
    check([(int(a), int(b)) for a, b, _ in PTE_TABLE.findall(out)] == [(i, j)],
          "expected one pte line, for %d/%d" % (i, j))
    check(PTE_TABLE.findall(out)[0][2] != PMD_TABLE.findall(out)[0][1],
          "the pte line shows the pmd's address, not the level-0 table's")
    check((pages, tables) == (1, 2), "the summary says %d user pages and %d page-table "
          "pages, want 1 and 2" % (pages, tables))
    lines = kernel_lines(out)
    want = {256: "DIFFERS from the template (bug)", 320: "DIFFERS from the template (bug)",
            321: "not yet synced", 382: "DIFFERS from the template (bug)"}
    for idx, what in sorted(want.items()):
        check(idx in lines and lines[idx][1] == what, "entry %d should be %r, ptdump printed "
              "%r" % (idx, what, lines.get(idx, (None, "nothing"))[1]))
    others = [w for idx, (_, w, _) in lines.items() if idx not in want]
    check(others and all(w == "shared" for w in others),
          "the other kernel entries are the template's (shared), ptdump printed %s" % others)
    check((shared, unsynced, differ) == (len(others), 1, 3), "the summary counts %d shared, "
          "%d not yet synced, %d differ; want %d, 1, 3"
          % (shared, unsynced, differ, len(others)))


add_answers_test(lab, 20)

if __name__ == "__main__":
    sys.exit(lab.main())
