"""fake_qemu.py: a stand-in for QEMU running canopy, to test the test
harness itself without a kernel (tests/host/test_harness.sh does, in
make test):

    python3 tests/run.py --qemu-cmd "python3 tests/fake_qemu.py"

It prints a boot banner and a shell prompt, echoes what it reads (like the
console does) and answers the commands the harness uses, from a tiny
in-memory file system. FAKE_QEMU_MODE in the environment breaks it on
purpose: "panic" (panics during usertests), "fail" (one usertest fails),
"hang" (usertests never finishes), "nopoweroff" (poweroff does nothing),
"noboot" (never prints a prompt).
"""

import os
import sys
import time

MODE = os.environ.get("FAKE_QEMU_MODE", "")
files = {"/README.md": "canopy: a teaching Unix\nfor RISC-V\n", "/usertests": "ELF"}
dirs = {"/"}
cwd = "/"


def out(s):
    sys.stdout.write(s)
    sys.stdout.flush()


def path(name):
    return os.path.normpath(os.path.join(cwd, name))


def usertests():
    out("usertests starting\n")
    for name in ["copyin", "copyout", "sbrkbasic", "forktest"]:
        out("test %s: " % name)
        time.sleep(0.05)
        if MODE == "panic" and name == "sbrkbasic":
            out("\npanic: kerneltrap: load page fault\nbacktrace:\n")
            time.sleep(1000)
        if MODE == "hang" and name == "forktest":
            time.sleep(1000)
        if MODE == "fail" and name == "copyout":
            out("copyout: oops, read 5 bytes\nFAILED\nSOME TESTS FAILED\n")
            return
        out("OK\n")
    out("ALL TESTS PASSED\n")


def simple(argv, stdin):
    """Run one command of a pipeline; returns its output."""
    global cwd
    cmd = argv[0]
    if cmd == "echo":
        return " ".join(argv[1:]) + "\n"
    if cmd == "cat":
        return files.get(path(argv[1]), "") if len(argv) > 1 else stdin
    if cmd == "grep":
        return "".join(l + "\n" for l in stdin.splitlines() if argv[1] in l)
    if cmd == "wc":
        return "%d %d %d \n" % (stdin.count("\n"), len(stdin.split()), len(stdin))
    if cmd == "ls":
        names = [f[len(cwd):].lstrip("/") for f in sorted(set(files) | dirs) if os.path.dirname(f) == cwd and f != "/"]
        return "".join("%-14s 2 1 %d\n" % (n, len(files.get(path(n), ""))) for n in names)
    if cmd == "mkdir":
        dirs.add(path(argv[1]))
        return ""
    if cmd == "cd":
        cwd = path(argv[1])
        return ""
    if cmd == "usertests":
        usertests()
        return ""
    if cmd == "kstat":
        counters = [("satp_writes", 7), ("vmalloc_syncs", 2), ("template_satp", 0),
                    ("stale_asid_loads", 0), ("missed_shootdowns", 0), ("disk_writes", 0),
                    ("disk_requests", 0)]
        if argv[1:] == ["-h"]:
            return "counter total hart0\n" + "".join(
                "%s %d %d\n" % (n, v, v) for n, v in counters)
        return "".join("%s %d\n" % c for c in counters)
    if cmd == "poweroff":
        if MODE != "nopoweroff":
            sys.exit(0)
        return ""
    return "exec %s failed\n" % cmd


def shell_line(line):
    for part in line.split(";"):
        redirect = None
        if ">" in part:
            part, redirect = part.split(">")
            redirect = redirect.strip()
        data = ""
        for stage in part.split("|"):
            argv = stage.split()
            if argv:
                data = simple(argv, data)
        if redirect:
            files[path(redirect)] = data
        else:
            out(data)


def main():
    out("\nOpenSBI v1.1 (fake)\ncanopy kernel is booting\n")
    if MODE == "noboot":
        time.sleep(1000)
    out("init: starting sh\n$ ")
    for line in sys.stdin:
        out(line)            # the console echoes what is typed
        shell_line(line.strip())
        out("$ ")


if __name__ == "__main__":
    main()
