"""gradelib.py: the small grading library behind grade/grade-<lab>.py.

A lab's grader declares named tests with points and a time limit:

    lab = Lab("vmsync")

    @lab.test(30, timeout=30, hint="read docs/vmsync.md")
    def vmsync_lazy_fault(c):          # c: a booted canopy (Canopy)
        before = c.kstat()
        c.ktest_ok("vmalloc_lazy_sync")
        check(c.kstat()["vmalloc_syncs"] > before["vmalloc_syncs"], "no sync counted")

    if __name__ == "__main__":
        lab.main()

Each test boots its own QEMU (headless, console on pipes, a fresh copy of
fs.img, -no-reboot), so tests may run in parallel (--jobs). A kernel panic,
a hang, a reboot or QEMU exiting fails the test; the test's time limit is
enforced by a watchdog that kills its QEMU, so the grader never hangs.

A failure says which kind it is: a check that found a wrong value says
what it expected and saw; "TIMED OUT" is a wait that ran out, followed by
what the guest was doing, read through QEMU's monitor (tests/kdiag.py):
"hang" with every hart's pc and backtrace when neither the console, the
ticks nor the context switches moved, or "still running" when the guest
was only slow; "LEAK" is a test that passed its checks but left kernel
objects behind: after each test the grader waits (up to SETTLE_TIMEOUT s)
for the tasks, mms, vmalloc areas and pages counted by kstat to come back
to what they were right after boot.
Per test it prints "name: OK" or "name: FAIL" with what went wrong, the
console's tail and a hint; then "Score: X/Y". The exit status is 0 only
on full marks. GRADE_JSON=path (or --json path) also writes Gradescope's
results.json. Standard library only; the machine comes from tests/qemu.py.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

GRADE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(GRADE_DIR)
sys.path.insert(0, os.path.join(REPO, "tests"))
from qemu import (Machine, MachineError, KernelPanic, Timeout,  # noqa: E402
                  QemuExited, Monitor, qemu_command, copy_image)
from kdiag import Diagnosis  # noqa: E402

LOG_DIR = os.path.join(REPO, "tests", "out", "grade")
KERNEL = os.path.join(REPO, "kernel", "kernel")
SETTLE_TIMEOUT = 20   # seconds a leak check waits for exiting tasks to go


class TestFailure(Exception):
    """A check failed: str() says what was expected and what happened."""


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


class Canopy:
    """A booted canopy machine for one test, with helpers that parse the
    output of the programs the graders rely on."""

    def __init__(self, machine, deadline):
        self.m = machine
        self.deadline = deadline

    def left(self):
        return max(0.5, self.deadline - time.monotonic())

    def run(self, cmd, timeout=None):
        """Type cmd at the shell, return its output (echo removed)."""
        out = self.m.run(cmd, min(timeout or 1e9, self.left()))
        if self.m.text.count("OpenSBI v") > 1:
            raise TestFailure("the machine rebooted")
        return out

    def start_background(self, cmd, done, what):
        """Type cmd (a job ending in &) and wait until its output matches
        the regex done; returns the match. The shell prints its prompt
        while the job prints, one byte per write each, so the two can
        interleave character by character ("g$row: ..."): no clean prompt
        is waited for, and '$' and spaces are dropped from the text before
        matching, so done is written without spaces. Then an echo of a
        marker, waited for by its own line, puts the shell at a fresh
        prompt for the next command."""
        start = len(self.m.text)
        self.m.send(cmd)
        pattern = re.compile(done)
        while True:
            found = pattern.search(re.sub(r"[$ ]", "", self.m.text[start:]))
            if found:
                break
            check(self.left() > 1, "%s: not seen after %r" % (what, cmd))
            time.sleep(0.05)
        marker = "bg-ready-%d" % len(self.m.text)
        self.m.send("echo " + marker)
        self.expect(r"(?m)^%s\n" % marker, None, "the shell to echo %s" % marker)
        self.expect(r"\$ ", None, "the prompt after echo %s" % marker)
        return found

    def send(self, line):
        self.m.send(line)

    def expect(self, pattern, timeout=None, what=None):
        return self.m.expect(pattern, min(timeout or 1e9, self.left()), what)

    def kstat(self):
        """The kernel counters (kstat) as a dict name -> int."""
        out = self.run("kstat")
        vals = {k: int(v) for k, v in re.findall(r"^(\w+) (-?\d+)$", out, re.M)}
        check("satp_writes" in vals, "kstat printed no counters:\n" + out)
        return vals

    def ktest(self, *names):
        """Run the kernel self-tests names; returns ({name: verdict}, output)."""
        out = self.run("ktest " + " ".join(names))
        found = dict(re.findall(r"^ktest (\w+): (OK|FAIL.*)$", out, re.M))
        return found, out

    def ktest_ok(self, *names):
        """Fail unless every named kernel self-test printed OK."""
        found, out = self.ktest(*names)
        for n in names:
            check(n in found, "ktest %s printed no verdict:\n%s" % (n, out.strip()))
            check(found[n] == "OK", "ktest %s: %s" % (n, found[n]))
        return out

    def objects(self):
        """The kernel objects a test must give back, from kstat: tasks, mms
        with an owner, vmalloc areas, and pages (free_soon, which counts
        roots kept by lazy borrowers and dying stacks, plus the vmalloc
        area's page-table pages, which are never freed)."""
        k = self.kstat()
        counts = {n: k[n] for n in ("tasks", "mms", "vmalloc_areas") if n in k}
        if "free_soon" in k and "kernel_pt_pages" in k:
            counts["pages"] = k["free_soon"] + k["kernel_pt_pages"]
        return counts

    def check_no_leak(self, baseline):
        """Fail with LEAK unless the objects come back to baseline within
        SETTLE_TIMEOUT seconds (tasks may still be exiting)."""
        give_up = time.monotonic() + min(SETTLE_TIMEOUT, self.left() - 1)
        while True:
            now = self.objects()
            if now == baseline or time.monotonic() > give_up:
                break
            time.sleep(0.5)
        diff = ["%s %d (after boot %d)" % (n, now.get(n, -1), v)
                for n, v in sorted(baseline.items()) if now.get(n) != v]
        check(not diff, "LEAK: the test's checks passed, but the kernel did not give "
              "back what it used: " + ", ".join(diff))

    def ps(self):
        """The task list: a list of dicts pid, ppid, state, size, name, kthread."""
        out = self.run("ps")
        tasks = []
        for m in re.finditer(r"^\s*(\d+)\s+(\d+)\s+(\w+)\s+(-?\d+|-)\s+(\d+)\s+(\S+)\s*$",
                             out, re.M):
            name = m.group(6)
            tasks.append(dict(pid=int(m.group(1)), ppid=int(m.group(2)),
                              state=m.group(3), size=int(m.group(5)),
                              name=name.strip("[]"), kthread=name.startswith("[")))
        check(tasks, "ps listed no tasks:\n" + out)
        return tasks


class Test:
    def __init__(self, fn, points, timeout, name, hint, boot, cpus, mem):
        self.fn, self.points, self.timeout = fn, points, timeout
        self.name, self.hint, self.boot = name, hint, boot
        self.cpus, self.mem = cpus, mem


class Result:
    def __init__(self, test, ok, output, seconds):
        self.test, self.ok, self.output, self.seconds = test, ok, output, seconds

    @property
    def score(self):
        return self.test.points if self.ok else 0


class Lab:
    """A lab's graded tests. The manifest labs/<name>/lab.json supplies
    defaults (time limits, machine)."""

    def __init__(self, name):
        self.name = name
        self.tests = []
        path = os.path.join(REPO, "labs", name, "lab.json")
        self.manifest = json.load(open(path)) if os.path.exists(path) else {}
        limits = self.manifest.get("time_limits", {})
        self.default_timeout = limits.get("test", 60)
        self.build_timeout = limits.get("build", 600)
        self.cpus = str(self.manifest.get("cpus", 3))
        self.mem = self.manifest.get("mem", "128M")
        self.make_vars = self.manifest.get("make", [])   # e.g. ["KPTI=1"]

    def test(self, points, timeout=None, name=None, hint=None, boot=True,
             cpus=None, mem=None):
        """Decorator: a graded test worth points. A boot test receives a
        booted Canopy; boot=False tests receive nothing (host-side checks)."""
        def wrap(fn):
            self.tests.append(Test(fn, points, timeout or self.default_timeout,
                                   name or fn.__name__, hint, boot,
                                   cpus or self.cpus, mem or self.mem))
            return fn
        return wrap

    # ---- running ----

    def build(self):
        """make all (with lab.json's "make" variables); returns None or the
        build's output on failure."""
        try:
            p = subprocess.run(["make", "-s", "--no-print-directory"] + self.make_vars +
                               ["all"], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, timeout=self.build_timeout)
        except subprocess.TimeoutExpired:
            return "make did not finish in %d s" % self.build_timeout
        return None if p.returncode == 0 else p.stdout[-3000:]

    def run_one(self, t, tmpdir):
        t0 = time.monotonic()
        if not t.boot:
            try:
                note = t.fn()
                return Result(t, True, note or "", time.monotonic() - t0)
            except TestFailure as e:
                return Result(t, False, str(e), time.monotonic() - t0)
            except Exception as e:   # a grader bug must not pass a test
                return Result(t, False, "grader error: %r" % e, time.monotonic() - t0)
        img = copy_image(os.path.join(REPO, "fs.img"), tmpdir)
        cmd = qemu_command(img, t.cpus, t.mem) + ["-no-reboot"]
        mon = Monitor.attach_to(cmd, tmpdir)
        log = os.path.join(LOG_DIR, self.name, t.name + ".log")
        m = Machine(cmd, log)
        deadline = t0 + t.timeout
        timed_out = threading.Event()
        found = {}
        lock = threading.Lock()

        def diagnose():
            """What the guest is doing, read once, while QEMU still runs."""
            with lock:
                if "text" not in found:
                    try:
                        found["text"] = Diagnosis(mon, KERNEL, ncpu=int(t.cpus)).report(
                            time.monotonic() - m.last_output)
                    except Exception as e:
                        found["text"] = "(the guest's state could not be read: %s)" % e
                return found["text"]

        def watchdog():
            timed_out.set()
            if m.running():
                diagnose()
            m.kill()
        timer = threading.Timer(t.timeout, watchdog)
        timer.daemon = True
        timer.start()
        ok, msg = False, ""
        try:
            m.boot(t.timeout)
            c = Canopy(m, deadline)
            baseline = c.objects()
            note = t.fn(c)
            m.check_panic()
            c.check_no_leak(baseline)
            ok, msg = True, note or ""
        except TestFailure as e:
            msg = str(e)
        except KernelPanic as e:
            msg = "%s\n--- console tail ---\n%s" % (e, m.tail(25))
        except (Timeout, QemuExited, MachineError) as e:
            if timed_out.is_set() or isinstance(e, Timeout):
                what = ("the time limit of %g s" % t.timeout if timed_out.is_set()
                        else str(e))
                e = "TIMED OUT: %s\n%s" % (what, diagnose() if m.running() or
                                            timed_out.is_set() else "")
            msg = "%s\n--- console tail ---\n%s" % (e, m.tail(15))
        except Exception as e:
            msg = "grader error: %r\n--- console tail ---\n%s" % (e, m.tail(15))
        finally:
            timer.cancel()
            if timed_out.is_set():
                timer.join(30)         # let the watchdog finish its diagnosis
            m.kill()
            mon.close()
            try:
                os.unlink(img)
            except OSError:
                pass
        if ok and timed_out.is_set():
            ok, msg = False, "TIMED OUT: the time limit of %g s\n%s" % (t.timeout,
                                                                      found.get("text", ""))
        return Result(t, ok, msg, time.monotonic() - t0)

    def main(self, argv=None):
        p = argparse.ArgumentParser(description="Grade lab %s." % self.name)
        p.add_argument("tests", nargs="*", help="run only these tests")
        p.add_argument("--jobs", "-j", type=int, default=int(os.environ.get("GRADE_JOBS", "1")),
                       help="tests run at once, each on its own QEMU (default 1)")
        p.add_argument("--json", default=os.environ.get("GRADE_JSON"),
                       help="also write Gradescope's results.json here")
        p.add_argument("--no-build", action="store_true", help="do not run make first")
        p.add_argument("--list", action="store_true", help="list the tests and exit")
        a = p.parse_args(argv)
        tests = [t for t in self.tests if not a.tests or t.name in a.tests]
        try:   # a typo in lab.json's visibility is the instructor's, say so now
            for t in tests:
                visibility(self.manifest, t.name)
        except ValueError as e:
            print("grade: %s" % e)
            return 2
        if a.list:
            for t in tests:
                print("%-36s %3d points, %3d s" % (t.name, t.points, t.timeout))
            return 0
        t0 = time.monotonic()
        problem = None if a.no_build else self.build()
        os.makedirs(os.path.join(LOG_DIR, self.name), exist_ok=True)
        tmpdir = tempfile.mkdtemp(prefix="canopy-grade-")
        results = []
        try:
            if problem:
                print("make failed:\n" + problem)
                results = [Result(t, False, "the tree does not build:\n" + problem, 0)
                           for t in tests]
                for r in results:
                    self.report(r)
            else:
                with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as pool:
                    futures = [pool.submit(self.run_one, t, tmpdir) for t in tests]
                    for t, f in zip(tests, futures):   # report in the order declared
                        try:
                            r = f.result()
                        except Exception as e:   # could not even start QEMU
                            r = Result(t, False, "grader error: %r" % e, 0)
                        results.append(r)
                        self.report(r)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        score = sum(r.score for r in results)
        total = sum(t.points for t in tests)
        print("Score: %d/%d" % (score, total), flush=True)
        if a.json:
            self.write_json(a.json, results, time.monotonic() - t0, problem)
        return 0 if score == total and tests else 1

    def report(self, r):
        if r.ok:
            print("%s: OK (%d/%d, %.1f s)" % (r.test.name, r.score, r.test.points,
                                            r.seconds), flush=True)
            return
        print("%s: FAIL (0/%d, %.1f s)" % (r.test.name, r.test.points, r.seconds))
        for line in r.output.rstrip().split("\n"):
            print("    " + line)
        if r.test.hint:
            print("    hint: " + r.test.hint)
        sys.stdout.flush()

    def write_json(self, path, results, seconds, problem=None):
        """Gradescope's results.json (gradescope_doc) at path."""
        write_results(path, gradescope_doc(self.manifest, results, seconds, problem))


# ---- Gradescope's results.json: make grade, batch.py and run_autograder ----

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def visibility(manifest, test_name):
    """A test's Gradescope visibility from lab.json: "visibility": {test:
    "hidden" | "after_due_date" | ...}, with "default" for the others."""
    v = manifest.get("visibility", {})
    vis = v.get(test_name, v.get("default", "visible"))
    if vis not in VISIBILITIES:
        raise ValueError("lab.json: visibility %r of %s is not one of %s"
                         % (vis, test_name, ", ".join(VISIBILITIES)))
    return vis


def gradescope_doc(manifest, results, seconds, problem=None):
    """The dict Gradescope reads: score, max_score, execution_time, output,
    tests[] (name, score, max_score, status, output, visibility). problem:
    the build's output when the tree did not build (then every test is 0)."""
    tests = []
    for r in results:
        out = r.output
        if not r.ok and r.test.hint:
            out += "\nhint: " + r.test.hint
        tests.append(dict(name=r.test.name, score=r.score, max_score=r.test.points,
                          status="passed" if r.ok else "failed", output=out,
                          visibility=visibility(manifest, r.test.name)))
    score = sum(r.score for r in results)
    total = sum(r.test.points for r in results)
    output = "Score: %d/%d" % (score, total)
    if problem:
        output = "The tree does not build, so every test scores 0. make said:\n" + problem
    return dict(score=score, max_score=total, execution_time=round(seconds, 1),
                output=output, visibility="visible", stdout_visibility="hidden",
                tests=tests)


def failure_doc(why, seconds=0, tests=()):
    """results.json for a submission that could not be graded at all:
    score 0, why in output; tests: (name, max_score, visibility) each 0."""
    return dict(score=0, max_score=sum(t[1] for t in tests),
                execution_time=round(seconds, 1), output=why, visibility="visible",
                stdout_visibility="hidden",
                tests=[dict(name=n, score=0, max_score=m, status="failed", output=why,
                            visibility=v) for n, m, v in tests])


def write_results(path, doc):
    """Write doc as JSON at path, atomically (a reader never sees half)."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
    os.replace(tmp, path)


# ---- host-side checks shared by the labs ----

QUESTION = re.compile(r"^Q(\d+)[.:)]\s")
ANSWER = re.compile(r"^Answer:(.*)$")


def answers_problem(lab, want):
    """None if labs/<lab>/answers-<lab>.txt has at least want questions,
    each a line "Q<n>. ..." (continued on the next lines) followed by a
    line "Answer:" and a non-empty answer before the next question, else
    what is wrong. Lines starting with "#" are instructions, not answers."""
    path = os.path.join(REPO, "labs", lab, "answers-%s.txt" % lab)
    if not os.path.exists(path):
        return "%s does not exist" % os.path.relpath(path, REPO)
    answers, current, in_answer = {}, None, False
    for line in open(path, encoding="utf-8", errors="replace"):
        m = QUESTION.match(line)
        if m:
            current, in_answer = int(m.group(1)), False
            answers[current] = ""
            continue
        a = ANSWER.match(line)
        if a and current is not None:
            in_answer = True
            line = a.group(1)
        if in_answer and not line.startswith("#"):
            answers[current] += line.strip()
    if len(answers) < want:
        return "%s has %d questions, expected %d" % (os.path.basename(path), len(answers), want)
    empty = sorted(q for q, a in answers.items() if not a)
    if empty:
        return "no answer to question(s) %s in %s" % (", ".join("Q%d" % q for q in empty),
                                                      os.path.basename(path))
    return None


def add_answers_test(lab, points=10):
    want = lab.manifest.get("questions", 1)

    @lab.test(points, name="answers_file", boot=False,
              hint="answer every question in labs/%s/answers-%s.txt" % (lab.name, lab.name))
    def answers_file():
        problem = answers_problem(lab.name, want)
        check(problem is None, problem)
