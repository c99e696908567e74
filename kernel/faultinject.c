// faultinject.c: crash(how), a system call that makes the kernel fail on
// purpose, so that students (and the tests) can see what a kernel panic
// looks like and practise reading one (docs/debugging.md).
//
//   crash(0)  a bad kernel pointer: a chain of three small functions ends
//             by reading an address of the vmalloc area that nothing
//             maps. kernel_trap cannot sync it lazily, so it panics; the
//             backtrace names every function of the chain.
//   crash(1)  unbounded recursion: the kernel stack runs into its guard
//             page, and trap_entry panics with "kernel stack overflow".
//   crash(2)  a root entry that differs from the template's: a load
//             through it faults, and the lazy sync in the fault handler
//             panics. The backtrace crosses the trap frame and shows both
//             the handler and the code that faulted.
//   crash(3)  a deadlock, not a panic: the hart takes sched_lock and
//             spins forever with interrupts off; every other hart soon
//             spins on the lock too, and the kernel prints nothing more.
//             The grader's hang report (tests/kdiag.py) shows each hart's
//             pc: crash_deadlock on one, acquire on the others. A -DDEBUG
//             kernel's lock checker (lockdep.c) panics instead, after a
//             few seconds, naming the lock and where its holder took it.
//   crash(4)  two locks taken in both orders, one after the other on one
//             hart: no deadlock this time, but two harts doing it at once
//             could. A -DDEBUG kernel panics at the second order.
//   crash(5)  a lock held for 2.5 s: a -DDEBUG kernel warns at the
//             release, naming where it was taken; crash() then returns.
//   crash(6)  two sleep locks taken in both orders (as crash(4)).
//   crash(7)  a sleep lock taken while a spinlock is held: fine until the
//             sleep lock is busy, then schedule() panics; a -DDEBUG kernel
//             panics at once, naming both.
//   crash(8)  the system call returns to user space holding a sleep lock:
//             the next task to want it sleeps forever. A -DDEBUG kernel
//             panics on the way out, naming where it was taken.
//   6 to 8 return without -DDEBUG (8 after releasing the lock).
//
// The faults are compiled in only with -DFAULT_INJECT
// (make KCFLAGS=-DFAULT_INJECT); otherwise crash() returns -1 and does
// nothing, so a normal kernel cannot be crashed from user space.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/proc.h"
#include "kernel/pgtable.h"
#include "kernel/defs.h"
#include "kernel/ktest/ktest.h"

#ifdef FAULT_INJECT

// The last page of the kernel-stack region of the vmalloc area. Stacks are
// handed out from the bottom of the region (a few hundred KiB at most), so
// this page is never mapped; and the region's root entry is in every root,
// so the fault is not a lazy sync either: it is a real bug.
#define CRASH_BAD_ADDR (VMALLOC_STACKS_END - PGSIZE)

// Each function does a little work after its call, so the compiler cannot
// turn the calls into jumps and every frame shows in the backtrace.
#define NOINLINE __attribute__((noinline, noclone))

// Set by nobody: it only gives the recursion a way out that the compiler
// cannot see through (gcc warns about recursion without one).
static volatile int crash_stop;

// The faulting load.
static NOINLINE uint64
crash_read_bad_pointer(void)
{
  volatile uint64 *p = (volatile uint64 *)CRASH_BAD_ADDR;
  return *p + 1;
}

static NOINLINE uint64
crash_nested_call(int depth)
{
  return crash_read_bad_pointer() + depth;
}

static NOINLINE uint64
crash_bad_pointer(void)
{
  return crash_nested_call(2) + 1;
}

// Eat 512 bytes of stack per call until the guard page below the stack
// is hit.
static NOINLINE uint64
crash_recurse(uint64 depth)
{
  volatile char frame[512];
  frame[0] = depth;
  if(crash_stop)
    return depth;
  return crash_recurse(depth + 1) + frame[0];
}

// Point this root's entry for a fresh vmalloc area at an empty table of
// our own, as a buggy sync might, then read the area through it.
static NOINLINE uint64
crash_corrupt_root(void)
{
  volatile uint64 *va = ktest_vmalloc(PGSIZE);
  pagetable_t pmd = kalloc();
  if(va == 0 || pmd == 0)
    return -1;
  memset(pmd, 0, PGSIZE);
  push_off();    // stay on this hart and this root
  current_pgd()[PX(2, (uint64)va)] = mk_pte(__pa(pmd), 0);
  local_flush_tlb_all();
  uint64 v = *va;
  pop_off();
  return v;
}

static NOINLINE int
crash_deadlock(void)
{
  acquire(&sched_lock);
  for(;;)
    ;
  return 0;
}

static struct spinlock crash_a, crash_b, crash_hold;

// a then b, and later b then a: the order cycle lockdep exists to find.
static NOINLINE int
crash_lock_order(void)
{
  initlock(&crash_a, "crash_a");
  initlock(&crash_b, "crash_b");
  acquire(&crash_a);
  acquire(&crash_b);
  release(&crash_b);
  release(&crash_a);
  acquire(&crash_b);
  acquire(&crash_a);
  release(&crash_a);
  release(&crash_b);
  return 0;
}

static NOINLINE int
crash_hold_long(void)
{
  initlock(&crash_hold, "crash_hold");
  acquire(&crash_hold);
  uint64 start = r_time();
  while(r_time() - start < TIMEBASE_HZ * 5 / 2)
    spin_relax();   // still answers shootdowns, as M-mode fences did
  release(&crash_hold);
  return 0;
}

static struct sleeplock crash_sa, crash_sb;

// Sleep lock a then b, later b then a.
static NOINLINE int
crash_sleep_order(void)
{
  initsleeplock(&crash_sa, "crash_sa");
  initsleeplock(&crash_sb, "crash_sb");
  acquiresleep(&crash_sa);
  acquiresleep(&crash_sb);
  releasesleep(&crash_sb);
  releasesleep(&crash_sa);
  acquiresleep(&crash_sb);
  acquiresleep(&crash_sa);
  releasesleep(&crash_sa);
  releasesleep(&crash_sb);
  return 0;
}

// A sleep lock wanted under a spinlock (free this time: no sleep).
static NOINLINE int
crash_sleep_under_spin(void)
{
  initlock(&crash_a, "crash_a");
  initsleeplock(&crash_sa, "crash_sa");
  acquire(&crash_a);
  acquiresleep(&crash_sa);
  releasesleep(&crash_sa);
  release(&crash_a);
  return 0;
}

// Back to user space with a sleep lock held.
static NOINLINE int
crash_sleep_kept(void)
{
  initsleeplock(&crash_sa, "crash_sa");
  acquiresleep(&crash_sa);
#ifndef DEBUG
  releasesleep(&crash_sa);   // no checker to see it: do no harm
#endif
  return 0;
}

// crash(how): see the top of the file. Returns only for an unknown how,
// and for 4 to 8 without -DDEBUG (no checker to object).
uint64
sys_crash(void)
{
  int how;
  argint(0, &how);
  printf("crash(%d): pid %d (%s) asked the kernel to fail on purpose\n",
         how, myproc()->pid, myproc()->name);
  if(how == 0)
    return crash_bad_pointer();
  if(how == 1)
    return crash_recurse(0);
  if(how == 2)
    return crash_corrupt_root();
  if(how == 3)
    return crash_deadlock();
  if(how == 4)
    return crash_lock_order();
  if(how == 5)
    return crash_hold_long();
  if(how == 6)
    return crash_sleep_order();
  if(how == 7)
    return crash_sleep_under_spin();
  if(how == 8)
    return crash_sleep_kept();
  return -1;
}

#else

// Built without FAULT_INJECT: crash() is refused.
uint64
sys_crash(void)
{
  return -1;
}

#endif
