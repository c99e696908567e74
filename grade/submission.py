"""submission.py: turn a student's submission into a tree to grade.

Shared by grade/batch.py (many students, on the instructor's machine) and
grade/autograder.py (one student, inside Gradescope's run_autograder), so
both grade a submission the same way:

  * the base is a reference tree: the lab's starter, built once;
  * the student's files are copied over it: a whole tree (a clone of
    their repository), a unified diff against the starter (NAME.patch,
    applied with patch -p1), or loose files uploaded one by one (each
    goes where the lab's files of that name are: vmalloc.c ->
    kernel/vmalloc.c, answers-vmsync.txt -> labs/vmsync/answers-...);
  * the files listed under "protected" in labs/<lab>/lab.json then come
    from the instructor's copy, so a submission cannot change how it is
    graded (the graders, tests/, the self-tests, the Makefile...).

A file whose bytes equal the reference's keeps the reference's timestamp,
so make rebuilds only what the student changed. Standard library only.
"""
import filecmp
import json
import os
import shutil
import subprocess
import sys

GRADE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(GRADE_DIR)
sys.path.insert(0, os.path.join(REPO, "scripts"))
import starter  # noqa: E402


def copy_over(src_root, rel, dst_root, ref_root):
    """Copy src_root/rel to dst_root/rel; keep the reference's timestamp
    when the bytes are the reference's, else the file is new (now)."""
    src, dst, ref = (os.path.join(r, rel) for r in (src_root, dst_root, ref_root))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.isfile(ref) and filecmp.cmp(src, ref, shallow=False):
        if os.path.abspath(ref) != os.path.abspath(dst):
            shutil.copy2(ref, dst)
    else:
        if os.path.exists(dst):
            os.unlink(dst)
        shutil.copyfile(src, dst)
        shutil.copymode(src, dst)


def manifest(lab, repo=REPO):
    return json.load(open(os.path.join(repo, "labs", lab, "lab.json")))


def protected(lab, repo=REPO):
    """The files (relative paths) of repo that a submission never supplies:
    lab.json's "protected" entries (a directory means every file in it,
    minus build products and mutants) and lab.json itself."""
    out = []
    for p in manifest(lab, repo).get("protected", []) + ["labs/%s/lab.json" % lab]:
        full = os.path.join(repo, p)
        if os.path.isdir(full):
            out += [os.path.relpath(os.path.join(t, f), repo)
                    for t, ds, fs in os.walk(full)
                    for f in fs if "__pycache__" not in t and "/mutants" not in t + "/"
                    and not f.endswith(".o") and "/out" not in t]
        elif os.path.exists(full):
            out.append(p)
    return out


def is_tree(sub):
    """Is the directory sub a whole canopy tree (not loose files)?"""
    return os.path.isfile(os.path.join(sub, "Makefile")) or \
        os.path.isdir(os.path.join(sub, "kernel"))


def loose_targets(lab, repo=REPO):
    """{file name: path in the tree} for files uploaded one by one: the
    lab's region files and its answers file."""
    m = manifest(lab, repo)
    paths = list(m.get("regions", [])) + [m.get("answers", "labs/%s/answers-%s.txt" % (lab, lab))]
    return {os.path.basename(p): p for p in paths}


def prepare(lab, sub, ref, work, instructor=REPO):
    """Build the tree to grade for submission sub (a directory or a .patch)
    in work (which must not exist), from the reference tree ref (the built
    starter) and the instructor's tree (the protected files). Returns None,
    or the reason it could not be prepared."""
    if os.path.isdir(sub) and is_tree(sub):
        os.makedirs(work)
        for rel in starter.tracked_files(sub):
            copy_over(sub, rel, work, ref)
    elif os.path.isdir(sub):
        shutil.copytree(ref, work, symlinks=True)
        targets = loose_targets(lab, instructor)
        used = []
        for name in sorted(os.listdir(sub)):
            if name in targets and os.path.isfile(os.path.join(sub, name)):
                os.makedirs(os.path.dirname(os.path.join(work, targets[name])), exist_ok=True)
                os.unlink(os.path.join(work, targets[name]))
                shutil.copyfile(os.path.join(sub, name), os.path.join(work, targets[name]))
                used.append(name)
        if not used:
            return ("the submission is neither a canopy tree nor any of the lab's files "
                    "(%s); it holds: %s" % (", ".join(sorted(targets)),
                                            ", ".join(sorted(os.listdir(sub))) or "nothing"))
    else:
        shutil.copytree(ref, work, symlinks=True)
        p = subprocess.run(["patch", "-p1", "-s", "-f", "-i", os.path.abspath(sub)], cwd=work,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        if p.returncode != 0:
            return "the patch does not apply: " + p.stdout[-500:]
    for rel in protected(lab, instructor):
        copy_over(instructor, rel, work, ref)
    for rel in starter.build_products(ref):
        dst = os.path.join(work, rel)
        if not os.path.exists(dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(ref, rel), dst)
    return None
