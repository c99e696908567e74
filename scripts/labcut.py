#!/usr/bin/env python3
"""labcut.py: cut a lab's student (starter) tree out of the solution tree.

Solution code of a lab sits between marker lines in the source:

    // LAB <names> BEGIN
    ...the solution...
    // LAB <names> STARTER
    ...the starter's text, each line prefixed with "//> "...
    // LAB <names> END

<names> is one lab name or several separated by commas (a region may
belong to several labs). For the chosen lab, each of its regions becomes
the starter text (the "//> " prefix removed, indentation kept); every other
region keeps its solution. All marker and //> lines disappear. In files
whose comments start with "#" (assembly, kernel/*.S) the markers are
"# LAB <names> BEGIN|STARTER|END" and the starter's lines start "#> ".

    python3 scripts/labcut.py LAB FILE          print FILE as the starter has it
    python3 scripts/labcut.py LAB --check FILE  exit 1 if FILE's markers are broken
"""
import re
import sys

MARKER = re.compile(r"^\s*(?://|#) LAB ([\w,-]+) (BEGIN|STARTER|END)\s*$")
STARTER_LINE = re.compile(r"^(\s*)(?://|#)> ?(.*)$")


class MarkerError(Exception):
    pass


def cut(text, lab, path="<text>"):
    """Return text as lab's starter tree has it. Raises MarkerError on
    unbalanced or mismatched markers."""
    out, state, names, start = [], None, None, 0
    for n, line in enumerate(text.splitlines(keepends=True), 1):
        m = MARKER.match(line)
        if m:
            these, what = m.group(1).split(","), m.group(2)
            expected = {None: "BEGIN", "BEGIN": "STARTER", "STARTER": "END"}[state]
            if what != expected or (state and these != names):
                raise MarkerError("%s:%d: %s where %s was expected (region from line %d)"
                                  % (path, n, line.strip(), expected, start))
            state, names, start = (None if what == "END" else what), these, n
            continue
        if state is None:
            out.append(line)
        elif state == "BEGIN":
            if lab not in names:
                out.append(line)
        else:   # STARTER
            s = STARTER_LINE.match(line)
            if not s:
                raise MarkerError("%s:%d: starter line without //>" % (path, n))
            if lab in names:
                out.append(s.group(1) + s.group(2) + "\n" if s.group(2) else "\n")
    if state is not None:
        raise MarkerError("%s: region from line %d is not closed" % (path, start))
    return "".join(out)


def labs_in(text):
    found = set()
    for line in text.splitlines():
        m = MARKER.match(line)
        if m:
            found.update(m.group(1).split(","))
    return found


def main(argv):
    if len(argv) == 4 and argv[2] == "--check":
        try:
            cut(open(argv[3]).read(), argv[1], argv[3])
        except MarkerError as e:
            print(e, file=sys.stderr)
            return 1
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        sys.stdout.write(cut(open(argv[2]).read(), argv[1], argv[2]))
    except MarkerError as e:
        print(e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
