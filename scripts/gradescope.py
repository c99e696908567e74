#!/usr/bin/env python3
"""gradescope.py: pack a lab's Gradescope autograder (make gradescope).

    python3 scripts/gradescope.py --lab vmsync --out DIR
        writes DIR/canopy-vmsync-autograder.zip

The zip is the lab's reference tree: the starter (scripts/starter.py)
with the instructor's copies of the lab's protected files laid over it
(lab.json's "protected": the graders, including hidden ones kept out of
the starter, tests/, the self-tests...; other labs' markers cut away as in
the starter). At its top are Gradescope's two entry points, from
grade/gradescope/: setup.sh (installs the toolchain, builds the tree) and
run_autograder (grade/autograder.py). It holds no solution of the lab.
"""
import argparse
import os
import shutil
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labcut  # noqa: E402
import starter  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "grade"))
import submission  # noqa: E402

ENTRY_POINTS = ("setup.sh", "run_autograder")


def reference_tree(lab, out):
    """Write the lab's reference tree (see above) to out."""
    starter.make_starter(lab, out, git=False)
    for rel in submission.protected(lab, REPO):
        src, dst = os.path.join(REPO, rel), os.path.join(out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        try:
            text = open(src, encoding="utf-8").read()
        except UnicodeDecodeError:
            shutil.copy2(src, dst)
            continue
        new = labcut.cut(text, lab, rel)
        if os.path.exists(dst) and open(dst, encoding="utf-8").read() == new:
            continue   # as in the starter: keep its timestamp
        with open(dst, "w", encoding="utf-8") as f:
            f.write(new)
        shutil.copymode(src, dst)
    for name in ENTRY_POINTS:
        text = open(os.path.join(REPO, "grade", "gradescope", name)).read()
        with open(os.path.join(out, name), "w") as f:
            f.write(text.replace("@LAB@", lab))
        os.chmod(os.path.join(out, name), 0o755)


def write_zip(tree, path):
    """Zip tree's files at path, modes kept (run_autograder must stay
    executable), entry points first."""
    files = []
    for top, dirs, names in os.walk(tree):
        dirs.sort()
        for n in sorted(names):
            files.append(os.path.relpath(os.path.join(top, n), tree))
    files.sort(key=lambda r: (r not in ENTRY_POINTS, r))
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in files:
            full = os.path.join(tree, rel)
            info = zipfile.ZipInfo.from_file(full, rel)
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(full, "rb") as f:
                z.writestr(info, f.read())
    os.replace(tmp, path)
    return len(files)


def main():
    p = argparse.ArgumentParser(description="Pack a lab's Gradescope autograder zip.")
    p.add_argument("--lab", required=True)
    p.add_argument("--out", required=True, help="directory for canopy-<lab>-autograder.zip")
    a = p.parse_args()
    if a.lab not in starter.all_labs(REPO):
        print("gradescope: no lab %r (labs: %s)" % (a.lab, ", ".join(starter.all_labs(REPO))),
              file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "canopy-%s-autograder.zip" % a.lab)
    tmp = tempfile.mkdtemp(prefix="canopy-gradescope-")
    try:
        tree = os.path.join(tmp, "source")
        reference_tree(a.lab, tree)
        n = write_zip(tree, path)
    except (starter.StarterError, labcut.MarkerError, OSError) as e:
        print("gradescope: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %d files; upload it as the autograder of lab %s "
          "(Ubuntu 24.04 base image, docs/instructors.md)" % (path, n, a.lab))
    return 0


if __name__ == "__main__":
    sys.exit(main())
