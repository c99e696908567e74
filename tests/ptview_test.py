"""ptview_test.py: the "ptview" group of tests/run.py: make ptview's page.

Runs what make ptview runs (scripts/ptview.py: boot with a gdb stub, the
workload, gdb's `ptdump --html`), then checks the page it wrote:

  ptview_snapshot         gdb read one root per live mm, every hart's satp
                          and the tasks; the workload's processes are there
  ptview_page_structure   the page, parsed: kernel_pagetable's column
                          first; one column per process; in every process
                          column each shared kernel entry names the table
                          the template's entry names (and the snapshot's);
                          the processes started before the vmalloc mapping
                          show its root entry "not yet synced", the one
                          started after shares it; user pages at least
                          what each grow added; a legend
  ptview_harts            one box per hart, pointing at a drawn root; a
                          hart running a kernel thread says which mm it
                          borrows, one running a process does not; at
                          least one hart runs a kernel thread (ptview
                          stops the machine again until one does, a few
                          times, preferring one on a process's mm)
  ptview_same_as_render   re-rendering the snapshot gdb saved gives the
                          page gdb wrote (the gdb command and make ptview
                          draw the same page)
  ptview_self_contained   nothing to fetch: no src=, href=, url() but
                          #markers, no @import; one <svg>
With Chromium installed (skipped, and said so, when it is not):
  ptview_renders_in_chromium  headless Chromium loads the page; the
                          page's own layout check (--dump-dom) finds no
                          label outside its box, no overlapping columns,
                          every link from its entry to its table
  ptview_screenshot       --screenshot writes a PNG of the window's size
                          that is not blank (structure, not pixels)
"""
import html.parser
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import zlib

from qemu import REPO, MachineError

sys.path.insert(0, os.path.join(REPO, "scripts"))
import ptview  # noqa: E402

OUT = os.path.join(REPO, "tests", "out")
CHROME_TIMEOUT = 90
WINDOW = (1600, 1100)
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


class Page(html.parser.HTMLParser):
    """Every start tag with its attributes, and the text inside each
    <g class="box ..."> (by the g's id)."""

    def __init__(self):
        super().__init__()
        self.tags, self.texts, self.stack = [], {}, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        a["_tag"] = tag
        a["_classes"] = set((a.get("class") or "").split())
        self.tags.append(a)
        if tag == "g":
            self.stack.append(a)

    def handle_endtag(self, tag):
        if tag == "g" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for g in reversed(self.stack):
            if "box" in g["_classes"] and g.get("id"):
                self.texts.setdefault(g["id"], []).append(data)
                break

    def find(self, tag, *classes):
        return [t for t in self.tags if t["_tag"] == tag and set(classes) <= t["_classes"]]


def parse(text):
    p = Page()
    p.feed(text)
    return p


def find_chromium():
    for c in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(c):
            return shutil.which(c)
    return None


def chromium(browser, tmpdir, args):
    """Run headless Chromium with a fresh profile, in a session of its own
    so that a time-out kills its helper processes too. Returns (status,
    stdout)."""
    profile = os.path.join(tmpdir, "chromium-profile-%d" % len(os.listdir(tmpdir)))
    env = dict(os.environ, HOME=tmpdir)
    p = subprocess.Popen([browser] + CHROME_FLAGS + ["--user-data-dir=" + profile] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, universal_newlines=True, env=env,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=CHROME_TIMEOUT)
        return p.returncode, out
    except subprocess.TimeoutExpired:
        return -1, "(chromium took more than %d s)" % CHROME_TIMEOUT
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)   # its helpers, if any outlived it
        except OSError:
            pass
        p.wait()
        shutil.rmtree(profile, ignore_errors=True)


def png_problems(path, size):
    """What keeps path from being a non-blank PNG of size (w, h), or []."""
    try:
        data = open(path, "rb").read()
    except OSError as e:
        return ["no screenshot: %r" % e]
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return ["not a PNG"]
    pos, idat = 8, b""
    w = h = depth = ctype = None
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if (w, h) != tuple(size):
        return ["the screenshot is %sx%s, the window %dx%d" % (w, h, size[0], size[1])]
    try:
        raw = zlib.decompress(idat)
    except zlib.error as e:
        return ["bad image data: %s" % e]
    # Row by row, drop the filter byte: a blank page is one colour, so its
    # filtered rows are (nearly) all zeros and hold few distinct bytes.
    channels = {2: 3, 6: 4, 0: 1, 4: 2}.get(ctype, 3)
    stride = 1 + w * channels * depth // 8
    if len(raw) != stride * h:
        return ["image data of %d bytes, expected %d" % (len(raw), stride * h)]
    busy = sum(1 for r in range(h) if raw[r * stride + 1:(r + 1) * stride].strip(b"\0"))
    distinct = len(set(raw[::7]))
    if busy < h // 4 or distinct < 16:
        return ["the screenshot looks blank (%d of %d rows drawn, %d distinct bytes)"
                % (busy, h, distinct)]
    return []


# ---- the checks -----------------------------------------------------------------

def check_snapshot(snap, cpus, res):
    live = {t["mm"] for t in snap["tasks"] if t["mm"] is not None and t["state"] != "ZOMBIE"}
    drawn = {r["pgd"] for r in snap["roots"]}
    grows = sorted(t["pid"] for t in snap["tasks"] if t["name"] == "grow" and not t["kthread"])
    problems = []
    if not live <= drawn:
        problems.append("roots of live mms missing: %s" % sorted(live - drawn))
    if len(snap["harts"]) != int(cpus):
        problems.append("%d harts read, the machine has %s" % (len(snap["harts"]), cpus))
    if any(h["root"] is None for h in snap["harts"]):
        problems.append("a hart with paging off: %s" % snap["harts"])
    want = len(ptview.WORKLOAD_BEFORE) + len(ptview.WORKLOAD_AFTER)
    if len(grows) != want:
        problems.append("%d grow processes, the workload starts %d" % (len(grows), want))
    res.check("ptview_snapshot", not problems, "; ".join(problems))
    return grows


def check_structure(page, snap, grows, res):
    problems = []
    cols = page.find("g", "column")
    c = snap["constants"]
    tmpl = snap["template"]["entries"]
    if not cols or cols[0].get("data-kind") != "template" or \
            int(cols[0]["data-pgd"]) != snap["template"]["pgd"]:
        problems.append("the first column is not kernel_pagetable's")
    procs = [col for col in cols if col.get("data-kind") == "process"]
    live = {t["mm"] for t in snap["tasks"] if t["mm"] is not None}
    if len(procs) != len(live) or len(procs) < 3:
        problems.append("%d process columns for %d live mms" % (len(procs), len(live)))
    index = {k: int(col["data-pgd"]) for k, col in enumerate(cols)}
    entries = {}
    for e in page.find("g", "entry"):
        k, i = (int(x) for x in e["id"].split("-")[1:3])
        entries[(index.get(k), i)] = e
    tmpl_pgd = snap["template"]["pgd"]
    kernel = [i for i in range(c["kernel_pgd_first"], 512) if tmpl[i] & 1]
    for i in kernel:
        t = entries.get((tmpl_pgd, i))
        want = ptview.pte_pa(tmpl[i])
        if t is None or int(t["data-table"]) != want:
            problems.append("template entry %d not drawn pointing at 0x%x" % (i, want))
        if not page.find("g", "table") or not [x for x in page.find("g", "table")
                                                if x.get("id") == "table-%d" % i]:
            problems.append("no shared table box for entry %d" % i)
    shared = 0
    for col in procs:
        pgd = int(col["data-pgd"])
        for (p, i), e in entries.items():
            if p != pgd or "kernel" not in e["_classes"]:
                continue
            if e["data-state"] == "shared":
                shared += 1
                if int(e["data-table"]) != ptview.pte_pa(tmpl[i]):
                    problems.append("root 0x%x entry %d shared but names table %s"
                                    % (pgd, i, e["data-table"]))
    if shared < 2 * len(procs):
        problems.append("only %d shared kernel entries in %d process columns"
                        % (shared, len(procs)))
    # The workload: grows before the vmalloc mapping lack its root entry,
    # the one after has it; each has at least the pages it added.
    ktest_pgd = c["vmalloc_pgd_last"]
    by_pid = {t["pid"]: t for t in snap["tasks"] if not t["kthread"]}
    sizes = ptview.WORKLOAD_BEFORE + ptview.WORKLOAD_AFTER
    for n, pid in enumerate(grows):
        pgd = by_pid[pid]["mm"]
        e = entries.get((pgd, ktest_pgd))
        want = "unsynced" if n < len(ptview.WORKLOAD_BEFORE) else "shared"
        if e is None or e.get("data-state") != want:
            problems.append("grow pid %d (%s the vmalloc mapping): entry %d is %s, not %s"
                            % (pid, "before" if want == "unsynced" else "after", ktest_pgd,
                               e and e.get("data-state"), want))
        user = [x for (p, i), x in entries.items() if p == pgd and "user" in x["_classes"]]
        pages = sum(int(x["data-pages"]) for x in user)
        if n < len(sizes) and pages < sizes[n]:
            problems.append("grow pid %d added %d pages, its column shows %d"
                            % (pid, sizes[n], pages))
    legend = page.find("text", "legend-text")
    kinds = {x.get("data-item") for x in legend}
    for need in ("entry kernel shared", "entry kernel unsynced", "entry user", "hart",
                 "satp borrowed", "table shared"):
        if need not in kinds:
            problems.append("the legend lacks %r" % need)
    res.check("ptview_page_structure", not problems, "; ".join(problems[:6]))


def check_harts(page, snap, res):
    problems = []
    boxes = page.find("g", "hart")
    kthreads = 0
    pgds = {int(col["data-pgd"]) for col in page.find("g", "column")}
    tasks = {t["addr"]: t for t in snap["tasks"]}
    if len(boxes) != len(snap["harts"]):
        problems.append("%d hart boxes for %d harts" % (len(boxes), len(snap["harts"])))
    for h in snap["harts"]:
        b = [x for x in boxes if x.get("data-hart") == str(h["hart"])]
        if not b:
            problems.append("no box for hart %d" % h["hart"])
            continue
        b = b[0]
        if int(b["data-root"]) not in pgds or int(b["data-root"]) != h["root"]:
            problems.append("hart %d points at %s, its satp root is 0x%x"
                            % (h["hart"], b["data-root"], h["root"]))
        t = tasks.get(h["task"])
        text = " ".join(page.texts.get(b["id"], []))
        kthread = t is not None and t["kthread"]
        kthreads += kthread
        if kthread != ("borrows" in text) or kthread != ("data-borrowed" in b):
            problems.append("hart %d runs %s but its box says %r"
                            % (h["hart"], t and t["name"], text))
    if not kthreads:
        problems.append("no hart runs a kernel thread (on a borrowed mm) in %d tries"
                        % ptview.SNAPSHOT_TRIES)
    res.check("ptview_harts", not problems, "; ".join(problems))


def check_self_contained(text, res):
    problems = []
    for pat, what in ((r"\bsrc\s*=", "src="), (r"\bhref\s*=", "href="),
                      (r"url\((?!#)", "url() of a file"), (r"@import", "@import"),
                      (r"<link\b", "<link>")):
        if re.search(pat, text):
            problems.append("the page has %s" % what)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", text)) - {"http://www.w3.org/2000/svg"}
    if urls:
        problems.append("the page names %s" % sorted(urls))
    if text.count("<svg") != 1:
        problems.append("%d <svg> elements" % text.count("<svg"))
    res.check("ptview_self_contained", not problems, "; ".join(problems))


def check_in_chromium(path, page, tmpdir, res):
    browser = find_chromium()
    if browser is None:
        print("# ptview: no Chromium installed (apt-get install chromium): "
              "ptview_renders_in_chromium and ptview_screenshot skipped", flush=True)
        return
    url = "file://" + os.path.abspath(path)
    status, dom = chromium(browser, tmpdir, ["--dump-dom", url])
    m = re.search(r'<pre id="layout-check"[^>]*>([^<]*)</pre>', dom)
    problems = []
    if status != 0 or not m or not m.group(1).strip():
        problems.append("chromium exited %d without the layout check: %r"
                        % (status, dom[-300:]))
    else:
        lay = json.loads(m.group(1))
        boxes, links = len(page.find("g", "box")), len(page.find("path", "link"))
        if lay["boxes"] != boxes or lay["links"] != links or not links:
            problems.append("the browser laid out %s boxes and %s links, the page has %d and %d"
                            % (lay["boxes"], lay["links"], boxes, links))
        for k in ("overflow", "overlap", "dangling"):
            if lay[k]:
                problems.append("%s: %s" % (k, lay[k][:5]))
        if lay["width"] < 600 or lay["height"] < 400:
            problems.append("the picture is %sx%s" % (lay["width"], lay["height"]))
    res.check("ptview_renders_in_chromium", not problems, "; ".join(problems))
    shot = os.path.join(OUT, "ptview.png")
    if os.path.exists(shot):
        os.unlink(shot)
    status, out = chromium(browser, tmpdir, ["--window-size=%d,%d" % WINDOW,
                                             "--screenshot=" + shot, "--hide-scrollbars", url])
    problems = png_problems(shot, WINDOW) if status == 0 else \
        ["chromium --screenshot exited %d %s" % (status, out[-200:])]
    res.check("ptview_screenshot", not problems, "; ".join(problems))


def run(args, res, tmpdir):
    """Entry point for tests/run.py."""
    if args.qemu_cmd:
        print("# ptview group skipped: it needs the real QEMU, not --qemu-cmd", flush=True)
        return
    if ptview.find_gdb() is None:
        res.fail("ptview_snapshot", "no gdb-multiarch or riscv64 gdb installed")
        return
    path = os.path.join(OUT, "ptview.html")
    snap_path = os.path.join(OUT, "ptview.json")
    try:
        snap = ptview.boot_and_draw(path, args.cpus, args.mem, args.fsimg,
                                    os.path.join(OUT, "console-ptview.log"),
                                    timeout=120 * args.timeout_scale, json_out=snap_path)
    except (MachineError, RuntimeError, subprocess.SubprocessError, OSError) as e:
        res.fail("ptview_snapshot", "%s (tests/out/console-ptview.log)" % e)
        return
    text = open(path).read()
    page = parse(text)
    grows = check_snapshot(snap, args.cpus, res)
    check_structure(page, snap, grows, res)
    check_harts(page, snap, res)
    res.check("ptview_same_as_render", ptview.render(snap) == text,
              "rendering tests/out/ptview.json again gives another page than gdb's")
    check_self_contained(text, res)
    check_in_chromium(path, page, tmpdir, res)
