"""labs_test.py: the "labs" group of make test (tests/run.py calls run()).

For every lab in labs/ (a labs/<name>/lab.json):

  labs_<lab>_solution_full_marks   the grader gives this tree full marks
  labs_<lab>_starter_cut           scripts/starter.py writes the student
                                   tree: no marker or //> line left, no
                                   mutants, no other lab, the handout, a git
                                   repository with one commit and no change,
                                   and a GitHub Actions workflow that runs on
                                   push: make deps, then make grade LAB=<lab>
  labs_<lab>_starter_builds        make in the student tree
  labs_<lab>_starter_usertests     it boots and passes usertests -q
  labs_<lab>_starter_fails_lab_tests  every graded test fails on it
  labs_<lab>_mutant_<name>_rejected   for each grade/mutants/<lab>/*.patch:
                                   the solution with that patch never gets
                                   full marks
  labs_grade_json_gradescope       make grade LAB=ptwalk GRADE_JSON=path
                                   writes Gradescope's results.json: tests
                                   with name, score, max_score, output,
                                   summing to the printed score
  labs_batch_grades_submissions    grade/batch.py on ptwalk submissions: a
                                   patch with the solution gets full marks,
                                   the untouched starter tree 0, a patch
                                   that does not apply is "not prepared",
                                   and a tree whose grader was edited to
                                   pass everything is graded by the
                                   instructor's grader (0); grades.csv and
                                   one JSON per student
  labs_gradescope_zip              make gradescope LAB=ptwalk: setup.sh and an
                                   executable run_autograder at the zip's top,
                                   no mutants, no marker left (no solution)
  labs_gradescope_solution_full_marks  the zip unpacked in a scratch
                                   AUTOGRADER_ROOT, the solution tree as the
                                   submission: full marks in results.json with
                                   Gradescope's fields, and the visibilities
                                   set in lab.json
  labs_gradescope_starter_low_score    the starter: under half marks, each
                                   failed test with its output
  labs_gradescope_build_failure_zero   a tree that does not compile: score
                                   0, the compiler's error in the output

Copies reuse this tree's build products (timestamps kept), so only what a
cut or a patch changed is rebuilt. Work items run in parallel (--labs-jobs,
default 2). Standalone: python3 tests/labs_test.py [lab...]
"""
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import REPO, Machine, MachineError, qemu_command, copy_image  # noqa: E402

sys.path.insert(0, os.path.join(REPO, "scripts"))
import starter  # noqa: E402

GRADE_TIMEOUT = 300
BUILD_TIMEOUT = 600


def labs():
    return starter.all_labs(REPO)


def sh(cmd, cwd, timeout):
    """Run cmd; returns (exit status, output). A time-out is status -1."""
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=timeout)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return -1, out + "\n(timed out after %d s)" % timeout


def grade(tree, lab, jobs=1):
    """Run tree's grader for lab; returns (score, total, {test: ok}, output)."""
    status, out = sh([sys.executable, os.path.join("grade", "grade-%s.py" % lab),
                      "--jobs", str(jobs)], tree, GRADE_TIMEOUT)
    verdicts = {n: v == "OK" for n, v in re.findall(r"^(\w+): (OK|FAIL)", out, re.M)}
    m = re.search(r"^Score: (\d+)/(\d+)", out, re.M)
    if not m:
        return None, None, verdicts, out
    return int(m.group(1)), int(m.group(2)), verdicts, out


def brief(out, lines=12):
    """The grader's report in one line: the failed tests' own lines first
    (what was expected, TIMED OUT with the diagnosis, LEAK), then the
    last lines."""
    failed, keep = [], False
    for line in out.split("\n"):
        if re.match(r"^\w+: (OK|FAIL)", line):
            keep = ": FAIL" in line
        if keep and len(failed) < 30:
            failed.append(line.strip())
    tail = [l.strip() for l in out.strip().split("\n")[-lines:]]
    return " | ".join(failed + ["..."] + tail if failed else tail)


# lab -> a copy of the solution tree already built with the lab's make
# variables (run() makes it), which the lab's copies start from, so that
# each rebuilds only what its patch changed.
BUILT_BASE = {}


def copy_solution(dst, lab=None):
    shutil.copytree(BUILT_BASE.get(lab, REPO), dst, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "out", "__pycache__", "results"))


# ---- the work items: each returns a list of (name, ok, reason) ----

def gradescope_problems(path, score, total):
    """What keeps the file at path from being a Gradescope results.json
    that agrees with the printed score, or []."""
    try:
        doc = json.load(open(path))
    except (OSError, ValueError) as e:
        return ["GRADE_JSON not written or not JSON: %r" % e]
    problems = []
    tests = doc.get("tests")
    if not isinstance(tests, list) or not tests:
        return ["no tests list"]
    for k, kind in (("score", (int, float)), ("execution_time", (int, float)),
                    ("output", str)):
        if not isinstance(doc.get(k), kind):
            problems.append("top-level %s missing or not a %s" % (k, kind))
    for t in tests:
        if t.get("status") not in ("passed", "failed") or \
                (t.get("status") == "passed") != (t.get("score") == t.get("max_score")):
            problems.append("test %r: status %r with score %r of %r"
                            % (t.get("name"), t.get("status"), t.get("score"), t.get("max_score")))
        if t.get("visibility") not in ("visible", "hidden", "after_due_date", "after_published"):
            problems.append("test %r: visibility %r" % (t.get("name"), t.get("visibility")))
        if not isinstance(t.get("name"), str) or not isinstance(t.get("output", ""), str):
            problems.append("test without a name or with a non-text output: %r" % t)
        if not all(isinstance(t.get(k), (int, float)) for k in ("score", "max_score")):
            problems.append("test %r lacks numeric score/max_score" % t.get("name"))
        elif not 0 <= t["score"] <= t["max_score"]:
            problems.append("test %r scores %s of %s" % (t["name"], t["score"], t["max_score"]))
    if not problems:
        if doc.get("score") != sum(t["score"] for t in tests) or doc.get("score") != score:
            problems.append("score %r is not the tests' sum nor the printed %s"
                            % (doc.get("score"), score))
        if sum(t["max_score"] for t in tests) != total:
            problems.append("the tests' max_score sum is not the printed total %s" % total)
    return problems


def make_vars(lab):
    """lab.json's "make" variables (["KPTI=1"]): its grader builds with them."""
    return json.load(open(os.path.join(REPO, "labs", lab, "lab.json"))).get("make", [])


def check_solution(lab, tmp):
    tree = REPO
    if make_vars(lab):   # its grader rebuilds the tree another way: grade a copy
        tree = os.path.join(tmp, "solution-%s" % lab)
        copy_solution(tree, lab)
    score, total, _, out = grade(tree, lab, jobs=2)
    if tree != REPO:
        shutil.rmtree(tree, ignore_errors=True)
    results = [("labs_%s_solution_full_marks" % lab, score is not None and score == total,
                "score %s/%s: %s" % (score, total, brief(out)))]
    if lab == "ptwalk":   # the GRADE_JSON route of make grade, once
        path = os.path.join(tmp, "results-%s.json" % lab)
        status, out = sh(["make", "-s", "--no-print-directory", "grade", "LAB=" + lab,
                          "GRADE_JSON=" + path], REPO, GRADE_TIMEOUT)
        m = re.search(r"^Score: (\d+)/(\d+)", out, re.M)
        problems = ["make grade exited %d" % status] if status != 0 else []
        problems += gradescope_problems(path, int(m.group(1)), int(m.group(2))) if m \
            else ["make grade printed no score: " + brief(out)]
        results.append(("labs_grade_json_gradescope", not problems, "; ".join(problems)))
    return results


def ci_problems(tree, lab):
    """What is wrong with the student tree's GitHub Actions workflow: it
    must run on push, install the toolchain with make deps and grade lab."""
    path = os.path.join(tree, starter.CI_PATH)
    try:
        text = open(path).read()
    except OSError:
        return ["%s is missing" % starter.CI_PATH]
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is None:   # no parser here: the lines that matter
        ok = re.search(r"^on:\n\s+push:", text, re.M) and "run: make deps" in text and \
            "make grade LAB=%s" % lab in text
        return [] if ok else ["%s does not push-trigger make deps and make grade LAB=%s"
                              % (starter.CI_PATH, lab)]
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        return ["%s is not YAML: %s" % (starter.CI_PATH, e)]
    problems = []
    on = doc.get(True, doc.get("on"))   # YAML 1.1 reads the key on as True
    if not isinstance(on, dict) or "push" not in on:
        problems.append("the workflow does not run on push")
    runs = [st.get("run", "") for job in doc.get("jobs", {}).values()
            for st in job.get("steps", [])]
    deps = [i for i, r in enumerate(runs) if re.search(r"\bmake deps\b", r)]
    graded = [i for i, r in enumerate(runs) if re.search(r"\bmake grade LAB=%s\b" % lab, r)]
    if not deps or not graded or deps[0] > graded[0]:
        problems.append("the workflow's steps do not run make deps, then make grade LAB=%s: %r"
                        % (lab, runs))
    if "@LAB@" in text:
        problems.append("the workflow still says @LAB@")
    return problems


def starter_problems(tree, lab):
    problems = []
    for rel in starter.tracked_files(tree):
        try:
            text = open(os.path.join(tree, rel), encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        bad = starter.leftover(text)
        if bad:
            problems.append("%s still has %r" % (rel, bad))
    if os.path.exists(os.path.join(tree, "grade", "mutants")):
        problems.append("grade/mutants/ is in the student tree")
    for other in labs():
        if other != lab and os.path.exists(os.path.join(tree, "labs", other)):
            problems.append("labs/%s is in the student tree" % other)
    for f in ("README.md", "answers-%s.txt" % lab, "lab.json"):
        if not os.path.exists(os.path.join(tree, "labs", lab, f)):
            problems.append("labs/%s/%s is missing" % (lab, f))
    problems += ci_problems(tree, lab)
    status, out = sh(["git", "rev-list", "--count", "HEAD"], tree, 30)
    if status != 0 or out.strip() != "1":
        problems.append("git rev-list --count HEAD: %s" % out.strip())
    status, out = sh(["git", "status", "--porcelain"], tree, 30)
    if status != 0 or out.strip():
        problems.append("git status not clean: %s" % out.strip()[:200])
    return problems


def usertests_on(tree, tmp, lab):
    img = copy_image(os.path.join(tree, "fs.img"), tmp)
    log = os.path.join(REPO, "tests", "out", "console-labs-%s-starter.log" % lab)
    cmd = subprocess.run(["make", "-s", "--no-print-directory", "print-qemu", "FSIMG=" + img],
                         cwd=tree, stdout=subprocess.PIPE, universal_newlines=True,
                         check=True).stdout.split()
    m = Machine(cmd + ["-no-reboot"], log, cwd=tree)
    try:
        m.boot(60)
        out = m.run("usertests -q", 300)
        ok = "ALL TESTS PASSED" in out
        return ok, "usertests -q did not pass: " + brief(out, 5)
    except MachineError as e:
        return False, "%s: %s" % (e, brief(m.tail(10), 10))
    finally:
        m.kill()


def check_starter(lab, tmp):
    name = "labs_%s_starter" % lab
    tree = os.path.join(tmp, "starter-" + lab)
    try:
        starter.make_starter(lab, tree, with_build=False)
    except (starter.StarterError, OSError, subprocess.CalledProcessError) as e:
        return [(name + "_cut", False, e)]
    problems = starter_problems(tree, lab)
    results = [(name + "_cut", not problems, "; ".join(problems))]
    # Now the build products, for a fast rebuild of what the cut changed.
    for rel in starter.build_products(REPO):
        dst = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(REPO, rel), dst)
    status, out = sh(["make", "-s", "--no-print-directory", "all"], tree, BUILD_TIMEOUT)
    results.append((name + "_builds", status == 0, brief(out)))
    if status != 0:
        return results
    ok, why = usertests_on(tree, tmp, lab)
    results.append((name + "_usertests", ok, why))
    score, total, verdicts, out = grade(tree, lab)
    passed = sorted(n for n, v in verdicts.items() if v)
    why = "tests passing on the starter: %s (score %s/%s)" % (passed, score, total)
    if score is None:
        why += ": " + brief(out, 8)
    results.append((name + "_fails_lab_tests", score == 0 and verdicts and not passed, why))
    return results


def check_mutant(lab, patch, tmp):
    mname = os.path.splitext(os.path.basename(patch))[0]
    name = "labs_%s_mutant_%s_rejected" % (lab, mname.replace("-", "_"))
    tree = os.path.join(tmp, "mutant-%s-%s" % (lab, mname))
    copy_solution(tree, lab)
    status, out = sh(["patch", "-p1", "-s", "-i", patch], tree, 30)
    if status != 0:
        return [(name, False, "the patch does not apply: " + brief(out))]
    status, out = sh(["make", "-s", "--no-print-directory"] + make_vars(lab) + ["all"], tree,
                     BUILD_TIMEOUT)
    if status != 0:
        return [(name, False, "the mutant does not build: " + brief(out))]
    score, total, verdicts, out = grade(tree, lab)
    failed = sorted(n for n, v in verdicts.items() if not v)
    shutil.rmtree(tree, ignore_errors=True)
    return [(name, score is not None and score < total,
             "the mutant scored %s/%s" % (score, total) if score is not None
             else "the grader printed no score: " + brief(out))] + \
        ([("# %s caught by %s (%s/%s)" % (mname, ", ".join(failed), score, total), None, "")]
         if failed else [])


def check_batch(tmp, lab="ptwalk"):
    """Grade four made-up submissions with grade/batch.py."""
    name = "labs_batch_grades_submissions"
    base = os.path.join(tmp, "batch")
    start, subs, out = (os.path.join(base, d) for d in ("starter", "subs", "out"))
    starter.make_starter(lab, start, with_build=False, git=False)
    os.makedirs(subs)
    # good.patch: the solution's lab files and answers against the starter's.
    manifest = json.load(open(os.path.join(REPO, "labs", lab, "lab.json")))
    diff = ""
    for rel in manifest["regions"] + [manifest["answers"]]:
        _, d = sh(["diff", "-u", "--label", "a/" + rel, "--label", "b/" + rel,
                   os.path.join(start, rel), os.path.join(REPO, rel)], base, 30)
        diff += d
    with open(os.path.join(subs, "good.patch"), "w") as f:
        f.write(diff)
    with open(os.path.join(subs, "broken.patch"), "w") as f:
        f.write("--- a/kernel/nosuchfile.c\n+++ b/kernel/nosuchfile.c\n@@ -1 +1 @@\n-x\n+y\n")
    shutil.copytree(start, os.path.join(subs, "untouched"))
    cheat = os.path.join(subs, "cheater")
    shutil.copytree(start, cheat)
    with open(os.path.join(cheat, "grade", "grade-%s.py" % lab), "w") as f:
        f.write('print("Score: 100/100")\n')
    status, text = sh([sys.executable, os.path.join(REPO, "grade", "batch.py"), "--lab", lab,
                       "--submissions", subs, "--out", out, "--jobs", "2"], base,
                      GRADE_TIMEOUT + BUILD_TIMEOUT)
    if status != 0:
        return [(name, False, "batch.py failed: " + brief(text))]
    try:
        import csv
        rows = {r["student"]: r for r in csv.DictReader(open(os.path.join(out, "grades.csv")))}
        docs = {s: json.load(open(os.path.join(out, s + ".json"))) for s in rows}
    except (OSError, ValueError, KeyError) as e:
        return [(name, False, "no grades.csv or JSON: %r; %s" % (e, brief(text)))]
    want = {"good": lambda r: r["score"] == r["max_score"] and r["status"] == "graded",
            "untouched": lambda r: r["score"] == "0" and r["status"] == "graded",
            "cheater": lambda r: r["score"] == "0" and r["status"] == "graded",
            "broken": lambda r: r["status"] == "not prepared" and r["score"] == "0"}
    bad = [s for s, ok in want.items() if s not in rows or not ok(rows[s])]
    bad += [s for s, d in docs.items() if "score" not in d or "tests" not in d]
    return [(name, not bad, "wrong rows for %s: %s" % (bad, {s: rows.get(s) for s in bad}))]


def run_autograder(zip_path, root, sub_files, edit_manifest=None):
    """Unpack the autograder zip into root/source as Gradescope does, lay
    sub_files(dir) into root/submission, copy run_autograder to
    root/run_autograder and run it there, with AUTOGRADER_ROOT=root (as
    Gradescope does). Returns (results.json as a dict or None, its
    output)."""
    import zipfile
    src = os.path.join(root, "source")
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():   # as unzip does: modes and times kept
            path = z.extract(info, src)
            mode = info.external_attr >> 16
            if mode:
                os.chmod(path, mode & 0o777)
            t = time.mktime(info.date_time + (0, 0, -1))
            os.utime(path, (t, t))
    if edit_manifest:
        path = os.path.join(src, edit_manifest[0])
        m = json.load(open(path))
        m.update(edit_manifest[1])
        with open(path, "w") as f:
            json.dump(m, f)
    sub_files(os.path.join(root, "submission"))
    env = dict(os.environ, AUTOGRADER_ROOT=root)
    shutil.copy2(os.path.join(src, "run_autograder"), os.path.join(root, "run_autograder"))
    try:
        p = subprocess.run([os.path.join(root, "run_autograder")], cwd=root, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=GRADE_TIMEOUT + BUILD_TIMEOUT)
        out = p.stdout
    except subprocess.TimeoutExpired:
        return None, "run_autograder timed out"
    try:
        return json.load(open(os.path.join(root, "results", "results.json"))), out
    except (OSError, ValueError) as e:
        return None, "no results.json (%r): %s" % (e, brief(out))


def check_gradescope(tmp, lab="ptwalk"):
    """make gradescope's zip in scratch /autograder layouts: the solution
    tree gets full marks, with the visibilities an instructor set in
    lab.json; the starter a low score with each test's output; a tree that
    does not compile 0, with the compiler's message."""
    base = os.path.join(tmp, "gradescope")
    status, out = sh(["make", "-s", "--no-print-directory", "gradescope", "LAB=" + lab,
                      "OUT=" + base], REPO, 60)
    zip_path = os.path.join(base, "canopy-%s-autograder.zip" % lab)
    name = "labs_gradescope_zip"
    if status != 0 or not os.path.exists(zip_path):
        return [(name, False, "make gradescope failed: " + brief(out))]
    import zipfile
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
    problems = ["%s not at the top of the zip" % e for e in ("setup.sh", "run_autograder")
                if e not in names]
    problems += ["run_autograder is not executable"] if not modes.get("run_autograder", 0) & 0o100 \
        else []
    problems += ["the zip holds %s" % n for n in names if n.startswith("grade/mutants/")
                 or labs_marker_in_zip(zip_path, n)]
    with zipfile.ZipFile(zip_path) as z:
        for entry in ("setup.sh", "run_autograder"):
            if entry in names:
                status, out = shell_syntax(z.read(entry).decode())
                if status != 0:
                    problems.append("%s: sh -n: %s" % (entry, out.strip()))
    results = [(name, not problems, "; ".join(problems))]

    def tree_of(src, files=None):
        def lay(dst):
            for rel in files or starter.tracked_files(src):
                d = os.path.join(dst, rel)
                os.makedirs(os.path.dirname(d), exist_ok=True)
                shutil.copy2(os.path.join(src, rel), d)
        return lay

    # Build products in the source, as setup.sh's make would leave them:
    # this tree's, older than the files the cut changed, which are rebuilt.
    def with_build(root):
        src = os.path.join(root, "source")
        for rel in starter.build_products(REPO):
            d = os.path.join(src, rel)
            if not os.path.exists(d):
                os.makedirs(os.path.dirname(d), exist_ok=True)
                shutil.copy2(os.path.join(REPO, rel), d)

    vis = {"visibility": {"%s_kernel_half" % lab: "hidden", "answers_file": "after_due_date"}}
    root = os.path.join(base, "solution")
    os.makedirs(root)
    doc, out = run_autograder(zip_path, root, lambda d: (with_build(root), tree_of(REPO)(d)),
                              ("labs/%s/lab.json" % lab, vis))
    problems = gradescope_problems_doc(doc, out)
    if doc and not problems:
        if doc["score"] != doc.get("max_score") or any(t["status"] != "passed"
                                                      for t in doc["tests"]):
            problems.append("not full marks: %s" % [(t["name"], t["score"], t["max_score"])
                                                    for t in doc["tests"]])
        got = {t["name"]: t["visibility"] for t in doc["tests"]}
        for t, v in vis["visibility"].items():
            if got.get(t) != v:
                problems.append("test %s: visibility %r, lab.json says %r" % (t, got.get(t), v))
    results.append(("labs_gradescope_solution_full_marks", not problems, "; ".join(problems)))

    cut = os.path.join(base, "starter-tree")
    starter.make_starter(lab, cut, git=False)
    root = os.path.join(base, "starter")
    os.makedirs(root)
    doc, out = run_autograder(zip_path, root, lambda d: (with_build(root), tree_of(cut)(d)))
    problems = gradescope_problems_doc(doc, out)
    if doc and not problems:
        if not doc["score"] < doc["max_score"] / 2:
            problems.append("the starter scored %s of %s" % (doc["score"], doc["max_score"]))
        silent = [t["name"] for t in doc["tests"] if t["status"] == "failed"
                  and len(t["output"].strip()) < 20]
        if silent:
            problems.append("failed tests without output: %s" % silent)
    results.append(("labs_gradescope_starter_low_score", not problems, "; ".join(problems)))

    broken = os.path.join(base, "broken-tree")
    starter.make_starter(lab, broken, git=False)
    region = json.load(open(os.path.join(REPO, "labs", lab, "lab.json")))["regions"][0]
    with open(os.path.join(broken, region), "a") as f:
        f.write("\nint canopy_broken_build = ;\n")
    root = os.path.join(base, "broken")
    os.makedirs(root)
    doc, out = run_autograder(zip_path, root, lambda d: (with_build(root), tree_of(broken)(d)))
    problems = [] if doc else ["no results.json: " + brief(out)]
    if doc:
        if doc.get("score") != 0:
            problems.append("score %r" % doc.get("score"))
        if "canopy_broken_build" not in doc.get("output", "") or "error" not in doc["output"]:
            problems.append("top-level output lacks the compiler's error: %r"
                            % doc.get("output", "")[:300])
        if not doc.get("tests") or any(t["score"] for t in doc["tests"]):
            problems.append("tests: %r" % doc.get("tests"))
    results.append(("labs_gradescope_build_failure_zero", not problems, "; ".join(problems)))
    return results


def shell_syntax(text):
    """sh -n on text: (status, messages)."""
    p = subprocess.run(["sh", "-n"], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=30)
    return p.returncode, p.stdout


def labs_marker_in_zip(zip_path, name):
    """Does the zip's file name hold a lab marker or a //> line?"""
    import zipfile
    with zipfile.ZipFile(zip_path) as z:
        try:
            text = z.read(name).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return starter.leftover(text) is not None


def gradescope_problems_doc(doc, out):
    if doc is None:
        return ["no results.json: " + brief(out)]
    path = tempfile.mktemp(suffix=".json")
    with open(path, "w") as f:
        json.dump(doc, f)
    try:
        return gradescope_problems(path, doc.get("score"),
                                   sum(t.get("max_score", 0) for t in doc.get("tests", [])))
    finally:
        os.unlink(path)


def run(args, res, tmpdir, only=None):
    """Run every check; report through res (tests/run.py's Results)."""
    if not os.path.isdir(os.path.join(REPO, "grade", "mutants")):
        print("# labs: a student tree (no grade/mutants/): run make grade instead", flush=True)
        return
    jobs = getattr(args, "labs_jobs", 2) if args else 2
    tmp = tempfile.mkdtemp(prefix="labs-", dir=tmpdir)
    items = []
    for lab in only or labs():
        if make_vars(lab) and lab not in BUILT_BASE:
            base = os.path.join(tmp, "built-%s" % lab)
            copy_solution(base)
            status, out = sh(["make", "-s", "--no-print-directory"] + make_vars(lab) + ["all"],
                             base, BUILD_TIMEOUT)
            if status == 0:
                BUILT_BASE[lab] = base
        items.append((check_solution, (lab, tmp)))
        items.append((check_starter, (lab, tmp)))
        for patch in sorted(glob.glob(os.path.join(REPO, "grade", "mutants", lab, "*.patch"))):
            items.append((check_mutant, (lab, patch, tmp)))
    if only is None or "ptwalk" in only:
        items.append((check_batch, (tmp,)))
        items.append((check_gradescope, (tmp,)))
    t0 = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            futures = [pool.submit(fn, *a) for fn, a in items]
            for f in futures:
                try:
                    results = f.result()
                except Exception as e:     # a harness bug fails loudly
                    results = [("labs_harness", False, repr(e))]
                for name, ok, reason in results:
                    if ok is None:
                        print(name, flush=True)
                    else:
                        res.check(name, ok, reason)
    finally:
        BUILT_BASE.clear()
        shutil.rmtree(tmp, ignore_errors=True)
    print("# labs: %d checks in %.0f s" % (len(items), time.monotonic() - t0), flush=True)


if __name__ == "__main__":
    import run as runmod
    r = runmod.Results()
    os.makedirs(os.path.join(REPO, "tests", "out"), exist_ok=True)
    d = tempfile.mkdtemp(prefix="canopy-labs-")
    try:
        run(None, r, d, only=sys.argv[1:] or None)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    sys.exit(r.summary())
