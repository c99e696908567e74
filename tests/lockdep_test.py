"""lockdep_test.py: the lock checker of -DDEBUG kernels (kernel/lockdep.c)
reports each kind of bug it promises to, on a kernel built with
-DDEBUG -DFAULT_INJECT (run.py's "debug" variant), each on a machine of
its own (the panics are expected and never reach no_kernel_panic):

  lockdep_long_hold    `crash 5` holds a lock 2.5 s: a warning
                       '"crash_hold" held for N ms' (N >= 2000) naming
                       crash_hold_long as where it was taken; the shell
                       still answers afterwards
  lockdep_order_cycle  `crash 4` takes crash_a then crash_b, later crash_b
                       then crash_a: a panic "lock order cycle" naming both
                       locks, the earlier edge's site (crash_lock_order)
                       and a backtrace through acquire
  lockdep_stuck_spin   `crash 3` holds sched_lock forever: one report that
                       a hart is stuck spinning on "sched", naming the
                       holder's hart and crash_deadlock as where it took
                       the lock, then a panic with the spinner's backtrace
  lockdep_sleep_order  `crash 6` takes sleep locks crash_sa then crash_sb,
                       later the other way: a panic "sleep lock order
                       cycle" naming both and the earlier edge's site
                       (crash_sleep_order)
  lockdep_sleep_under_spinlock
                       `crash 7` takes sleep lock crash_sa holding spinlock
                       crash_a: a panic naming both and where crash_a was
                       taken (crash_sleep_under_spin)
  lockdep_sleep_held_to_user
                       `crash 8` returns to user space holding crash_sa: a
                       panic naming the lock and crash_sleep_kept
"""
import os
import re

from qemu import MachineError, qemu_command, copy_image, Machine
from gdb_test import wait_for_panic, frames_named

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
BOOT_TIMEOUT = 60
SHELL_TIMEOUT = 30
REPORT_TIMEOUT = 60   # from the command to the end of the report (5 s limit)


def machine(args, tmpdir, kernel, name):
    img = copy_image(args.fsimg, tmpdir)
    cmd = qemu_command(img, args.cpus, args.mem, args.qemu_extra, args.qemu_cmd)
    cmd[cmd.index("-kernel") + 1] = kernel
    return Machine(cmd, os.path.join(OUT, "console-%s.log" % name), args.timeout_scale)


def long_hold(m, res):
    out = m.run("crash 5", SHELL_TIMEOUT)
    found = re.search(r'lockdep: "crash_hold" held for (\d+) ms by hart \d+\n'
                      r'\s+taken at crash_hold_long\+0x[0-9a-f]+ <- sys_crash', out)
    alive = "alive" in m.run("echo alive", SHELL_TIMEOUT)
    res.check("lockdep_long_hold", found and int(found.group(1)) >= 2000 and alive,
              "want a warning naming crash_hold and crash_hold_long, then a shell "
              "that answers; console: %r" % out[-800:])


def order_cycle(m, res):
    m.send("crash 4")
    text = wait_for_panic(m, REPORT_TIMEOUT)
    whole = m.text
    problems = []
    if 'panic: lockdep: lock order cycle between "crash_b" and "crash_a"' not in text:
        problems.append("no 'lock order cycle' panic")
    if not re.search(r'takes "crash_a" while holding "crash_b"', whole):
        problems.append("no line naming the acquire that closes the cycle")
    if not re.search(r'earlier: "crash_b" taken while holding "crash_a", at '
                     r'crash_lock_order\+0x', whole):
        problems.append("no line naming where the first order was taken")
    names = frames_named(text)
    if "acquire" not in names or "crash_lock_order" not in names:
        problems.append("backtrace lacks acquire or crash_lock_order")
    res.check("lockdep_order_cycle", not problems,
              "%s; console: %r" % ("; ".join(problems), whole[-1200:]))


def stuck_spin(m, res):
    m.send("crash 3")
    text = wait_for_panic(m, REPORT_TIMEOUT)
    whole = m.text
    problems = []
    reports = re.findall(r'lockdep: hart \d+ stuck for \d+ s spinning on "sched", '
                         r'held by hart \d+', whole)
    if len(reports) != 1:
        problems.append("%d 'stuck spinning on \"sched\"' reports, want 1" % len(reports))
    if not re.search(r"the holder took it at crash_deadlock\+0x", whole):
        problems.append("the holder's site crash_deadlock is not named")
    if 'panic: lockdep: a hart is stuck spinning on "sched"' not in text:
        problems.append("no panic")
    if "acquire" not in frames_named(text):
        problems.append("the spinner's backtrace lacks acquire")
    res.check("lockdep_stuck_spin", not problems,
              "%s; console: %r" % ("; ".join(problems), whole[-1200:]))


def expect_panic(m, res, name, cmd, wants):
    """Send cmd; the panic and console must match every (regex, what) of
    wants (searched in the whole console, multi-line)."""
    m.send(cmd)
    wait_for_panic(m, REPORT_TIMEOUT)
    whole = m.text
    problems = [what for rx, what in wants if not re.search(rx, whole, re.M)]
    res.check(name, not problems, "%s; console: %r" % ("; ".join(problems), whole[-1200:]))


def sleep_order(m, res):
    expect_panic(m, res, "lockdep_sleep_order", "crash 6", [
        (r'takes sleep lock "crash_sa" while holding "crash_sb"',
         "no line naming the acquire that closes the cycle"),
        (r'earlier: "crash_sb" taken while holding "crash_sa", at crash_sleep_order\+0x',
         "no line naming where the first order was taken"),
        (r'panic: lockdep: sleep lock order cycle between "crash_sb" and "crash_sa"',
         "no 'sleep lock order cycle' panic")])


def sleep_under_spinlock(m, res):
    expect_panic(m, res, "lockdep_sleep_under_spinlock", "crash 7", [
        (r'takes sleep lock "crash_sa" at crash_sleep_under_spin\+0x[0-9a-f]+ '
         r'while holding spinlock "crash_a"', "no line naming both locks and the call"),
        (r'"crash_a" was taken at crash_sleep_under_spin\+0x',
         "where crash_a was taken is not named"),
        (r'panic: lockdep: acquiresleep\("crash_sa"\) with spinlock "crash_a" held',
         "no panic")])


def sleep_held_to_user(m, res):
    expect_panic(m, res, "lockdep_sleep_held_to_user", "crash 8", [
        (r'is to return to user space holding 1 sleep lock\(s\) of class "crash_sa", '
         r'the first taken at crash_sleep_kept\+0x', "no line naming the lock and where"),
        (r'panic: lockdep: return to user space with a sleep lock held', "no panic")])


TESTS = [("lockdep_long_hold", long_hold), ("lockdep_order_cycle", order_cycle),
         ("lockdep_stuck_spin", stuck_spin), ("lockdep_sleep_order", sleep_order),
         ("lockdep_sleep_under_spinlock", sleep_under_spinlock),
         ("lockdep_sleep_held_to_user", sleep_held_to_user)]


def run(args, res, tmpdir, kernel):
    """kernel: a -DDEBUG -DFAULT_INJECT kernel/kernel."""
    for name, test in TESTS:
        m = machine(args, tmpdir, kernel, name)
        try:
            m.boot(BOOT_TIMEOUT)
            test(m, res)
        except MachineError as e:
            res.fail(name, e)
        finally:
            m.kill()
