// sched.c: the scheduler: one run queue shared by all harts, context
// switches with the lazy-TLB rules for address spaces, sleep and wakeup,
// and each hart's idle task.
//
// sched_lock protects every task's state, chan, killed, cpu and the run
// queue. It is held across swtch(): the task that switches away takes it,
// the task that starts running releases it (finish_task_switch), so no
// other hart can pick a task before it is completely off its stack.
//
// Lock order: wait_lock, then sched_lock, then any other lock.
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

struct cpu *
mycpu(void)
{
  return myproc()->cpu;
}

int
cpuid(void)
{
  return mycpu()->id;
}

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
    vmalloc_sync_stack(next->active_mm->pgd, next);
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
  //> // this file. For now every kernel thread runs on init_mm, whose root
  //> // is kernel_pagetable, so every switch to one writes satp, and no mm
  //> // is ever borrowed.
  //> struct mm *next_mm = next->mm ? next->mm : &init_mm;
  //> next->active_mm = next_mm;
  //> switch_mm(prev->active_mm, next_mm, next);
  // LAB lazytlb END
}

// prev is a zombie leaving its hart for good: its kernel stack is freed by
// the task switched to, in finish_task_switch(), once nothing runs on it
// (Linux frees a dead task's stack there too). Freeing a vmalloc stack
// shoots down every hart's TLB, which is slow; done here, the exiting
// task's hart pays for it rather than the parent in wait(). init, which
// reaps every orphan, could otherwise fall behind a program that makes
// orphans quickly (xv6's usertests reparent) until the process table
// fills with zombies. wait() finds kstack_base 0 and frees only the slot.
static void
hand_over_dead_stack(struct cpu *c, struct proc *prev)
{
  c->dead_stack = prev->kstack_base;
  prev->kstack_base = prev->kstack_top = 0;
  prev->regs = 0;
}

// Run next instead of the current task. Caller holds sched_lock (only),
// interrupts are off, and prev->state is no longer RUNNING.
static void
context_switch(struct proc *prev, struct proc *next)
{
  struct cpu *c = mycpu();
  uint64 syncs = c->nr_vmalloc_syncs, flushes = c->nr_tlb_flushes;
  prepare_mm(prev, next);
  vmalloc_check_flushed(syncs, flushes, "the stack sync of a switch");
  next->cpu = c;
  c->curr = next;
  c->nr_switches++;
  if(prev->state == ZOMBIE)
    hand_over_dead_stack(c, prev);
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
  if(dead_stack)
    vfree((void *)dead_stack);
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

// Before the idle task waits for an interrupt: if the mm it borrows has
// no users left (its last task exited here), move this hart to init_mm
// and drop the borrow, so the root page is freed now rather than when the
// hart next runs a user task, which on a quiet machine may be never. It
// costs one satp write, and keeps free-page counts honest: xv6's
// usertests compare them before and after a run. (Linux kernels built
// with MMU_LAZY_TLB_SHOOTDOWN make lazy CPUs give up a dead mm too.)
// Interrupts are off.
static void
idle_drop_dead_mm(struct proc *idle)
{
  struct mm *mm = idle->active_mm;
  if(mm == 0 || mm == &init_mm ||
     __atomic_load_n(&mm->mm_users, __ATOMIC_ACQUIRE) > 0)
    return;
  mmgrab(&init_mm);
  switch_mm(mm, &init_mm, idle);
  idle->active_mm = &init_mm;
  mmdrop(mm);
  mycpu()->nr_idle_mm_drops++;
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
  uint64 stack = (uint64)vmalloc_task_stack();
  if(stack == 0)
    panic("sched_init_hart: no memory for the idle stack");
  idle->kstack_base = stack;
  idle->kstack_top = stack + KSTACK_SIZE;
  idle->regs = (struct pt_regs *)(idle->kstack_top - PT_SIZE);
  idle->context.ra = (uint64)idle_loop;
  idle->context.sp = (uint64)idle->regs;
  idle->context.tp = (uint64)idle;
  idle->state = RUNNING;
  mycpu()->curr = idle;
  struct context dummy;
  swtch(&dummy, &idle->context);
  panic("sched_init_hart: idle returned");
}
