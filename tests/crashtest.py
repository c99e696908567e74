#!/usr/bin/env python3
"""crashtest.py: crash-consistency test of canopy's file system (make
crashtest; a short round runs in make test). docs/robustness.md.

For each crash point: boot a fresh copy of fs.img, run `crashwork SEED
NOPS` (user/crashwork.c), cut the power, boot again on the same image
(the log must recover), power off, then check the image:

  - mkfs/fsck: bitmap against inodes, link counts, orphans, directory
    tree, sizes, log header empty;
  - the host's model: every operation crashwork printed "A n" for (it
    returned) is there with its content, and the tree under /cw holds
    nothing else, except that the one operation in flight ("B n" without
    "A n") may be absent or present, and a write in flight may have
    reached any of its transaction boundaries (file.c splits a write into
    MAXWRITE-byte transactions), never a torn block.

Power is cut two ways, alternately: after the J-th disk write, with the
kernel's crashafter=J boot argument (virtio_blk.c powers off instead of
starting write J+1), J spread over the workload's writes; and at a random
moment, by killing QEMU (SIGKILL) a random delay after a random "A n".
A first run without a cut counts the workload's disk writes and checks
the complete result.
"""

import argparse
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import (REPO, Machine, MachineError, KernelPanic, Timeout,  # noqa: E402
                  QemuExited, qemu_command, copy_image, kill_all)

OUT = os.path.join(REPO, "tests", "out")
BSIZE = 1024
NDIRECT = 12
MAXWRITE = 5 * BSIZE     # kernel/file.c: (MAXOPBLOCKS - 5) * BSIZE
T_DIR, T_FILE = 1, 2


def crash_byte_block(tag, off, n):
    """n bytes of crashwork's data for tag from file offset off."""
    out = bytearray(n)
    for k in range(n):
        i = off + k
        x = (tag * 0x9E3779B1 + (i // 4) * 0x85EBCA77) & 0xffffffff
        x ^= x >> 15
        x = (x * 0x2C1B3C6D) & 0xffffffff
        x ^= x >> 12
        out[k] = (x >> (8 * (i % 4))) & 0xff
    return bytes(out)


# ---- the model ---------------------------------------------------------------

class Model:
    """Names under /cw: path -> "dir" or a file id; file id -> bytes."""

    def __init__(self):
        self.names = {}
        self.files = {}
        self.next_id = 0

    def copy(self):
        m = Model()
        m.names = dict(self.names)
        m.files = dict(self.files)
        m.next_id = self.next_id
        return m

    def apply(self, op, limit=None):
        """Apply op (a list of words); for a write, only its first limit
        bytes if limit is given."""
        kind = op[0]
        if kind == "mkdir":
            self.names[op[1]] = "dir"
        elif kind == "create":
            self.names[op[1]] = self.next_id
            self.files[self.next_id] = b""
            self.next_id += 1
        elif kind in ("write", "append"):
            fid = self.names[op[1]]
            n, tag = int(op[2]), int(op[3]) & 0xffffffff
            if limit is not None:
                n = min(n, limit)
            old = self.files[fid]
            off = len(old) if kind == "append" else 0
            data = crash_byte_block(tag, off, n)
            self.files[fid] = old[:off] + data + old[off + n:]
        elif kind == "trunc":
            self.files[self.names[op[1]]] = b""
        elif kind == "link":
            self.names[op[2]] = self.names[op[1]]
        elif kind == "unlink":
            fid = self.names.pop(op[1])
            if fid != "dir" and fid not in self.names.values():
                del self.files[fid]
        else:
            raise ValueError("unknown operation %r" % op)

    def variants_after(self, op):
        """Every state op may leave if the power failed during it:
        untouched, done, or (a write) cut at a transaction boundary."""
        out = [self]
        if op[0] in ("write", "append"):
            n = int(op[2])
            for lim in range(MAXWRITE, n, MAXWRITE):
                m = self.copy()
                m.apply(op, lim)
                out.append(m)
        m = self.copy()
        m.apply(op)
        out.append(m)
        return out


# ---- reading the image ---------------------------------------------------------

class Image:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        (magic, self.size, self.nblocks, self.ninodes, self.nlog, self.logstart,
         self.inodestart, self.bmapstart) = struct.unpack_from("<8I", self.data, BSIZE)

    def block(self, b):
        return self.data[b * BSIZE:(b + 1) * BSIZE]

    def inode(self, inum):
        off = (self.inodestart + inum // 16) * BSIZE + (inum % 16) * 64
        typ, major, minor, nlink, size = struct.unpack_from("<hhhhI", self.data, off)
        addrs = struct.unpack_from("<13I", self.data, off + 12)
        return typ, nlink, size, addrs

    def content(self, inum):
        typ, nlink, size, addrs = self.inode(inum)
        blocks = list(addrs[:NDIRECT])
        if addrs[NDIRECT]:
            blocks += list(struct.unpack_from("<256I", self.data, addrs[NDIRECT] * BSIZE))
        out = b"".join(self.block(b) if b else b"\0" * BSIZE
                       for b in blocks[:(size + BSIZE - 1) // BSIZE])
        return out[:size]

    def entries(self, inum):
        d = self.content(inum)
        for i in range(0, len(d) - len(d) % 16, 16):
            ino, = struct.unpack_from("<H", d, i)
            name = d[i + 2:i + 16].split(b"\0")[0].decode("latin-1")
            if ino and name not in (".", ".."):
                yield name, ino

    def tree(self, root="/cw"):
        """The tree under root: path -> "dir" or ("file", inum), and
        inum -> content. None if root is missing."""
        top = dict(self.entries(1)).get(root.strip("/"))
        if top is None:
            return None, {}
        names, contents = {root: "dir"}, {}
        todo = [(root, top)]
        while todo:
            path, ino = todo.pop()
            for name, child in self.entries(ino):
                p = path + "/" + name
                typ = self.inode(child)[0]
                if typ == T_DIR:
                    names[p] = "dir"
                    todo.append((p, child))
                else:
                    names[p] = ("file", child)
                    contents[child] = self.content(child)
        return names, contents


def differences(model, names, contents):
    """Why the image's tree does not match model ([] if it does)."""
    if names is None:
        return ["/cw is missing"]
    probs = []
    for p in sorted(set(model.names) - set(names)):
        probs.append("%s missing" % p)
    for p in sorted(set(names) - set(model.names)):
        probs.append("%s should not exist" % p)
    inum_of = {}
    for p in sorted(set(names) & set(model.names)):
        want, got = model.names[p], names[p]
        if want == "dir" or got == "dir":
            if want != got:
                probs.append("%s: type differs" % p)
            continue
        ino = got[1]
        if want in inum_of and inum_of[want] != ino:
            probs.append("%s: should be a link to inode %d, is %d" % (p, inum_of[want], ino))
        inum_of.setdefault(want, ino)
        data = contents[ino]
        exp = model.files[want]
        if data != exp:
            first = next((i for i in range(min(len(data), len(exp))) if data[i] != exp[i]),
                         min(len(data), len(exp)))
            probs.append("%s: %d bytes, want %d; first difference at byte %d"
                         % (p, len(data), len(exp), first))
    return probs


# ---- one run -------------------------------------------------------------------

def parse_log(text):
    """(ops, acked, begun): every "B n ..." line's operation by n, the
    set of n with an "A n" line."""
    ops, acked = {}, set()
    for line in text.split("\n")[:-1]:   # complete lines only
        m = re.match(r"B (\d+) (.*)$", line)
        if m:
            ops[int(m.group(1))] = m.group(2).split()
            continue
        m = re.match(r"A (\d+)$", line)
        if m:
            acked.add(int(m.group(1)))
    return ops, acked


def check_image(img, text, fsck, full_ops=None):
    """Problems of image img after the console text of the run that
    crashed: fsck's, then the model's. Also returns (acked, inflight).
    full_ops: the operations of the uncut run (the workload is the same
    for a seed). The operation after the last acknowledged one may have
    been in flight even if its "B n" line was cut short or never reached
    the host (QEMU killed while the console drained), so it is taken from
    there."""
    probs = []
    p = subprocess.run([fsck, img], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if p.returncode != 0:
        probs += ["fsck: " + l.strip() for l in p.stdout.splitlines()
                  if "FAIL" in l or l.startswith("    ")]
    ops, acked = parse_log(text)
    n_acked = 0
    while n_acked in acked:
        n_acked += 1
    if len(acked) != n_acked:
        probs.append("acknowledgements out of order: %s" % sorted(acked)[:10])
    model = Model()
    for n in range(n_acked):
        model.apply(ops[n])
    inflight = ops.get(n_acked)
    if full_ops and n_acked in full_ops:
        if inflight and inflight != full_ops[n_acked]:
            probs.append("operation %d differs from the uncut run's" % n_acked)
        inflight = full_ops[n_acked]
    candidates = model.variants_after(inflight) if inflight else [model]
    names, contents = Image(img).tree()
    if names is None and n_acked == 0:
        names = {}      # /cw itself was in flight
    results = [differences(c, names, contents) for c in candidates]
    if not any(r == [] for r in results):
        best = min(results, key=len)
        probs += ["after %d acknowledged operations%s: %s"
                  % (n_acked, " (in flight: %s)" % " ".join(inflight) if inflight else "", x)
                  for x in best[:8]]
    return probs, n_acked, inflight


class Runner:
    def __init__(self, fsimg, cpus, mem, scale, tmpdir, seed, nops, verbose):
        self.fsimg, self.cpus, self.mem, self.scale = fsimg, cpus, mem, scale
        self.tmpdir, self.seed, self.nops, self.verbose = tmpdir, seed, nops, verbose
        self.fsck = os.path.join(REPO, "mkfs", "fsck")
        self.full_ops = None    # the uncut run's operations (run_points)

    def machine(self, img, name, append=None):
        cmd = qemu_command(img, self.cpus, self.mem)
        if append:
            cmd += ["-append", append]
        return Machine(cmd, os.path.join(OUT, "console-crash-%s.log" % name), self.scale)

    def workload(self, img, name, crashafter=None, kill_at=None, rng=None):
        """Boot, run crashwork; cut the power as asked. Returns
        (console text from crashwork on, how it ended)."""
        m = self.machine(img, name, "crashafter=%d" % crashafter if crashafter else None)
        try:
            m.boot(60)
            start = len(m.text)
            m.send("crashwork %d %d" % (self.seed, self.nops))
            if kill_at is not None:
                try:
                    m.expect(r"\nA %d\n|crashwork: (done|FAIL)" % kill_at, 300)
                    time.sleep(rng.uniform(0, 0.005))
                except QemuExited:
                    pass
                m.kill()
                how = "killed after A %d" % kill_at
            else:
                r = m.expect(r"crashafter: power cut|crashwork: (done|FAIL)[^\n]*\n", 300)
                if "power cut" in r.group(0):
                    if not m.wait_exit(30):
                        raise Timeout("QEMU did not exit after the power cut")
                    how = "power cut after write %d" % crashafter
                else:
                    how = r.group(0).strip()
                    m.poweroff(30)
            m.check_panic()
            return m.text[start:], how
        finally:
            m.kill()

    def recover(self, img, name):
        """Boot on the crashed image (the log replays) and power off."""
        m = self.machine(img, name + "-reboot")
        try:
            m.boot(60)
            if not m.poweroff(30):
                raise Timeout("QEMU did not exit after poweroff (reboot)")
            m.check_panic()
        finally:
            m.kill()

    def point(self, name, **kw):
        img = copy_image(self.fsimg, self.tmpdir)
        try:
            text, how = self.workload(img, name, **kw)
            if "FAIL" in how:
                return ["crashwork: " + how], how, 0
            self.recover(img, name)
            probs, n_acked, inflight = check_image(img, text, self.fsck,
                                                   self.full_ops)
            return probs, how, n_acked
        finally:
            os.unlink(img)


def run_points(r, points, report):
    """Calibrate, then try points crash points. report(name, problems,
    detail) is called for each. Returns (points tried, points failed)."""
    rng = random.Random(r.seed)
    img = copy_image(r.fsimg, r.tmpdir)
    try:
        text, how = r.workload(img, "full")
        probs, n_acked, _ = check_image(img, text, r.fsck)
        r.full_ops = parse_log(text)[0]
    finally:
        os.unlink(img)
    m0 = re.search(r"crashwork: start seed \d+ writes (\d+)", text)
    m1 = re.search(r"crashwork: done (\d+) ops writes (\d+)", text)
    if not (m0 and m1):
        report("crash_full_run", ["workload did not finish: " + how], "")
        return 0, 1
    w0, w1 = int(m0.group(1)), int(m1.group(2))
    report("crash_full_run", probs, "%d operations, disk writes %d..%d" % (n_acked, w0, w1))
    failed = 1 if probs else 0
    nwrite = (points + 1) // 2
    for i in range(points):
        if i % 2 == 0:
            k = i // 2
            lo = w0 + (w1 - w0) * k // nwrite
            hi = w0 + (w1 - w0) * (k + 1) // nwrite
            j = rng.randrange(lo + 1, max(lo + 2, hi))
            kw = {"crashafter": j}
            name = "write%d" % j
        else:
            a = rng.randrange(0, n_acked)
            kw = {"kill_at": a, "rng": rng}
            name = "kill%d" % a
        probs, how, acked = r.point(name, **kw)
        report("crash_" + name, probs, "%s; %d operations acknowledged" % (how, acked))
        failed += 1 if probs else 0
    return points, failed


def main():
    p = argparse.ArgumentParser(description="Cut the power under a file system workload.")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--points", type=int, default=10)
    p.add_argument("--nops", type=int, default=200)
    p.add_argument("--cpus", default="3")
    p.add_argument("--mem", default="128M")
    p.add_argument("--timeout-scale", type=float, default=1.0)
    p.add_argument("--fsimg", default=os.path.join(REPO, "fs.img"))
    args = p.parse_args()
    os.makedirs(OUT, exist_ok=True)
    tmpdir = tempfile.mkdtemp(prefix="canopy-crash-")
    bad = []

    def report(name, probs, detail):
        if probs:
            bad.append(name)
            print("%s: FAIL (%s)" % (name, detail), flush=True)
            for x in probs:
                print("    " + x)
        else:
            print("%s: OK (%s)" % (name, detail), flush=True)

    try:
        r = Runner(args.fsimg, args.cpus, args.mem, args.timeout_scale, tmpdir,
                   args.seed, args.nops, False)
        tried, failed = run_points(r, args.points, report)
    except (MachineError, subprocess.CalledProcessError, OSError) as e:
        print("crashtest: FAIL (%s)" % e)
        return 1
    finally:
        kill_all()
        shutil.rmtree(tmpdir, ignore_errors=True)
    print("crashtest: seed %d, %d crash points tried, %d failed, %d inconsistent or lost"
          % (args.seed, tried, failed, len(bad)))
    return 1 if bad else 0


def run(args, res, tmpdir):
    """make test's short round: seed 1, 8 points, 120 operations."""
    r = Runner(args.fsimg, args.cpus, args.mem, args.timeout_scale, tmpdir, 1, 120, False)

    def report(name, probs, detail):
        res.check(name, not probs, "; ".join(probs[:4]) or detail)

    try:
        tried, failed = run_points(r, 8, report)
        info = "crashtest: %d crash points tried, %d failed" % (tried, failed)
        print("    " + info, flush=True)
    except KernelPanic as e:
        res.fail("no_kernel_panic", e)
    except (Timeout, QemuExited) as e:
        res.fail("crash_complete", e)


if __name__ == "__main__":
    sys.exit(main())
