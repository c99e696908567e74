"""qemu.py: drive a canopy machine (QEMU with the console on stdio) from Python.

Used by tests/run.py, and meant to be reused by the gdb tests and the lab
grader. A Machine boots QEMU with its console on pipes, collects everything
the console prints in a background thread (and copies it to a log file),
and lets a test wait for text, type lines and run shell commands:

    m = Machine(qemu_command(fsimg, cpus=3, mem="128M"), "tests/out/console-x.log")
    try:
        m.boot(timeout=60)                 # to the first "$ "
        out = m.run("echo hello")          # "hello\n"
        m.poweroff()                       # True if QEMU exited by itself
    finally:
        m.kill()

Every wait raises Timeout (naming what it waited for), KernelPanic (the
console printed "panic: ") or QemuExited, so a test never hangs and never
misses a panic. Standard library only.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROMPT = r"\$ "                   # the shell's prompt
PANIC = re.compile(r"panic: ")    # what the kernel prints when it gives up


class MachineError(Exception):
    """Base of the errors a Machine raises; str() says what went wrong."""


class Timeout(MachineError):
    pass


class KernelPanic(MachineError):
    pass


class QemuExited(MachineError):
    pass


def qemu_command(fsimg, cpus=None, mem=None, extra=None, qemu_cmd=None):
    """The QEMU command line (a list) for booting canopy on disk image fsimg.

    By default it asks the Makefile (`make -s print-qemu`), so the tests
    boot exactly what `make qemu` boots. qemu_cmd replaces it with another
    command (a string; {fsimg}, {cpus} and {mem} are filled in), e.g. a fake
    QEMU for testing the test harness itself.
    """
    if qemu_cmd:
        return shlex.split(qemu_cmd.format(fsimg=fsimg, cpus=cpus or "", mem=mem or ""))
    args = ["make", "-s", "--no-print-directory", "print-qemu", "FSIMG=" + fsimg]
    if cpus:
        args.append("CPUS=%s" % cpus)
    if mem:
        args.append("MEM=%s" % mem)
    if extra is not None:
        args.append("QEMUEXTRA=" + extra)
    out = subprocess.run(args, cwd=REPO, check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    lines = [l for l in out.splitlines() if l.strip()]
    if not lines:
        raise MachineError("make print-qemu printed nothing")
    return shlex.split(lines[-1])


def copy_image(src, directory=None):
    """Copy the disk image src to a fresh temporary file; returns its path.
    Tests write to the copy, so fs.img stays as built."""
    fd, path = tempfile.mkstemp(prefix="canopy-fs-", suffix=".img", dir=directory)
    os.close(fd)
    shutil.copyfile(src, path)
    return path


class Monitor:
    """QEMU's human monitor on a Unix socket, for reading what the guest
    cannot report about itself, such as every hart's satp at one moment.

        mon = Monitor.attach_to(cmd)      # before the Machine starts
        ...
        mon.satp_all()                    # [satp of CPU#0, CPU#1, ...]
    """

    PROMPT = b"(qemu) "

    def __init__(self, path):
        self.path = path
        self.sock = None

    @classmethod
    def attach_to(cls, cmd, directory=None):
        """Add a monitor socket to the QEMU command list cmd (in place)."""
        path = os.path.join(directory or tempfile.gettempdir(),
                            "canopy-mon-%d-%d.sock" % (os.getpid(), id(cmd)))
        cmd += ["-monitor", "unix:%s,server=on,wait=off" % path]
        return cls(path)

    def _connect(self, timeout):
        deadline = time.monotonic() + timeout
        while self.sock is None:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(timeout)
                s.connect(self.path)
                self.sock = s
                self._read_to_prompt()
            except OSError:
                self.sock = None
                if time.monotonic() > deadline:
                    raise MachineError("no QEMU monitor at %s" % self.path)
                time.sleep(0.05)

    def _read_to_prompt(self):
        data = b""
        while not data.endswith(self.PROMPT):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise MachineError("the QEMU monitor closed")
            data += chunk
        return data.decode("utf-8", errors="replace")

    def command(self, line, timeout=30):
        """Run one monitor command; returns what it printed."""
        self._connect(timeout)
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(line.encode() + b"\n")
            return self._read_to_prompt()
        except OSError as e:
            self.close()
            raise MachineError("QEMU monitor: %s" % e)

    def satp_all(self):
        """Every hart's satp, as integers in CPU order."""
        out = self.command("info registers -a")
        return [int(v, 16) for v in re.findall(r"^\s*satp\s+([0-9a-fA-F]+)", out, re.M)]

    def registers_all(self):
        """Every hart's registers: a list (CPU order) of dicts name -> int,
        with pc, the CSRs QEMU prints and the x registers by ABI name."""
        out = self.command("info registers -a")
        harts = []
        for part in re.split(r"^CPU#\d+\s*$", out, flags=re.M)[1:]:
            regs = {k: int(v, 16) for k, v in
                    re.findall(r"^\s*([a-z][a-z0-9]*)\s+([0-9a-f]{16})\b", part, re.M)}
            regs.update((k, int(v, 16)) for k, v in
                        re.findall(r"x\d+/(\w+)\s+([0-9a-f]{16})", part))
            harts.append(regs)
        return harts

    def read_u64(self, addr, cpu=0):
        """The 64-bit word at virtual address addr as hart cpu sees it, or
        None if it is not mapped there."""
        self.command("cpu %d" % cpu)
        out = self.command("x /1gx %#x" % addr)
        m = re.search(r"^[0-9a-f]+: 0x([0-9a-f]+)\s*$", out, re.M)
        return int(m.group(1), 16) if m else None

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        try:
            os.unlink(self.path)
        except OSError:
            pass


# Machines still running, so that an interrupted run can kill them.
_live = set()
# How many machines printed a console line: a run in which none did cannot
# claim that no kernel panicked.
consoles_seen = 0


def kill_all():
    for m in list(_live):
        m.kill()


def free_port():
    """A TCP port nobody listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BIND_FAILED = re.compile(r"Address already in use|Failed to find an available port")


def start_with_gdb_stub(build, tries=5):
    """Start a Machine with a gdb stub on a free TCP port and return
    (machine, port). build(port) makes the Machine, not started. The port
    was free when chosen, but another program may bind it before QEMU
    does; QEMU then exits at once saying so, and another port is tried."""
    for _ in range(tries):
        port = free_port()
        m = build(port)
        m.start()
        deadline = time.monotonic() + 1.0
        while m.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        if m.running() or not BIND_FAILED.search(m.text):
            return m, port
        m.kill()
    raise MachineError("QEMU could not bind a gdb port in %d tries: %r" % (tries, m.text[-300:]))


class Machine:
    """One QEMU process and its console.

    The console text is kept in self.text ("\\r\\n" turned into "\\n"). A
    cursor, self.pos, marks how far the waits have read: expect() searches
    from the cursor and moves it past the match, so each piece of output is
    matched once.
    """

    def __init__(self, cmd, log_path, timeout_scale=1.0, cwd=REPO):
        self.cmd = cmd
        self.log_path = log_path
        self.scale = timeout_scale
        self.cwd = cwd
        self.proc = None
        self.text = ""
        self.pos = 0
        self.boot_seconds = None
        self.last_output = time.monotonic()   # when the console last printed
        self._cond = threading.Condition()
        self._eof = False
        self._reader = None
        self._log = None

    # ---- starting and stopping ----

    def start(self):
        """Start QEMU. Its own session, so a Ctrl-C reaches only us and we
        decide how QEMU ends (see kill())."""
        os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
        self._log = open(self.log_path, "w", encoding="utf-8", errors="replace")
        self._log.write("# %s\n" % " ".join(shlex.quote(a) for a in self.cmd))
        self._log.flush()
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _live.add(self)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def boot(self, timeout=60):
        """Start QEMU and wait for the first shell prompt. Returns the boot
        time in seconds (also kept in self.boot_seconds)."""
        if self.proc is None:
            self.start()
        self.expect(PROMPT, timeout, what="the shell prompt '$ ' after boot")
        self.count_console()
        self.boot_seconds = time.monotonic() - self.t_start
        return self.boot_seconds

    def poweroff(self, timeout=10):
        """Run the poweroff program; True if QEMU then exits by itself
        within timeout seconds."""
        self.send("poweroff")
        return self.wait_exit(timeout)

    def wait_exit(self, timeout):
        """Wait for QEMU to exit; True if it did within timeout seconds."""
        try:
            self.proc.wait(timeout * self.scale)
        except subprocess.TimeoutExpired:
            return False
        self._reader.join(5)
        return True

    def kill(self):
        """Stop QEMU now, whatever state it is in. Safe to call twice."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        _live.discard(self)
        if self._log:
            with self._cond:
                self._log.close()
                self._log = None

    def count_console(self):
        """Count this machine in consoles_seen once, if it printed a line."""
        global consoles_seen
        if not getattr(self, "_counted", False) and "\n" in self.text:
            self._counted = True
            consoles_seen += 1

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # ---- console output ----

    def _read_loop(self):
        """Background thread: move console output into self.text and the log."""
        fd = self.proc.stdout.fileno()
        pending_cr = False
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                break
            s = data.decode("utf-8", errors="replace")
            if pending_cr:
                s = "\r" + s
            pending_cr = s.endswith("\r")
            if pending_cr:
                s = s[:-1]
            s = s.replace("\r\n", "\n")
            with self._cond:
                self.text += s
                self.last_output = time.monotonic()
                if self._log:
                    self._log.write(s)
                    self._log.flush()
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def check_panic(self):
        """Raise KernelPanic if the console has printed a kernel panic.
        Counts the machine as one whose console was read."""
        self.count_console()
        m = PANIC.search(self.text)
        if m:
            raise KernelPanic("kernel panic: " + self.text[m.start():].split("\n", 1)[0])

    def expect(self, pattern, timeout, what=None):
        """Wait until pattern (a regex) appears after the cursor; returns the
        match and moves the cursor past it. timeout is in seconds, before
        scaling by timeout_scale."""
        regex = re.compile(pattern)
        what = what or repr(pattern)
        limit = timeout * self.scale
        deadline = time.monotonic() + limit
        with self._cond:
            while True:
                self.check_panic()
                m = regex.search(self.text, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                if self._eof:
                    raise QemuExited("QEMU exited while waiting for %s" % what)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout("timed out after %g s waiting for %s" % (limit, what))
                self._cond.wait(min(left, 1.0))

    def tail(self, lines=30):
        """The last lines of console output, for error reports."""
        with self._cond:
            return "\n".join(self.text.rstrip("\n").split("\n")[-lines:])

    # ---- typing ----

    def send(self, line):
        """Type a line on the console (a newline is added)."""
        try:
            self.proc.stdin.write((line + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise QemuExited("QEMU exited before %r could be typed" % line)

    def run(self, cmd, timeout=30):
        """Type a shell command and wait for the next prompt. Returns what the
        command printed: the console's echo of the command line is removed."""
        with self._cond:
            start = self.pos = len(self.text)
        self.send(cmd)
        m = self.expect(PROMPT, timeout, what="the prompt after %r" % cmd)
        out = self.text[start:m.start()]
        first, nl, rest = out.partition("\n")
        if first.strip() == cmd.strip():
            out = rest
        return out
