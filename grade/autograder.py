#!/usr/bin/env python3
"""autograder.py: Gradescope's run_autograder for one lab.

    AUTOGRADER_ROOT=/autograder python3 grade/autograder.py --lab vmsync

`make gradescope LAB=x` (scripts/gradescope.py) packs this tree, the lab's
reference tree (the starter plus the instructor's protected files), into
a zip whose run_autograder calls this. Gradescope unpacks it into
$AUTOGRADER_ROOT/source, puts the student's files in
$AUTOGRADER_ROOT/submission and reads $AUTOGRADER_ROOT/results/results.json.

The student's files are laid over a copy of the reference the way
grade/batch.py does it (grade/submission.py), the copy is graded with the
lab's grader, and results.json is written whatever happens: a build that
fails scores 0 with the compiler's output, a submission that cannot be
used or a grader that dies scores 0 with the reason. The exit status is 0
once results.json is written (Gradescope shows the file, not the status).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

GRADE_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(GRADE_DIR)
sys.path.insert(0, GRADE_DIR)
from gradelib import failure_doc, write_results, visibility  # noqa: E402
import submission  # noqa: E402


def listed_tests(lab, tree):
    """(name, points, visibility) of the lab's tests, from its grader."""
    m = submission.manifest(lab, tree)
    p = subprocess.run([sys.executable, os.path.join(tree, m["grader"]), "--list"], cwd=tree,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True, timeout=60)
    out = []
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) >= 3 and f[2] == "points,":
            out.append((f[0], int(f[1]), visibility(m, f[0])))
    return out


def grade(lab, root, results):
    """Prepare and grade the submission; returns None once the grader has
    written results, else why there are none."""
    sub = os.path.join(root, "submission")
    work = os.path.join(root, "work")
    m = submission.manifest(lab, SOURCE)
    limits = m.get("time_limits", {})
    limit = limits.get("build", 600) + limits.get("total", 600)
    shutil.rmtree(work, ignore_errors=True)
    if not os.path.isdir(sub):
        return "no submission: %s does not exist" % sub
    why = submission.prepare(lab, sub, SOURCE, work, instructor=SOURCE)
    if why:
        return why
    mine = results + ".grader"   # the grader's own file: did it write one?
    if os.path.exists(mine):
        os.unlink(mine)
    try:
        p = subprocess.run([sys.executable, m["grader"], "--json", mine], cwd=work,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=limit)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        sys.stdout.write(out)
        return "grading took more than %d s:\n%s" % (limit, out[-3000:])
    sys.stdout.write(p.stdout)
    if not os.path.exists(mine):
        return "the grader wrote no results (exit status %d):\n%s" % (p.returncode,
                                                                      p.stdout[-3000:])
    os.replace(mine, results)
    return None


def main():
    ap = argparse.ArgumentParser(description="Gradescope's run_autograder for a canopy lab.")
    ap.add_argument("--lab", required=True)
    ap.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"),
                    help="the autograder directory (default $AUTOGRADER_ROOT or /autograder)")
    a = ap.parse_args()
    t0 = time.monotonic()
    root = os.path.abspath(a.root)
    results = os.path.join(root, "results", "results.json")
    try:
        tests = listed_tests(a.lab, SOURCE)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        tests = []
        print("autograder: cannot list the tests: %r" % e)
    # Written first, replaced below: whatever happens, Gradescope finds a file.
    write_results(results, failure_doc("the autograder did not finish", 0, tests))
    try:
        why = grade(a.lab, root, results)
    except Exception as e:   # a strange submission (unreadable files...) or a bug here
        why = "the autograder failed: %r" % e
    if why:
        print("autograder: " + why)
        write_results(results, failure_doc(why, time.monotonic() - t0, tests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
