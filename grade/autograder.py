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


def main():
    ap = argparse.ArgumentParser(description="Gradescope's run_autograder for a canopy lab.")
    ap.add_argument("--lab", required=True)
    ap.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"),
                    help="the autograder directory (default $AUTOGRADER_ROOT or /autograder)")
    a = ap.parse_args()
    t0 = time.monotonic()
    root = os.path.abspath(a.root)
    results = os.path.join(root, "results", "results.json")
    sub = os.path.join(root, "submission")
    work = os.path.join(root, "work")
    try:
        tests = listed_tests(a.lab, SOURCE)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        tests = []
        print("autograder: cannot list the tests: %r" % e)
    write_results(results, failure_doc("the autograder did not finish", 0, tests))
    m = submission.manifest(a.lab, SOURCE)
    limits = m.get("time_limits", {})
    limit = limits.get("build", 600) + limits.get("total", 600)

    shutil.rmtree(work, ignore_errors=True)
    if not os.path.isdir(sub):
        why = "no submission: %s does not exist" % sub
    else:
        why = submission.prepare(a.lab, sub, SOURCE, work, instructor=SOURCE)
    if why:
        print("autograder: " + why)
        write_results(results, failure_doc(why, time.monotonic() - t0, tests))
        return 0
    os.unlink(results)   # the grader writes it; if it does not, we do below
    text = ""
    try:
        p = subprocess.run([sys.executable, m["grader"], "--json", results], cwd=work,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=limit)
        text = p.stdout
        why = None if os.path.exists(results) else \
            "the grader wrote no results (exit status %d):\n%s" % (p.returncode, text[-3000:])
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        text = out
        why = "grading took more than %d s:\n%s" % (limit, out[-3000:])
    sys.stdout.write(text)
    if why:
        print("autograder: " + why)
        write_results(results, failure_doc(why, time.monotonic() - t0, tests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
