#!/usr/bin/env python3
"""batch.py: grade a directory of student submissions for one lab.

    python3 grade/batch.py --lab vmsync --submissions subs/ --jobs 2 --out results/

Each entry of subs/ is one student, named by the entry:

  subs/alice/          a student tree (a clone of their repository)
  subs/bob.patch       a unified diff against the starter (patch -p1)
  subs/carol/          loose files (vmalloc.c, answers-vmsync.txt...)

For each student the grader builds a private copy (grade/submission.py,
shared with Gradescope's run_autograder): the starter (cut from this
tree) with the student's files or patch, and the instructor's copies of
the files listed under "protected" in labs/<lab>/lab.json (the graders,
tests/, the self-tests, the programs the graders run, the Makefile), so a
submission cannot change how it is graded. Build products are reused: a
file whose bytes equal the starter's keeps the starter's timestamp and
only the others are recompiled.

Writes results/<student>.json (Gradescope's results.json format),
results/<student>.txt (the grader's output) and results/grades.csv
(student, score, max_score, status, one column per test). Standard library
only.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

GRADE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(GRADE_DIR)
sys.path.insert(0, os.path.join(REPO, "scripts"))
sys.path.insert(0, GRADE_DIR)
import starter  # noqa: E402
from submission import prepare  # noqa: E402
from gradelib import failure_doc, write_results  # noqa: E402


def grade_one(lab, sub, ref, tmp, out, limit):
    student = os.path.basename(sub.rstrip("/"))
    if student.endswith(".patch"):
        student = student[:-len(".patch")]
    work = os.path.join(tmp, "sub-" + student)
    json_path = os.path.join(out, student + ".json")
    problem = prepare(lab, sub, ref, work)
    text, status = "", "graded"
    if problem:
        status, text = "not prepared", problem
    else:
        try:
            p = subprocess.run([sys.executable, os.path.join("grade", "grade-%s.py" % lab),
                                "--json", json_path], cwd=work, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=limit)
            text = p.stdout
        except subprocess.TimeoutExpired as e:
            status = "timed out"
            text = (e.stdout or b"").decode(errors="replace") + "\n(time limit %d s)" % limit
    if status != "graded" or not os.path.exists(json_path):
        status = status if status != "graded" else "no result"
        write_results(json_path, failure_doc("%s: %s" % (status, text[-3000:])))
    with open(os.path.join(out, student + ".txt"), "w") as f:
        f.write(text)
    shutil.rmtree(work, ignore_errors=True)
    doc = json.load(open(json_path))
    return student, status, doc


def main():
    ap = argparse.ArgumentParser(description="Grade many submissions of one lab.")
    ap.add_argument("--lab", required=True)
    ap.add_argument("--submissions", required=True, help="a directory of trees and .patch files")
    ap.add_argument("--out", default="results", help="where to write the results")
    ap.add_argument("--jobs", type=int, default=2, help="submissions graded at once")
    ap.add_argument("--starter", help="an already built starter tree (default: cut one now)")
    a = ap.parse_args()
    manifest = json.load(open(os.path.join(REPO, "labs", a.lab, "lab.json")))
    limit = manifest.get("time_limits", {}).get("total", 600) + \
        manifest.get("time_limits", {}).get("build", 600)
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="canopy-batch-")
    try:
        if a.starter:
            ref = os.path.abspath(a.starter)
        else:
            ref = os.path.join(tmp, "starter")
            starter.make_starter(a.lab, ref, with_build=True, git=False)
            print("# building the starter once...", flush=True)
            subprocess.run(["make", "-s", "--no-print-directory", "all"], cwd=ref, check=True,
                           stdout=subprocess.DEVNULL)
        subs = sorted(os.path.join(a.submissions, s) for s in os.listdir(a.submissions)
                      if not s.startswith("."))
        subs = [s for s in subs if os.path.isdir(s) or s.endswith(".patch")]
        listing = subprocess.run([sys.executable, os.path.join(GRADE_DIR, "grade-%s.py" % a.lab),
                                  "--list"], stdout=subprocess.PIPE, universal_newlines=True).stdout
        lab_total = sum(int(x) for x in re.findall(r"(\d+) points", listing))
        rows = []
        with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as pool:
            futures = [pool.submit(grade_one, a.lab, s, ref, tmp, a.out, limit) for s in subs]
            for f in futures:
                student, status, doc = f.result()
                score = doc.get("score", 0)
                total = doc.get("max_score") or lab_total
                print("%-24s %3s/%-3s %s" % (student, score, total, status), flush=True)
                rows.append((student, score, total, status,
                             {t["name"]: t["score"] for t in doc.get("tests", [])}))
        names = []
        for r in rows:
            names += [n for n in r[4] if n not in names]
        with open(os.path.join(a.out, "grades.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["student", "score", "max_score", "status"] + names)
            for student, score, total, status, tests in rows:
                w.writerow([student, score, total, status] + [tests.get(n, "") for n in names])
        print("# %d submissions; %s" % (len(rows), os.path.join(a.out, "grades.csv")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
