// kthread.c: kernel threads: tasks with no user memory (mm == NULL) that
// run a kernel function. While one runs it borrows the address space the
// hart was on (active_mm, see sched.c); it never causes a satp write.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/lockdep.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// A thread that returns from its function, or is stopped, ends here. It
// stays a ZOMBIE until kthread_stop() collects it.
static void
kthread_exit(int ret)
{
  struct proc *p = myproc();
  lockdep_sleep_none_held("exit");
  acquire(&wait_lock);
  wakeup(p);                  // kthread_stop() sleeps on the thread
  acquire(&sched_lock);
  p->xstate = ret;
  p->state = ZOMBIE;
  release(&wait_lock);
  schedule();
  panic("kthread_exit: %s ran again", p->name);
}

// First instructions of every kernel thread.
static void
kthread_entry(void)
{
  finish_task_switch();
  intr_on();
  struct proc *p = myproc();
  kthread_exit(p->kthread_fn(p->kthread_arg));
}

// Make a kernel thread that will run fn(arg) on the stack kstack (from
// the vmalloc area), not yet runnable: kthread_bind() may pin it to a hart
// before kthread_start(). Returns it, or 0 (kstack is then freed).
struct proc *
kthread_alloc(int (*fn)(void *), void *arg, const char *name, void *kstack)
{
  struct proc *p = alloc_task(kstack);
  if(p == 0)
    return 0;
  p->kthread_fn = fn;
  p->kthread_arg = arg;
  p->context.ra = (uint64)kthread_entry;
  safestrcpy(p->name, name, sizeof(p->name));
  return p;
}

// Let p run only on cpu (an index, not a hart id). Before kthread_start.
void
kthread_bind(struct proc *p, int cpu)
{
  p->cpu_allowed = cpu;
}

void
kthread_start(struct proc *p)
{
  acquire(&sched_lock);
  make_runnable(p);
  release(&sched_lock);
}

// Create and start a kernel thread running fn(arg). Its stack comes from
// vmalloc(), outside the region of user tasks' stacks, so the first thread
// created after a process exists adds a root entry that the process's
// root lacks (see vmalloc.c). Returns it, or 0.
struct proc *
kthread_create(int (*fn)(void *), void *arg, const char *name)
{
  struct proc *p = kthread_alloc(fn, arg, name, kstack_alloc_thread());
  if(p)
    kthread_start(p);
  return p;
}

// Should the current kernel thread return? Threads that loop check this.
int
kthread_should_stop(void)
{
  struct proc *p = myproc();
  acquire(&sched_lock);
  int stop = p->should_stop;
  release(&sched_lock);
  return stop;
}

// Ask thread k to stop, wait until it has returned, free it and return
// its function's result.
int
kthread_stop(struct proc *k)
{
  acquire(&wait_lock);
  acquire(&sched_lock);
  k->should_stop = 1;
  if(k->state == SLEEPING)
    make_runnable(k);
  release(&sched_lock);
  for(;;){
    acquire(&sched_lock);
    int done = k->state == ZOMBIE;
    release(&sched_lock);
    if(done)
      break;
    sleep(k, &wait_lock);
  }
  int ret = k->xstate;
  free_task(k);
  release(&wait_lock);
  return ret;
}
