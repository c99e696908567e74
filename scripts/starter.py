#!/usr/bin/env python3
"""starter.py: write a lab's standalone student tree (behind `make starter`).

    python3 scripts/starter.py --lab vmsync --out ../canopy-vmsync
    python3 scripts/starter.py --lab vmsync --out DIR --with-build   (tests)
    python3 scripts/starter.py --list-files                          (debug)

The student tree holds every file of the repository that version control
would hold (the files not matched by .gitignore; no git command is run
here, the patterns of .gitignore are applied by this script), with:

  * the lab's regions replaced by their starter text (scripts/labcut.py),
  * every other lab's markers removed, keeping the solution,
  * no marker line and no "//>" line left anywhere (checked),
  * the solution-only material left out: grade/mutants/ and the other
    labs' directories under labs/,
  * a fresh git repository with one commit.

Files the cut leaves unchanged keep their modification time. With
--with-build the build products of this tree (objects, kernel, fs.img...)
are copied too, timestamps kept, so `make` in the new tree rebuilds only
what the cut changed: used by make test, never for students.
"""
import argparse
import fnmatch
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labcut  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Never in a student tree, whatever .gitignore says.
ALWAYS_EXCLUDED = ["grade/mutants/", ".git/", "tests/out/", "results/"]


class StarterError(Exception):
    pass


def read_ignore(repo):
    path = os.path.join(repo, ".gitignore")
    if not os.path.exists(path):
        return []
    pats = []
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            pats.append(line)
    return pats


def ignored(rel, is_dir, patterns):
    """The subset of gitignore rules canopy's .gitignore uses: a pattern
    without "/" matches a name at any depth, one with "/" matches the path
    from the top, a trailing "/" matches directories only. No negation."""
    name = os.path.basename(rel)
    for pat in patterns:
        dir_only = pat.endswith("/")
        p = pat.rstrip("/")
        if dir_only and not is_dir:
            continue
        if "/" in p:
            if fnmatch.fnmatchcase(rel, p.lstrip("/")):
                return True
        elif fnmatch.fnmatchcase(name, p):
            return True
    return False


def tracked_files(repo):
    """Relative paths of the files version control would hold."""
    patterns = read_ignore(repo)
    out = []
    for top, dirs, files in os.walk(repo):
        rel_top = os.path.relpath(top, repo)
        rel_top = "" if rel_top == "." else rel_top + "/"
        keep = []
        for d in sorted(dirs):
            rel = rel_top + d
            if d == ".git" or ignored(rel, True, patterns):
                continue
            if any((rel + "/").startswith(x) for x in ALWAYS_EXCLUDED):
                continue
            keep.append(d)
        dirs[:] = keep
        for f in sorted(files):
            rel = rel_top + f
            # In a git worktree, .git is a file naming the real repository:
            # copied, it would make the starter's git commit land there.
            if f == ".git":
                continue
            if not ignored(rel, False, patterns):
                out.append(rel)
    return out


def build_products(repo):
    """Relative paths of the ignored files that `make` produced."""
    patterns = read_ignore(repo)
    out = []
    for top, dirs, files in os.walk(repo):
        rel_top = os.path.relpath(top, repo)
        rel_top = "" if rel_top == "." else rel_top + "/"
        dirs[:] = [d for d in dirs if d not in (".git", "out", "__pycache__", "mutants")]
        for f in files:
            rel = rel_top + f
            if ignored(rel, False, patterns):
                out.append(rel)
    return out


def all_labs(repo):
    d = os.path.join(repo, "labs")
    return sorted(x for x in os.listdir(d)
                  if os.path.isfile(os.path.join(d, x, "lab.json"))) if os.path.isdir(d) else []


def leftover(text):
    """A line that must not survive the cut, or None."""
    for line in text.splitlines():
        if labcut.MARKER.match(line) or labcut.STARTER_LINE.match(line):
            return line
    return None


def make_starter(lab, out, repo=REPO, with_build=False, git=True):
    labs = all_labs(repo)
    if lab not in labs:
        raise StarterError("no lab %r (labs: %s)" % (lab, ", ".join(labs)))
    if os.path.exists(out) and os.listdir(out):
        raise StarterError("%s exists and is not empty" % out)
    os.makedirs(out, exist_ok=True)
    other_labs = ["labs/%s/" % x for x in labs if x != lab]
    changed = []
    for rel in tracked_files(repo):
        if any(rel.startswith(x) for x in other_labs):
            continue
        src, dst = os.path.join(repo, rel), os.path.join(out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        try:
            text = open(src, encoding="utf-8").read()
        except UnicodeDecodeError:
            shutil.copy2(src, dst)
            continue
        try:
            new = labcut.cut(text, lab, rel)
        except labcut.MarkerError as e:
            raise StarterError(str(e))
        bad = leftover(new)
        if bad:
            raise StarterError("%s: line left after the cut: %r" % (rel, bad))
        if new == text:
            shutil.copy2(src, dst)
        else:
            with open(dst, "w", encoding="utf-8") as f:
                f.write(new)
            shutil.copymode(src, dst)
            changed.append(rel)
    if git:
        env = dict(os.environ, GIT_AUTHOR_DATE="2000-01-01T00:00:00Z",
                   GIT_COMMITTER_DATE="2000-01-01T00:00:00Z")
        g = ["git", "-c", "user.name=canopy", "-c", "user.email=canopy@localhost",
             "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
        for cmd in (["init", "-q"], ["add", "-A"],
                    ["commit", "-q", "-m", "canopy: starter for lab %s" % lab]):
            subprocess.run(g + cmd, cwd=out, check=True, env=env,
                           stdout=subprocess.DEVNULL)
    if with_build:
        for rel in build_products(repo):
            dst = os.path.join(out, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(repo, rel), dst)
    return changed


def main():
    p = argparse.ArgumentParser(description="Write a lab's student tree.")
    p.add_argument("--lab")
    p.add_argument("--out")
    p.add_argument("--with-build", action="store_true",
                   help="also copy this tree's build products (fast rebuilds; tests only)")
    p.add_argument("--no-git", action="store_true", help="do not create a git repository")
    p.add_argument("--list-files", action="store_true",
                   help="print the files a student tree is made from and exit")
    a = p.parse_args()
    if a.list_files:
        print("\n".join(tracked_files(REPO)))
        return 0
    if not a.lab or not a.out:
        p.error("--lab and --out are required (make starter LAB=<name> OUT=<dir>)")
    try:
        changed = make_starter(a.lab, a.out, with_build=a.with_build, git=not a.no_git)
    except (StarterError, OSError, subprocess.CalledProcessError) as e:
        print("starter: %s" % e, file=sys.stderr)
        return 1
    print("starter for lab %s written to %s (%d files cut: %s)"
          % (a.lab, a.out, len(changed), " ".join(changed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
