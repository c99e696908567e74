// kstack.c: kernel stacks of tasks, from allocation to free, in one place.
//
// Every task runs in the kernel on a KSTACK_SIZE stack in the vmalloc
// area with an unmapped guard page below it (invariant 8), its user
// registers (struct pt_regs) at the top. A stack's life:
//
//   allocate  kstack_alloc_task(): region 320, for user tasks and idle
//             tasks; kstack_alloc_thread(): the general vmalloc regions,
//             for kernel threads (so the first thread started after a
//             process exists needs a root entry that process lacks).
//   attach    kstack_attach() makes it the task's stack.
//   free      a task that never ran (fork failing, a self-test's thread
//             never started) frees it in free_task(), through kstack_free.
//             A task that ran frees it after its last switch: the switch
//             away from a zombie hands the stack to the hart
//             (kstack_hand_over) and the task switched to frees it
//             (kstack_free_dead), off the stack and outside sched_lock.
//   idle      each hart's idle task gets one at the end of boot and keeps
//             it forever.
//
// Freeing a vmalloc stack shoots down every hart's TLB (vfree), which is
// slow under QEMU (0.4-0.9 ms, far more on a loaded host). Paid in wait()
// instead, it let init, which reaps every orphan, fall behind a program
// making orphans quickly (xv6's usertests reparent) until the task table
// filled with zombies. So a parent may reap a child whose stack is still
// being freed: dead_pages counts those pages, and nr_free_soon_pages()
// reads it together with the free pages, so that a leak check run right
// after a reap sees every page.
//
// Lock order: dead_lock, then mm_pool.lock or kmem.lock (mm_pool.lock, then
// kmem.lock). vmalloc_lock is never taken under dead_lock.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/asm-offsets.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

static struct spinlock dead_lock;   // a dead stack's free against readers
static uint64 dead_pages;           // pages of handed-over, unfreed stacks;
                                    // changed only atomically

void
kstack_init(void)
{
  initlock(&dead_lock, "kstack_dead");
}

// A stack for a user task or an idle task, in the first vmalloc region.
// Returns 0 if out of memory.
void *
kstack_alloc_task(void)
{
  return __vmalloc_range(KSTACK_SIZE, VMALLOC_START, VMALLOC_STACKS_END);
}

// A stack for a kernel thread, anywhere vmalloc() allocates.
void *
kstack_alloc_thread(void)
{
  return vmalloc(KSTACK_SIZE);
}

// Make stack (KSTACK_SIZE bytes from kstack_alloc_*) p's kernel stack,
// with p's user registers at its top.
void
kstack_attach(struct proc *p, void *stack)
{
  p->kstack_base = (uint64)stack;
  p->kstack_top = p->kstack_base + KSTACK_SIZE;
  p->regs = (struct pt_regs *)(p->kstack_top - PT_SIZE);
}

// Free p's stack, if it still has one. p must not be running, nor ever
// run again on it.
void
kstack_free(struct proc *p)
{
  if(p->kstack_base)
    vfree((void *)p->kstack_base);
  p->kstack_base = p->kstack_top = 0;
  p->regs = 0;
}

// zombie is switching away for the last time on hart c: the task c
// switches to frees the stack in kstack_free_dead(). The reaper (wait or
// kthread_stop) then finds no stack and frees only the slot. Caller holds
// sched_lock.
void
kstack_hand_over(struct cpu *c, struct proc *zombie)
{
  __atomic_fetch_add(&dead_pages, KSTACK_PAGES, __ATOMIC_RELAXED);
  c->dead_stack = zombie->kstack_base;
  zombie->kstack_base = zombie->kstack_top = 0;
  zombie->regs = 0;
}

// Free the stack a zombie handed to this hart, if any. Called by the task
// switched to, in finish_task_switch(), without sched_lock (vfree waits
// for the other harts' fences). vfree_counted frees the pages and lowers
// dead_pages in one critical section of dead_lock, after the shootdown,
// which runs with no lock held.
void
kstack_free_dead(uint64 stack)
{
  if(stack == 0)
    return;
  vfree_counted((void *)stack, &dead_lock, &dead_pages, KSTACK_PAGES);
}

// Free pages, plus the pages that become free without any task running:
// roots kept only by lazy borrowers of exited processes (mm.c) and dead
// tasks' stacks being freed. Read as one, so a page moving from one to
// another is counted once. Leak checks compare this (kstat free_soon).
uint64
nr_free_soon_pages(void)
{
  acquire(&dead_lock);
  uint64 n = nr_free_or_lazy_pages() + __atomic_load_n(&dead_pages, __ATOMIC_RELAXED);
  release(&dead_lock);
  return n;
}
