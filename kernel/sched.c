// sched.c: the scheduler: one run queue shared by all harts, context
// switches with the lazy-TLB rules for address spaces, sleep and wakeup,
// and each hart's idle task.
//
// sched_lock protects every task's state, chan, killed, cpu and the run
// queue. It is held across swtch(): the task that switches away takes it,
// the task that starts running releases it (finish_task_switch), so no
// other hart can pick a task before it is completely off its stack.
//
// Lock order:
//   wait_lock
//     any other lock (tickslock, a pipe's, the log's, bcache, ...)
//       sched_lock      innermost but for printf's: sleep() and wakeup()
//                       take it while holding the caller's lock
//         print_lock    a warning printed during a switch
// Nothing but print_lock is acquired while sched_lock is held; in
// particular no page is freed under it (finish_task_switch frees after
// releasing it).
//
// Address spaces on a switch (Linux's context_switch):
//
//   prev -> next        what happens to the mm
//   user -> kernel      next borrows prev's mm as active_mm: mmgrab
//   kernel -> kernel    next takes over prev's borrowed active_mm
//   kernel -> user      switch_mm to next->mm, mmdrop the borrowed mm
//                       after the switch (finish_task_switch)
//   user -> user        switch_mm to next->mm
//
// Switching to a kernel thread never writes satp (invariant 6). An
// exiting task has given up its mm and counts as a kernel thread here.
// A borrowed active_mm holds exactly one mm_count reference (mm.c): the
// kernel -> kernel case moves it to next and clears prev's, never copies.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/asm-offsets.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"

struct cpu cpus[NCPU];
int ncpu = 1;
struct spinlock sched_lock;
struct spinlock wait_lock;

static struct proc *rq_head, *rq_tail;   // RUNNABLE tasks, oldest first

// Put p at the tail of the run queue. Caller holds sched_lock.
void
make_runnable(struct proc *p)
{
  if(!holding(&sched_lock))
    panic("make_runnable: sched_lock not held");
  p->state = RUNNABLE;
  p->rq_next = 0;
  if(rq_tail)
    rq_tail->rq_next = p;
  else
    rq_head = p;
  rq_tail = p;
}

// Take the oldest queued task allowed to run on this hart, or 0.
static struct proc *
rq_pop(void)
{
  int cpu = cpuid();
  struct proc *prev = 0;
  for(struct proc *p = rq_head; p; prev = p, p = p->rq_next){
    if(p->cpu_allowed != -1 && p->cpu_allowed != cpu)
      continue;
    if(prev)
      prev->rq_next = p->rq_next;
    else
      rq_head = p->rq_next;
    if(rq_tail == p)
      rq_tail = prev;
    p->rq_next = 0;
    return p;
  }
  return 0;
}

// Is a task that this hart may run waiting? Caller holds sched_lock.
static int
rq_has_work(void)
{
  int cpu = cpuid();
  for(struct proc *p = rq_head; p; p = p->rq_next)
    if(p->cpu_allowed == -1 || p->cpu_allowed == cpu)
      return 1;
  return 0;
}

// Choose the address space next runs on, following the table above.
static void
prepare_mm(struct proc *prev, struct proc *next)
{
  // LAB lazytlb BEGIN
  struct cpu *c = mycpu();
  if(next->mm == 0){
    // to a kernel thread: borrow, no satp write
    next->active_mm = prev->active_mm;
    if(prev->mm)
      mmgrab(prev->active_mm);    // user -> kernel
    else
      prev->active_mm = 0;        // kernel -> kernel: pass it on
    enter_lazy_tlb(next->active_mm, next);
    c->nr_lazy_switches++;
  } else {
    switch_mm(prev->active_mm, next->mm, next);
    if(prev->mm == 0){
      c->prev_mm = prev->active_mm;  // kernel -> user: drop after switch
      prev->active_mm = 0;
    }
  }
  // LAB lazytlb STARTER
  //> // TODO (lazytlb): implement the four cases of the table at the top of
  //> // this file. For now every kernel thread runs on init_mm, the kernel's
  //> // own address space, so every switch to one writes satp, and no mm
  //> // is ever borrowed.
  //> struct mm *next_mm = next->mm ? next->mm : &init_mm;
  //> next->active_mm = next_mm;
  //> switch_mm(prev->active_mm, next_mm, next);
  // LAB lazytlb END
}

// Run next instead of the current task. Caller holds sched_lock (only),
// interrupts are off, and prev->state is no longer RUNNING.
static void
context_switch(struct proc *prev, struct proc *next)
{
  struct cpu *c = mycpu();
  struct tlb_mark mark = tlb_mark();
  prepare_mm(prev, next);
  vmalloc_check_stack_flushed(mark, next);
  vmalloc_check_stack_flushed(mark, prev);   // we run on it until swtch
  next->cpu = c;
  c->curr = next;
  c->nr_switches++;
  if(prev->state == ZOMBIE)
    kstack_hand_over(c, prev);   // freed by next, in finish_task_switch
  swtch(&prev->context, &next->context);
  // Back in prev, maybe on another hart, switched to by someone.
}

// Second half of every switch, run by the task that was switched to, on
// its own stack: release sched_lock, then drop the mm that a kernel thread
// gave back and free the stack of a zombie that switched away (both may
// free pages, and vfree waits for other harts, so not under sched_lock).
void
finish_task_switch(void)
{
  struct cpu *c = mycpu();
  struct mm *mm = c->prev_mm;
  uint64 dead_stack = c->dead_stack;
  c->prev_mm = 0;
  c->dead_stack = 0;
  release(&sched_lock);
  if(mm)
    mmdrop(mm);
  kstack_free_dead(dead_stack);
}

// Give the hart to the next runnable task, or to the idle task if there
// is none. The caller holds sched_lock and no other lock, and has set its
// state to what it should be while away (RUNNABLE and queued, SLEEPING or
// ZOMBIE). Returns when the task runs again, with sched_lock released.
void
schedule(void)
{
  struct proc *prev = myproc();
  if(!holding(&sched_lock))
    panic("schedule: sched_lock not held");
  if(mycpu()->noff != 1)
    panic("schedule: other locks held (noff %d)", mycpu()->noff);
  if(prev->state == RUNNING)
    panic("schedule: task %d is still RUNNING", prev->pid);
  if(intr_get())
    panic("schedule: interrupts on");

  struct proc *next = rq_pop();
  if(next == 0)
    next = mycpu()->idle;
  next->state = RUNNING;
  if(next == prev){
    release(&sched_lock);
    return;
  }
  int intena = mycpu()->intena;   // belongs to this task, not the hart
  context_switch(prev, next);
  // Running again, perhaps on another hart, switched to by some task.
  mycpu()->intena = intena;
  finish_task_switch();
}

// Give up the hart for one scheduling round.
void
yield(void)
{
  acquire(&sched_lock);
  make_runnable(myproc());
  schedule();
}

// Atomically release lk and sleep on chan; reacquire lk when woken.
void
sleep(void *chan, struct spinlock *lk)
{
  struct proc *p = myproc();
  // Holding sched_lock, no wakeup(chan) can run before we are asleep.
  acquire(&sched_lock);
  release(lk);
  p->chan = chan;
  p->state = SLEEPING;
  schedule();
  p->chan = 0;
  acquire(lk);
}

// Wake every task sleeping on chan. Must not be called with sched_lock.
void
wakeup(void *chan)
{
  acquire(&sched_lock);
  for(struct proc *p = proc; p < &proc[NPROC]; p++)
    if(p->state == SLEEPING && p->chan == chan)
      make_runnable(p);
  release(&sched_lock);
}

// The idle task: run whatever is runnable, otherwise wait for an
// interrupt. It is a kernel thread on a borrowed mm like any other.
static void
idle_loop(void)
{
  struct proc *idle = myproc();
  for(;;){
    intr_off();
    idle_drop_dead_mm(idle);
    acquire(&sched_lock);
    if(rq_has_work()){
      idle->state = RUNNABLE;   // not queued: schedule() comes back here
      schedule();
    } else {
      release(&sched_lock);
      asm volatile("wfi");      // a pending interrupt ends it even now
    }
    intr_on();                  // take the interrupt that woke us
  }
}

// Set up this hart's idle task on a vmalloc stack and become it. Called
// once per hart at the end of its boot; never returns.
void
sched_init_hart(int cpuid)
{
  struct proc *idle = mycpu()->idle;
  void *stack = kstack_alloc_task();
  if(stack == 0)
    panic("sched_init_hart: no memory for the idle stack");
  kstack_attach(idle, stack);
  idle->context.ra = (uint64)idle_loop;
  idle->context.sp = (uint64)idle->regs;
  idle->context.tp = (uint64)idle;
  idle->state = RUNNING;
  mycpu()->curr = idle;
  struct context dummy;
  swtch(&dummy, &idle->context);
  panic("sched_init_hart: idle returned");
}
