#!/usr/bin/env python3
"""ptview.py: a picture of every page table of a running canopy (make ptview).

    python3 scripts/ptview.py --out ptview.html            boot, run a workload, draw
    python3 scripts/ptview.py --from-json snap.json --out ptview.html   draw a snapshot

make ptview boots canopy headless with a gdb stub, runs a small workload
(processes that stay alive, a vmalloc mapping in a new root entry made
after they started, one more process after it), stops the machine with
gdb and has the gdb command `ptdump --html` (scripts/canopy-gdb.py) read
every root, kernel_pagetable, the tasks and each hart's satp by physical
address. render() turns that snapshot into one self-contained HTML page
(inline SVG and CSS, nothing fetched): docs/ptview.md explains the page.

The picture's rules, which tests/ptview_test.py checks in a browser:
  * one column per root: kernel_pagetable (the template the roots copy
    their kernel half from) first, then the roots of init_mm and of each
    process; rows are the root's used entries, user half above, kernel
    half below, every kernel index on the same row in every column;
  * each kernel-half entry is linked to the lower-level table it points at,
    drawn once in the "shared tables" row: the same table for every root;
    an entry the template has and a root lacks is "not yet synced" (dashed:
    the first kernel access through that root will copy it);
  * above the columns, each hart points at the root in its satp, naming
    the task it runs; a kernel thread borrowing an mm is said to borrow it.
The snapshot is plain data (see canopy-gdb.py's machine_snapshot), so
render() needs no gdb. Standard library only.
"""
import argparse
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PTE_V, PTE_R, PTE_W, PTE_X, PTE_U, PTE_G = (1 << i for i in range(6))
GIB = 1 << 30

# Geometry (px). The page is drawn at its natural size; a browser's zoom
# scales it for a projector.
MARGIN, COL_W, GAP = 24, 262, 64
ROW_H, ROW_GAP, LINE_H = 30, 6, 18
FONT, SMALL, BIG = 15, 13, 18
CHAR_W = 0.55   # width of a character / font size, for sans-serif


def present(pte):
    return pte & PTE_V != 0


def leaf(pte):
    return pte & (PTE_R | PTE_W | PTE_X) != 0


def pte_pa(pte):
    return (pte >> 10) << 12


def perms(pte):
    return "".join(c if pte & b else "-" for c, b in
                   (("r", PTE_R), ("w", PTE_W), ("x", PTE_X), ("u", PTE_U)))


def esc(s):
    return html.escape(str(s), quote=True)


def fit(text, width, size):
    """text cut (with an ellipsis) to fit width px at font size."""
    n = int(width / (size * CHAR_W))
    return text if len(text) <= n else text[:max(1, n - 1)] + "\u2026"


def region(i, c):
    """What kernel root entry i maps."""
    if i < c["vmalloc_pgd_first"]:
        lo = (i - c["kernel_pgd_first"])
        return "direct map, pa %d-%d GiB" % (lo, lo + 1)
    if i == c["vmalloc_pgd_first"]:
        return "vmalloc: kernel stacks"
    if i == c["vmalloc_pgd_last"]:
        return "vmalloc: self-test area"
    if i <= c["vmalloc_pgd_last"]:
        return "vmalloc"
    return "reserved"


def user_ranges(leaves):
    """Contiguous runs of user pages with the same permissions:
    [(start va, pages, perms)]. leaves: [va, pte, level]."""
    runs = []
    for va, pte, level in sorted(leaves):
        size = 1 << (12 + 9 * level)
        p = perms(pte)
        if runs and runs[-1][0] + runs[-1][1] == va and runs[-1][2] == p:
            runs[-1][1] += size
        else:
            runs.append([va, size, p])
    return [(va, size // 4096, p) for va, size, p in runs]


# ---- the model: what to draw, derived from the snapshot -----------------------

class Column:
    def __init__(self, root, kind):
        self.root, self.kind = root, kind
        self.pgd = root["pgd"]
        self.entries = root["entries"]
        self.owners, self.borrowers = [], []


def model(snap):
    """Columns (template first), the kernel indices to draw, and the tasks
    by address."""
    c = snap["constants"]
    tmpl = snap["template"]
    tasks = {t["addr"]: t for t in snap["tasks"]}
    cols = [Column(dict(tmpl, id=None, owner="kernel_pagetable"), "template")]
    rest = []
    for r in snap["roots"]:
        if r.get("template"):
            # A root that is the template itself (a hart or mm on it):
            # the template column stands for it.
            cols[0].root.update(dict(r, owner="kernel_pagetable"))
            continue
        kind = "init_mm" if r.get("init_mm") else "process"
        rest.append(Column(r, kind))
    by_pgd = {col.pgd: col for col in cols + rest}
    for t in snap["tasks"]:
        if t["state"] == "UNUSED":
            continue
        if t["mm"] is not None and t["mm"] in by_pgd:
            by_pgd[t["mm"]].owners.append(t)
        elif t["kthread"] and t["active_mm"] in by_pgd and t["state"] in ("RUNNING",):
            by_pgd[t["active_mm"]].borrowers.append(t)
    for col in rest:
        if col.kind == "process" and not col.owners:
            col.kind = "orphan"   # an mm only borrowed now: its task exited
    rest.sort(key=lambda col: ({"init_mm": 0, "process": 1, "orphan": 2}[col.kind],
                               min([t["pid"] for t in col.owners] or [1 << 30])))
    cols += rest
    kidx = sorted(i for i in range(c["kernel_pgd_first"], 512)
                  if present(tmpl["entries"][i]) or
                  any(present(col.entries[i]) for col in cols))
    return cols, kidx, tasks, by_pgd


def entry_state(col, i, tmpl_entries):
    mine, t = col.entries[i], tmpl_entries[i]
    if col.kind == "template":
        return "template" if present(t) else None
    if present(mine) and mine == t:
        return "shared"
    if not present(mine) and present(t):
        return "unsynced"
    if present(mine):
        return "differs"
    return None


def task_label(t):
    if t is None:
        return "no task"
    if t["kthread"]:
        return "[%s] (kernel thread)" % t["name"]
    return "pid %d %s" % (t["pid"], t["name"])


def short_label(t):
    return "[%s]" % t["name"] if t["kthread"] else "pid %d" % t["pid"]


def column_title(col):
    r = col.root
    if col.kind == "template":
        return ["kernel_pagetable", "the template: every root", "copies entries 256-511"]
    if col.kind == "init_mm":
        lines = ["init_mm (mm %s)" % r.get("id"), "kernel threads' mm at boot"]
    elif col.kind == "orphan":
        lines = ["mm %s" % r.get("id"), "its task has exited"]
    else:
        owners = col.owners
        lines = ["pid %s %s" % (",".join(str(t["pid"]) for t in owners), owners[0]["name"])]
        lines.append("mm %s, users %s" % (r.get("id"), r.get("users")))
    return lines


# ---- drawing --------------------------------------------------------------------

class Svg:
    def __init__(self):
        self.back, self.front = [], []

    def rect(self, x, y, w, h, cls, out=None, extra=""):
        (out if out is not None else self.front).append(
            '<rect x="%d" y="%d" width="%d" height="%d" rx="5" class="%s"%s/>'
            % (x, y, w, h, cls, extra))

    def text(self, x, y, s, cls="", out=None, anchor="start"):
        (out if out is not None else self.front).append(
            '<text x="%d" y="%d" class="%s" text-anchor="%s">%s</text>'
            % (x, y, cls, anchor, esc(s)))


def box(svg, x, y, w, h, rect_cls, lines, attrs, line_cls=None):
    """A <g class="box ..."> with a rect and lines of text (fitted)."""
    out = ['<g class="box %s" %s>' % (rect_cls, attrs)]
    svg.rect(x, y, w, h, rect_cls, out)
    ty = y + 20
    for k, line in enumerate(lines):
        cls = (line_cls or ["b"] + ["s"] * 5)[min(k, 5)]
        size = FONT if cls in ("b", "") else SMALL
        svg.text(x + 8, ty, fit(line, w - 16, size), cls, out)
        ty += LINE_H if cls in ("b", "") else LINE_H - 2
    out.append("</g>")
    svg.front.append("\n".join(out))


def render(snap):
    c = snap["constants"]
    tmpl_entries = snap["template"]["entries"]
    cols, kidx, tasks, by_pgd = model(snap)
    ncols = len(cols)
    xs = [MARGIN + k * (COL_W + GAP) for k in range(ncols)]
    svg = Svg()
    col_by_pgd = {col.pgd: k for k, col in enumerate(cols)}

    # -- harts, above the columns they run on
    hart_top, hart_h = 96, 86
    on_col = {}
    for h in snap["harts"]:
        k = col_by_pgd.get(h["root"])
        on_col.setdefault(k, []).append(h)
    head_top = hart_top + hart_h + 44
    for k, hs in on_col.items():
        if k is None:
            continue
        w = (COL_W - 8 * (len(hs) - 1)) // len(hs)
        for n, h in enumerate(hs):
            x = xs[k] + n * (w + 8)
            t = tasks.get(h["task"])
            col = cols[k]
            lines = ["hart %d" % h["hart"], task_label(t) if len(hs) == 1 else
                     short_label(t) if t else "no task"]
            borrowed = t is not None and t["kthread"]
            if borrowed:   # a kernel thread: on the mm it borrows (active_mm)
                lines += ["borrows", "init_mm" if col.kind == "init_mm" else
                          "the template" if col.kind == "template" else
                          "mm %s" % col.root.get("id")]
            else:
                lines.append("its own mm")
            attrs = 'id="hart-%d" data-hart="%d" data-root="%d" data-task="%s"%s' % (
                h["hart"], h["hart"], h["root"], esc(task_label(t)),
                ' data-borrowed="%s"' % esc(col.root.get("id")) if borrowed else "")
            box(svg, x, hart_top, w, hart_h, "hart", lines, attrs, ["b", "", "s", "s"])
            cls = "satp borrowed" if borrowed else "satp"
            svg.back.append('<path class="%s" data-hart="%d" d="M%d %d L%d %d" '
                            'marker-end="url(#arrow-hart)"/>'
                            % (cls, h["hart"], x + w // 2, hart_top + hart_h,
                               xs[k] + COL_W // 2, head_top - 4))
    unplaced = [h for h in snap["harts"] if col_by_pgd.get(h["root"]) is None]

    # -- column headers
    head_h = 70
    for k, col in enumerate(cols):
        lines = column_title(col)
        lines.append("pgd at pa 0x%x" % col.pgd)
        who = ", ".join(short_label(t) for t in col.borrowers)
        if who:
            lines.append("borrowed by " + who)
        head_h = max(head_h, 22 + LINE_H * len(lines))
    for k, col in enumerate(cols):
        lines = column_title(col) + ["pgd at pa 0x%x" % col.pgd]
        who = ", ".join(short_label(t) for t in col.borrowers)
        if who:
            lines.append("borrowed by " + who)
        col.head = lines
    user_top = head_top + head_h + 14

    # -- user half: one row per used root entry, then its page runs
    user_rows = {}
    for k, col in enumerate(cols):
        rows = []
        if col.kind != "template":
            for i in range(c["kernel_pgd_first"]):
                if present(col.entries[i]):
                    rows.append(i)
        user_rows[k] = rows
    user_h = 0
    for k, col in enumerate(cols):
        h = 26
        for i in user_rows[k]:
            lv = [x for x in col.root.get("leaves", []) if x[0] >> 30 == i]
            h += ROW_H + ROW_GAP + min(5, len(user_ranges(lv))) * LINE_H + 4
        user_h = max(user_h, h)
    kern_top = user_top + user_h + 10
    kern_rows_top = kern_top + 26
    table_top = kern_rows_top + len(kidx) * (ROW_H + ROW_GAP) + 110

    # -- shared tables: one box per kernel-half table the template points at
    shared = [i for i in kidx if present(tmpl_entries[i])]
    width = max(xs[-1] + COL_W + GAP + MARGIN, 980)
    tw = 230
    # Spread over the width; in several rows when they do not fit side by
    # side (VMSYNC=prealloc has all 64 vmalloc entries).
    per_row = max(1, min(len(shared), (width - 2 * MARGIN + 24) // (tw + 24)))
    nrows = (len(shared) + per_row - 1) // per_row
    step = (width - 2 * MARGIN - tw) / max(1, per_row - 1)
    table_x, table_y = {}, {}
    for n, i in enumerate(shared):
        x = int(MARGIN + (n % per_row) * step) if per_row > 1 else (width - tw) // 2
        table_x[i], table_y[i] = x, table_top + (n // per_row) * (92 + 30)
        users = sum(1 for col in cols if col.kind != "template" and
                    entry_state(col, i, tmpl_entries) == "shared")
        lines = ["pmd of entry %d" % i, region(i, c), "pa 0x%x" % pte_pa(tmpl_entries[i]),
                 "template + %d root%s" % (users, "" if users == 1 else "s")]
        box(svg, x, table_y[i], tw, 92, "table shared", lines,
            'id="table-%d" data-index="%d" data-table="%d"' % (i, i, pte_pa(tmpl_entries[i])))

    # -- the columns
    for k, col in enumerate(cols):
        x = xs[k]
        out = ['<g class="column" data-kind="%s" data-pgd="%d" data-mm="%s" data-owner="%s">'
               % (col.kind, col.pgd, esc(col.root.get("id")), esc(" ".join(col.head[:1])))]
        svg.front.append("\n".join(out))
        box(svg, x, head_top, COL_W, head_h, "head " + col.kind, col.head,
            'id="head-%d"' % k, ["b", "s", "s", "s", "s", "s"])
        svg.text(x + 4, user_top + 16, "user half (entries 0-255)", "section")
        y = user_top + 26
        if col.kind == "template":
            svg.text(x + 4, y + 18, "none: the template maps no user memory", "note")
        elif not user_rows[k]:
            svg.text(x + 4, y + 18, "none: no user memory", "note")
        for i in user_rows[k]:
            lv = [v for v in col.root.get("leaves", []) if v[0] >> 30 == i]
            runs = user_ranges(lv)
            pages = sum(r[1] for r in runs)
            e = col.entries[i]
            label = ("%3d  1 GiB page" % i) if leaf(e) else \
                "%d  pmd 0x%x: %d page%s" % (i, pte_pa(e), pages, "" if pages == 1 else "s")
            box(svg, x, y, COL_W, ROW_H, "entry user", [label],
                'id="e-%d-%d" data-index="%d" data-pages="%d"' % (k, i, i, pages), [""])
            y += ROW_H + 2
            for va, n, p in runs[:5]:
                if len(runs) > 5 and (va, n, p) == runs[4]:
                    svg.text(x + 14, y + 13, "... %d more runs" % (len(runs) - 4), "note")
                else:
                    svg.text(x + 14, y + 13, fit("0x%05x %s %3d page%s" % (
                        va, p, n, "" if n == 1 else "s"), COL_W - 20, SMALL), "run")
                y += LINE_H
            y += ROW_GAP
        svg.text(x + 4, kern_top + 16, "kernel half (entries 256-511)", "section")
        for r, i in enumerate(kidx):
            y = kern_rows_top + r * (ROW_H + ROW_GAP)
            st = entry_state(col, i, tmpl_entries)
            if st is None:
                continue
            words = {"template": "", "shared": "shared", "unsynced": "not yet synced",
                     "differs": "DIFFERS (bug)"}[st]
            name = region(i, c).split(",")[0].split(":")[0]
            label = "%d %s%s" % (i, name, (" \u00b7 " + words) if words else "")
            table = pte_pa(col.entries[i] if present(col.entries[i]) else tmpl_entries[i])
            box(svg, x, y, COL_W, ROW_H, "entry kernel " + st, [label],
                'id="e-%d-%d" data-index="%d" data-state="%s" data-table="%d"'
                % (k, i, i, st, table), [""])
            if i in table_x and st in ("template", "shared", "unsynced"):
                # Out of the row's right end into the gutter, down the
                # gutter below the last row, then a curve to the table.
                tx, ty = table_x[i] + tw // 2, table_y[i]
                x1, y1 = x + COL_W, y + ROW_H // 2
                gx = x1 + 8 + r * (GAP - 28) // max(1, len(kidx) - 1)
                gy = kern_rows_top + len(kidx) * (ROW_H + ROW_GAP) + 6
                svg.back.append(
                    '<path class="link %s" data-from="e-%d-%d" data-to="table-%d" '
                    'd="M%d %d H%d V%d C%d %d %d %d %d %d" marker-end="url(#arrow-%s)"/>'
                    % (st, k, i, i, x1, y1, gx, gy, gx, gy + 60, tx, ty - 50, tx, ty - 2,
                       "unsynced" if st == "unsynced" else "link"))
        svg.front.append("</g>")

    # -- legend
    leg_top = table_top + max(1, nrows) * (92 + 30) + 10
    legend = [("entry user", "a user-half root entry of a process, with its pages below"),
              ("entry kernel template", "kernel_pagetable's entry: what every root copies"),
              ("entry kernel shared", "shared: the same entry as the template's, so the same table"),
              ("entry kernel unsynced", "not yet synced: made after this root was copied; a "
               "kernel fault through this root copies it (lazy sync)"),
              ("entry kernel differs", "differs from the template: a bug, never expected"),
              ("table shared", "a kernel-half table, one copy for all roots"),
              ("hart", "a hart: the arrow goes to the root in its satp"),
              ("satp borrowed", "dashed arrow: a kernel thread on a borrowed mm (active_mm)")]
    items = ['<g id="legend" class="legend">']
    items.append('<text x="%d" y="%d" class="b">Legend</text>' % (MARGIN, leg_top))
    for n, (cls, what) in enumerate(legend):
        y = leg_top + 14 + n * 28
        if cls.startswith("satp"):
            items.append('<path class="%s" d="M%d %d L%d %d"/>' % (cls, MARGIN, y + 10,
                                                                   MARGIN + 44, y + 10))
        else:
            items.append('<rect x="%d" y="%d" width="44" height="20" rx="4" class="%s"/>'
                         % (MARGIN, y, cls))
        items.append('<text x="%d" y="%d" class="legend-text" data-item="%s">%s</text>'
                     % (MARGIN + 56, y + 15, esc(cls), esc(what)))
    items.append("</g>")
    svg.front.append("\n".join(items))
    height = leg_top + 14 + len(legend) * 28 + MARGIN

    nproc = sum(1 for col in cols if col.kind == "process")
    title = "canopy page tables: %d process root%s share the kernel half of kernel_pagetable" % (
        nproc, "" if nproc == 1 else "s")
    sub = "%d harts; %d kernel root entries in the template; gdb read every table by " \
        "physical address while the machine was stopped" % (len(snap["harts"]), len(shared))
    if unplaced:
        sub += "; harts with paging off: %s" % ", ".join(str(h["hart"]) for h in unplaced)
    head = ['<text x="%d" y="36" class="title">%s</text>' % (MARGIN, esc(title)),
            '<text x="%d" y="62" class="sub">%s</text>' % (MARGIN, esc(sub)),
            '<text x="%d" y="86" class="section">harts (satp)</text>' % MARGIN,
            '<text x="%d" y="%d" class="section">shared kernel tables (level 1, pmd)</text>'
            % (MARGIN, table_top - 14)]
    body = "\n".join(DEFS + head + svg.back + svg.front)
    page = PAGE % dict(
        title=esc(title), width=width, height=height, svg=body, style=STYLE,
        tasks=task_table(snap, cols), check=CHECK_SCRIPT)
    return page


def task_table(snap, cols):
    names = {}
    for col in cols:
        names[col.pgd] = {"template": "kernel_pagetable", "init_mm": "init_mm"}.get(
            col.kind, "mm %s" % col.root.get("id"))
    harts = {h["task"]: h["hart"] for h in snap["harts"]}
    rows = ['<tr><th>pid</th><th>name</th><th>state</th><th>running on</th><th>mm</th>'
            '<th>active_mm (root in satp while it runs)</th></tr>']
    for t in sorted(snap["tasks"], key=lambda t: (t["kthread"], t["pid"])):
        if t["state"] == "UNUSED":
            continue
        name = "[%s]" % t["name"] if t["kthread"] else t["name"]
        act = names.get(t["active_mm"], "-") if t["active_mm"] is not None else "-"
        if t["kthread"] and t["active_mm"] is not None:
            act += " (borrowed)"
        rows.append("<tr class=\"%s\"><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                    "<td>%s</td></tr>" % ("kthread" if t["kthread"] else "process", t["pid"],
                                          esc(name), esc(t["state"]),
                                          "hart %d" % harts[t["addr"]] if t["addr"] in harts
                                          else "-",
                                          esc(names.get(t["mm"], "-")) if t["mm"] else "-",
                                          esc(act)))
    return "\n".join(rows)


DEFS = ['<defs>',
        '<marker id="arrow-link" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="#2e7d4f"/></marker>',
        '<marker id="arrow-unsynced" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="#d07a00"/></marker>',
        '<marker id="arrow-hart" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="#6a3fa8"/></marker>',
        '</defs>']

STYLE = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 16px; color: #1b1b1b;
       background: #fff; }
h1 { font-size: 20px; }
svg text { font-size: %(font)dpx; fill: #1b1b1b; }
svg text.b { font-weight: bold; }
svg text.s, svg text.run, svg text.note { font-size: %(small)dpx; }
svg text.note { fill: #666; font-style: italic; }
svg text.run { fill: #24406e; font-family: "DejaVu Sans Mono", monospace; }
svg text.title { font-size: 22px; font-weight: bold; }
svg text.sub { font-size: %(small)dpx; fill: #555; }
svg text.section { font-size: %(small)dpx; font-weight: bold; fill: #555;
                   text-transform: uppercase; letter-spacing: 0.04em; }
rect.head { fill: #f4f4f4; stroke: #444; stroke-width: 1.5; }
rect.head.template { fill: #e6e6e6; stroke: #222; stroke-width: 2.5; }
rect.head.init_mm { fill: #f1ecf8; }
rect.user { fill: #dce8fb; stroke: #3d6bb3; stroke-width: 1.5; }
rect.template { fill: #e6e6e6; stroke: #444; stroke-width: 2; }
rect.shared { fill: #d8f0e1; stroke: #2e7d4f; stroke-width: 1.5; }
rect.unsynced { fill: #fff4de; stroke: #d07a00; stroke-width: 2; stroke-dasharray: 6 4; }
rect.differs { fill: #fbdada; stroke: #c62828; stroke-width: 2.5; }
rect.table { fill: #bfe6cd; stroke: #1f5f3a; stroke-width: 2; }
rect.hart { fill: #ece3f7; stroke: #6a3fa8; stroke-width: 2; }
path.link { fill: none; stroke: #2e7d4f; stroke-width: 1.6; opacity: 0.75; }
path.link.template { stroke: #333; stroke-width: 2.2; }
path.link.unsynced { stroke: #d07a00; stroke-dasharray: 6 5; opacity: 0.9; }
path.satp { fill: none; stroke: #6a3fa8; stroke-width: 2.5; }
path.satp.borrowed { stroke-dasharray: 7 5; }
table.tasks { border-collapse: collapse; margin-top: 12px; font-size: 14px; }
table.tasks td, table.tasks th { border: 1px solid #bbb; padding: 3px 10px; text-align: left; }
table.tasks tr.kthread td { color: #5a3a8a; }
""" % dict(font=FONT, small=SMALL)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%(title)s</title>
<style>%(style)s</style>
</head>
<body>
<svg id="ptview" xmlns="http://www.w3.org/2000/svg" width="%(width)d" height="%(height)d"
     viewBox="0 0 %(width)d %(height)d">
%(svg)s
</svg>
<h1>Tasks</h1>
<table class="tasks">
%(tasks)s
</table>
<p>Made by <code>make ptview</code> or gdb's <code>ptdump --html</code>;
docs/ptview.md explains the picture.</p>
<pre id="layout-check" hidden></pre>
<script>%(check)s</script>
</body>
</html>
"""

# Run by the browser: measures the laid-out picture, so a test that loads
# the page in headless Chromium (--dump-dom) can check that no label
# overflows its box, that no two columns overlap and that every link
# starts at its entry and ends at its table. It changes nothing visible.
CHECK_SCRIPT = r"""
(function () {
  var out = {boxes: 0, links: 0, overflow: [], overlap: [], dangling: []};
  function inside(p, b, slack) {
    return p.x >= b.x - slack && p.x <= b.x + b.width + slack &&
           p.y >= b.y - slack && p.y <= b.y + b.height + slack;
  }
  document.querySelectorAll('g.box').forEach(function (g) {
    out.boxes++;
    var r = g.querySelector('rect').getBBox();
    g.querySelectorAll('text').forEach(function (t) {
      var b = t.getBBox();
      if (b.x < r.x - 1 || b.x + b.width > r.x + r.width + 1 ||
          b.y < r.y - 1 || b.y + b.height > r.y + r.height + 1)
        out.overflow.push(t.textContent);
    });
  });
  var cols = Array.prototype.slice.call(document.querySelectorAll('g.column'));
  for (var i = 0; i < cols.length; i++)
    for (var j = i + 1; j < cols.length; j++) {
      var a = cols[i].getBBox(), b = cols[j].getBBox();
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height &&
          b.y < a.y + a.height)
        out.overlap.push([i, j]);
    }
  document.querySelectorAll('path.link').forEach(function (p) {
    out.links++;
    var from = document.getElementById(p.getAttribute('data-from'));
    var to = document.getElementById(p.getAttribute('data-to'));
    var ok = from && to && inside(p.getPointAtLength(0), from.getBBox(), 2) &&
             inside(p.getPointAtLength(p.getTotalLength()), to.getBBox(), 4);
    if (!ok) out.dangling.push(p.getAttribute('data-from') + '->' + p.getAttribute('data-to'));
  });
  var svg = document.getElementById('ptview').getBoundingClientRect();
  out.width = Math.round(svg.width);
  out.height = Math.round(svg.height);
  document.getElementById('layout-check').textContent = JSON.stringify(out);
})();
"""


# ---- make ptview: boot, run the workload, snapshot with gdb ----------------------

WORKLOAD_BEFORE = [3, 12]     # grow N &: processes alive when vmalloc maps
WORKLOAD_AFTER = [5]          # grow N &: forked after the new root entry


def find_gdb():
    for g in ("gdb-multiarch", "riscv64-unknown-elf-gdb", "riscv64-linux-gnu-gdb",
              "riscv64-elf-gdb"):
        if shutil.which(g):
            return shutil.which(g)
    return None


def start_grow(m, pages, timeout):
    """grow pages & ; wait until it says it has grown (its line may come
    after the shell's next prompt, so the console is polled)."""
    start = len(m.text)
    m.send("grow %d &" % pages)
    deadline = time.monotonic() + timeout
    while "%d pages added" % pages not in m.text[start:]:
        m.check_panic()
        if time.monotonic() > deadline:
            raise RuntimeError("grow %d did not report that it had grown" % pages)
        time.sleep(0.1)


def workload(m, timeout):
    """Processes first; then a vmalloc mapping in a root entry no root had
    (the self-tests' area, ktest vmalloc_lazy_sync: its own process syncs
    it, the older roots do not); then one more process, copied after."""
    for n in WORKLOAD_BEFORE:
        start_grow(m, n, timeout)
    out = m.run("ktest vmalloc_lazy_sync", timeout)
    if "vmalloc_lazy_sync: OK" not in out:
        raise RuntimeError("ktest vmalloc_lazy_sync: %s" % out.strip()[-300:])
    for n in WORKLOAD_AFTER:
        start_grow(m, n, timeout)
    m.run("ps", timeout)


def snapshot_with_gdb(port, html_path, json_path, timeout):
    """Attach gdb (which stops every hart), run ptdump --html, detach."""
    gdb = find_gdb()
    if gdb is None:
        raise RuntimeError("no gdb-multiarch or riscv64 gdb (make deps)")
    cmds = ["set confirm off", "set pagination off", "set architecture riscv:rv64",
            "symbol-file kernel/kernel", "target remote 127.0.0.1:%d" % port,
            "source scripts/canopy-gdb.py",
            "ptdump --html %s --json %s" % (html_path, json_path), "detach"]
    args = [gdb, "-nx", "-q", "-batch"]
    for c in cmds:
        args += ["-ex", c]
    p = subprocess.run(args, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)
    if not os.path.exists(html_path):
        raise RuntimeError("gdb wrote no page:\n" + p.stdout[-1500:])
    return p.stdout


SNAPSHOT_TRIES = 8


def borrowing_harts(snap):
    """The harts running a kernel thread on the mm of a live process."""
    tasks = {t["addr"]: t for t in snap["tasks"]}
    owned = {t["mm"] for t in snap["tasks"] if t["mm"] is not None and t["state"] != "ZOMBIE"}
    return [h for h in snap["harts"] if tasks.get(h["task"]) and tasks[h["task"]]["kthread"]
            and tasks[h["task"]]["active_mm"] in owned]


def boot_and_draw(out, cpus, mem, fsimg, log, timeout=120, json_out=None):
    """The whole of make ptview. Returns the snapshot."""
    sys.path.insert(0, os.path.join(REPO, "tests"))
    from qemu import Machine, qemu_command, copy_image, start_with_gdb_stub
    tmp = tempfile.mkdtemp(prefix="canopy-ptview-")
    m = None
    try:
        img = copy_image(fsimg, tmp)
        cmd = qemu_command(img, cpus, mem) + ["-no-reboot"]
        m, port = start_with_gdb_stub(
            lambda port: Machine(cmd + ["-gdb", "tcp:127.0.0.1:%d" % port], log))
        m.boot(timeout)
        workload(m, timeout)
        json_path = json_out or os.path.join(tmp, "snapshot.json")
        # The best moment for the picture has a kernel thread on a hart
        # borrowing a process's mm (an idle hart usually is one); stop the
        # machine again a few times to catch one, else keep the last.
        for attempt in range(SNAPSHOT_TRIES):
            text = snapshot_with_gdb(port, os.path.abspath(out), os.path.abspath(json_path),
                                     timeout)
            snap = json.load(open(json_path))
            if borrowing_harts(snap):
                break
            m.run("echo again", timeout)   # let the machine run between two looks
        m.run("echo after gdb", timeout)   # the machine still runs once gdb detached
        m.poweroff(10)
        sys.stdout.write("".join(l + "\n" for l in text.splitlines() if "ptdump" in l))
        return snap
    finally:
        if m is not None:
            m.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="Draw every page table of a running canopy.")
    ap.add_argument("--out", default="ptview.html")
    ap.add_argument("--from-json", help="draw this snapshot (ptdump --json) instead of booting")
    ap.add_argument("--json", help="also keep the snapshot here")
    ap.add_argument("--cpus", default="3")
    ap.add_argument("--mem", default="128M")
    ap.add_argument("--fsimg", default=os.path.join(REPO, "fs.img"))
    a = ap.parse_args()
    if a.from_json:
        with open(a.out, "w") as f:
            f.write(render(json.load(open(a.from_json))))
        print("ptview: wrote %s" % a.out)
        return 0
    os.makedirs(os.path.join(REPO, "tests", "out"), exist_ok=True)
    try:
        boot_and_draw(a.out, a.cpus, a.mem, a.fsimg,
                      os.path.join(REPO, "tests", "out", "console-ptview.log"), json_out=a.json)
    except Exception as e:   # the machine's errors, gdb's, the workload's
        print("ptview: %s (console: tests/out/console-ptview.log)" % e, file=sys.stderr)
        return 1
    print("ptview: open %s in a browser" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
