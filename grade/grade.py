#!/usr/bin/env python3
"""grade.py: run the graders of the labs in this tree (make grade [LAB=...]).

    python3 grade/grade.py            every lab with a labs/<name>/lab.json
    python3 grade/grade.py vmsync     one lab
Options after the lab names go to each grader (--jobs, --json...). With
GRADE_JSON set and several labs, each lab writes <GRADE_JSON>.<lab>.json.
"""
import json
import os
import subprocess
import sys

GRADE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(GRADE_DIR)


def labs_here():
    d = os.path.join(REPO, "labs")
    return sorted(x for x in os.listdir(d) if os.path.isfile(os.path.join(d, x, "lab.json")))


def main(argv):
    names = [a for a in argv if not a.startswith("-")]
    opts = [a for a in argv if a.startswith("-")]
    names = names or labs_here()
    status = 0
    for name in names:
        manifest = os.path.join(REPO, "labs", name, "lab.json")
        if not os.path.exists(manifest):
            print("grade: no lab %s here (labs: %s)" % (name, " ".join(labs_here())))
            return 2
        script = json.load(open(manifest)).get("grader", "grade/grade-%s.py" % name)
        env = dict(os.environ)
        if len(names) > 1 and env.get("GRADE_JSON"):
            env["GRADE_JSON"] = "%s.%s.json" % (env["GRADE_JSON"], name)
        print("== lab %s ==" % name, flush=True)
        r = subprocess.run([sys.executable, os.path.join(REPO, script)] + opts, cwd=REPO, env=env)
        status = status or r.returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
