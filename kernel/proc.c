// proc.c: tasks: the task table, fork, exit, wait, kill and sbrk.
//
// A task is a user process (mm != NULL) or a kernel thread (mm == NULL,
// kthread.c). Every task has a kernel stack in the vmalloc area, with an
// unmapped guard page below it and its user registers (struct pt_regs) at
// the top.
//
// Locks: sched_lock (sched.c) protects state, chan, killed, cpu;
// wait_lock protects every task's parent pointer and makes exit/wait
// race-free. Lock order: wait_lock, then sched_lock.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/asm-offsets.h"
#include "kernel/spinlock.h"
#include "kernel/lockdep.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/procinfo.h"
#include "kernel/defs.h"

struct proc proc[NPROC];
struct proc idle_tasks[NCPU];
static struct proc *initproc;
static int nextpid = 1;

void
proc_init(void)
{
  initlock(&sched_lock, "sched");
  initlock(&wait_lock, "wait");
}

// Find an UNUSED slot and give it a pid and the kernel stack kstack (from
// the vmalloc area, KSTACK_SIZE bytes). Returns the task in state USED with
// context and regs set up for the caller to finish; or 0, with kstack
// freed, if kstack is 0 or the table is full.
struct proc *
alloc_task(void *kstack)
{
  if(kstack == 0)
    return 0;
  struct proc *p;
  acquire(&sched_lock);
  for(p = proc; p < &proc[NPROC]; p++)
    if(p->state == UNUSED)
      break;
  if(p == &proc[NPROC]){
    release(&sched_lock);
    vfree(kstack);
    return 0;
  }
  p->state = USED;
  p->pid = nextpid++;
  p->cpu_allowed = -1;
  release(&sched_lock);

  kstack_attach(p, kstack);
  memset(p->regs, 0, sizeof(*p->regs));
  memset(&p->context, 0, sizeof(p->context));
  p->context.sp = (uint64)p->regs;
  p->context.tp = (uint64)p;
  return p;
}

// Release a task that is not running and will never run: its kernel
// stack, unless its last switch handed it over (kstack.c), and its slot.
// Its mm must already be gone.
void
free_task(struct proc *p)
{
  kstack_free(p);
  p->mm = p->active_mm = 0;
  p->parent = 0;
  p->name[0] = 0;
  p->killed = p->xstate = p->should_stop = 0;
  p->cpu = 0;
  acquire(&sched_lock);
  p->pid = 0;
  p->state = UNUSED;
  release(&sched_lock);
}

// The first user process starts as a kernel thread, mounts the file
// system (which needs a task that can sleep) and execs /init.
static int
kernel_init(void *arg)
{
  static char *argv[] = { "init", 0 };
  struct proc *p = myproc();
  fsinit(ROOTDEV);
  p->cwd = namei("/");
  if(exec("/init", argv) < 0)
    panic("kernel_init: cannot exec /init");
  // LAB vmsync BEGIN
  // kzerod's stack needs a new root entry (vmalloc region 321) that init's
  // root and init_mm's lack, so the lazy-sync machinery works on every boot.
  kzerod_start();
  // LAB vmsync STARTER
  //> // [kzerod] is not started yet: its stack would lie in a root entry
  //> // (vmalloc region 321) that init's root and init_mm's lack, and a hart
  //> // switching to it would fault on its own stack. Once your sync works,
  //> // start it here (kzerod_start(); see the handout).
  // LAB vmsync END
  return_to_user();
}

// Its stack comes from the task-stack region (320), like every process's,
// whose root entry every root has from boot. Region 321 is first created
// by the first kernel thread started after the exec ([kzerod]), so init's
// root and init_mm's lack it and the lazy sync has work on every boot.
void
userinit(void)
{
  initproc = kthread_alloc(kernel_init, 0, "init", kstack_alloc_task());
  if(initproc == 0)
    panic("userinit: no memory for init");
  kthread_start(initproc);
}

// A forked child's first instructions: finish the switch that started it,
// then return to user mode with a copy of its parent's registers.
static void
ret_from_fork(void)
{
  finish_task_switch();
  return_to_user();
}

// Copy the current process. Returns the child's pid in the parent, 0 in
// the child (through its registers), -1 on failure.
int
fork(void)
{
  struct proc *parent = myproc(), *child = alloc_task(kstack_alloc_task());
  if(child == 0)
    return -1;
  struct mm *mm = mm_alloc();
  if(mm == 0){
    free_task(child);
    return -1;
  }
  mm->brk = parent->mm->brk;
  mm->start_brk = parent->mm->start_brk;
  if(uvmcopy(parent->mm->pgd, mm->pgd, mm->brk) < 0){
    mmput(mm);
    free_task(child);
    return -1;
  }
  child->mm = child->active_mm = mm;
  *child->regs = *parent->regs;
  child->regs->a0 = 0;
  for(int fd = 0; fd < NOFILE; fd++)
    if(parent->ofile[fd])
      child->ofile[fd] = filedup(parent->ofile[fd]);
  child->cwd = idup(parent->cwd);
  safestrcpy(child->name, parent->name, sizeof(child->name));
  child->context.ra = (uint64)ret_from_fork;
  int pid = child->pid;

  acquire(&wait_lock);
  child->parent = parent;
  release(&wait_lock);
  acquire(&sched_lock);
  make_runnable(child);
  release(&sched_lock);
  return pid;
}

// Give p's children to init. Caller holds wait_lock.
static void
reparent(struct proc *p)
{
  for(struct proc *pp = proc; pp < &proc[NPROC]; pp++){
    if(pp->parent == p){
      pp->parent = initproc;
      wakeup(initproc);
    }
  }
}

// The task stops owning its mm but keeps running on it, now as a lazy
// borrower (Linux's exit_mm): the user half is freed at once if this was
// the last user, the root stays until the task has switched away.
static void
exit_mm(struct proc *p)
{
  struct mm *mm = p->mm;
  if(mm == 0)
    return;
  // LAB lazytlb BEGIN
  mmgrab(mm);         // the borrowed reference of active_mm
  p->mm = 0;
  mmput(mm);
  // LAB lazytlb STARTER
  //> // TODO (lazytlb): keep running on mm as a lazy borrower instead: the
  //> // user half can go now, the root only once this task has switched
  //> // away. For now, move to init_mm first so mm can be freed at once.
  //> push_off();
  //> switch_mm(mm, &init_mm, p);
  //> p->active_mm = &init_mm;
  //> p->mm = 0;
  //> pop_off();
  //> mmput(mm);
  // LAB lazytlb END
}

static void
close_files(struct proc *p)
{
  for(int fd = 0; fd < NOFILE; fd++){
    if(p->ofile[fd]){
      fileclose(p->ofile[fd]);
      p->ofile[fd] = 0;
    }
  }
  if(p->cwd){
    begin_op();
    iput(p->cwd);
    end_op();
    p->cwd = 0;
  }
}

// End the current process with the given status. It stays a ZOMBIE until
// its parent's wait() frees it.
void
exit(int status)
{
  struct proc *p = myproc();
  if(p == initproc)
    panic("init exiting with status %d", status);
  lockdep_sleep_none_held("exit");
  close_files(p);
  exit_mm(p);

  acquire(&wait_lock);
  reparent(p);
  wakeup(p->parent);
  acquire(&sched_lock);
  p->xstate = status;
  p->state = ZOMBIE;
  release(&wait_lock);
  schedule();
  panic("zombie %d ran again", p->pid);
}

// Is child a ZOMBIE that has completely switched away? Holding sched_lock
// proves it: the zombie held it until another task ran.
static int
is_zombie(struct proc *child)
{
  acquire(&sched_lock);
  int z = child->state == ZOMBIE;
  release(&sched_lock);
  return z;
}

// Wait for a child to exit; store its status at user address addr (if not
// 0) and return its pid. Returns -1 if there are no children, the address
// is bad, or the caller is killed.
int
wait(uint64 addr)
{
  struct proc *p = myproc();
  acquire(&wait_lock);
  for(;;){
    int havekids = 0;
    for(struct proc *pp = proc; pp < &proc[NPROC]; pp++){
      if(pp->parent != p)
        continue;
      havekids = 1;
      if(!is_zombie(pp))
        continue;
      int pid = pp->pid;
      if(addr && copyout(addr, &pp->xstate, sizeof(pp->xstate)) < 0){
        release(&wait_lock);
        return -1;
      }
      free_task(pp);
      release(&wait_lock);
      return pid;
    }
    if(!havekids || killed(p)){
      release(&wait_lock);
      return -1;
    }
    sleep(p, &wait_lock);
  }
}

// Ask process pid to exit; it does so when it next leaves the kernel or
// wakes up. Kernel threads and init cannot be killed. Returns 0 or -1.
int
kill(int pid)
{
  acquire(&sched_lock);
  for(struct proc *p = proc; p < &proc[NPROC]; p++){
    if(p->pid == pid && pid > 0 && p->state != UNUSED && p->state != ZOMBIE &&
       p->mm && p != initproc){
      __atomic_store_n(&p->killed, 1, __ATOMIC_RELAXED);   // killed() reads it unlocked
      if(p->state == SLEEPING)
        make_runnable(p);
      release(&sched_lock);
      return 0;
    }
  }
  release(&sched_lock);
  return -1;
}

void
setkilled(struct proc *p)
{
  acquire(&sched_lock);
  __atomic_store_n(&p->killed, 1, __ATOMIC_RELAXED);
  release(&sched_lock);
}

// Read without sched_lock: it is on every system call's path (twice), and
// the lock is the run queue's, shared by all harts. killed only goes from 0
// to 1 while the task lives, and a reader that sees 0 just as kill() sets
// it acts at its next check, as it would have with the lock, which was
// dropped before the caller acted on the value anyway. kill() wakes a
// sleeper after setting it, so no sleep misses it for good.
int
killed(struct proc *p)
{
  return __atomic_load_n(&p->killed, __ATOMIC_RELAXED);
}

// Grow or shrink the current process's memory by n bytes (sbrk). Growing
// allocates the pages now; with lazy it only moves the break, and
// handle_mm_fault() allocates each page at its first touch. Returns 0, or
// -1 if the break would pass USER_TOP or memory runs out. A shrink past
// address 0 changes nothing and succeeds, as in xv6, whose usertests
// check it.
int
growproc(int n, int lazy)
{
  struct mm *mm = myproc()->mm;
  uint64 old = mm->brk;
  if(n > 0){
    if(old + n > USER_TOP)
      return -1;
    if(!lazy && uvmalloc(mm->pgd, old, old + n, 0) == 0)
      return -1;
  } else if(n < 0){
    if((uint64)-(int64)n > old)
      return 0;
    uvmdealloc(mm->pgd, old, old + n);
    flush_tlb_mm_range(mm, PGROUNDUP(old + n), PGROUNDUP(old));
    if(mm->start_brk > old + n)
      mm->start_brk = old + n;   // the heap now starts lower
  }
  mm->brk = old + n;
  return 0;
}

// How many task slots are in use (kernel threads and zombies included,
// idle tasks not)?
int
nr_tasks(void)
{
  int n = 0;
  acquire(&sched_lock);
  for(struct proc *p = proc; p < &proc[NPROC]; p++)
    n += p->state != UNUSED;
  release(&sched_lock);
  return n;
}

// The task with this pid, or 0. Unlocked: the caller holds sched_lock if
// it must trust what it reads there.
struct proc *
find_task(int pid)
{
  for(struct proc *p = proc; p < &proc[NPROC]; p++)
    if(p->pid == pid && p->state != UNUSED)
      return p;
  return 0;
}

#define GET_MM_TICKS 100   // how long get_task_mm waits for a running task

// An owning reference (mm_users) to the mm of task pid, for a task that
// reads another's page tables (ptdump); the caller mmput()s it. With it
// the user half cannot be freed (mmput), only the leaves changed. Returns
// 0 if there is no such task with user memory, or if it stayed on a hart
// for GET_MM_TICKS ticks; the task's name goes to name.
//
// Only the task itself sets p->mm and drops its reference (exec,
// exit_mm), and only while it runs; a task being made (USED) belongs to
// fork's caller. So p->mm is read and counted while p is switched out:
// holding sched_lock and seeing p SLEEPING or RUNNABLE proves that, since
// a task holds sched_lock until it is off its stack (sched.c). A running
// p is waited for a tick at a time: it leaves the hart at its next tick.
struct mm *
get_task_mm(int pid, char name[16])
{
  struct proc *me = myproc();
  for(int tries = 0; tries <= GET_MM_TICKS; tries++){
    acquire(&sched_lock);
    struct proc *p = find_task(pid);
    int settled = p && (p == me || p->state == SLEEPING || p->state == RUNNABLE);
    struct mm *mm = settled ? p->mm : 0;
    if(mm){
      mmget(mm);
      safestrcpy(name, p->name, 16);
    }
    int gone = p == 0 || p->state == ZOMBIE;
    release(&sched_lock);
    if(mm || settled || gone || killed(me))
      return mm;
    acquire(&tickslock);   // RUNNING or USED: wait for the next tick
    sleep(&ticks, &tickslock);
    release(&tickslock);
  }
  return 0;
}

static const char *state_names[] = {
  [UNUSED] "unused", [USED] "used", [SLEEPING] "sleep",
  [RUNNABLE] "runble", [RUNNING] "run", [ZOMBIE] "zombie",
};

static void
dump_task(struct proc *p)
{
  int hart = p->cpu ? p->cpu->hartid : -1;
  if(p->mm)
    printf("%d %s hart %d %s mm %d\n", p->pid, state_names[p->state], hart,
           p->name, p->mm->id);
  else
    printf("%d %s hart %d [%s] active_mm %d\n", p->pid, state_names[p->state],
           hart, p->name, p->active_mm ? p->active_mm->id : 0);
}

// List every task on the console (^P). Takes no lock, so it works even
// when the kernel is stuck; the output may be inconsistent.
void
procdump(void)
{
  printf("\n");
  for(int i = 0; i < ncpu; i++)
    dump_task(&idle_tasks[i]);
  for(struct proc *p = proc; p < &proc[NPROC]; p++)
    if(p->state != UNUSED)
      dump_task(p);
}

static void
fill_info(struct procinfo *pi, struct proc *p)
{
  static const int states[] = {
    [UNUSED] PI_UNUSED, [USED] PI_RUNNABLE, [SLEEPING] PI_SLEEPING,
    [RUNNABLE] PI_RUNNABLE, [RUNNING] PI_RUNNING, [ZOMBIE] PI_ZOMBIE,
  };
  memset(pi, 0, sizeof(*pi));   // padding and name tail: no old kernel data
  pi->pid = p->pid;
  pi->ppid = p->parent ? p->parent->pid : 0;
  pi->state = states[p->state];
  pi->hart = p->cpu ? p->cpu->hartid : -1;
  pi->kthread = p->mm == 0 && p->state != ZOMBIE;
  pi->size = p->mm ? p->mm->brk : 0;
  safestrcpy(pi->name, p->name, sizeof(pi->name));
}

// Copy a table of up to max tasks (idle tasks first) to user address addr.
// Returns the number copied, or -1.
int
procinfo(uint64 addr, int max)
{
  struct procinfo *table = kalloc();
  if(table == 0)
    return -1;
  int room = PGSIZE / sizeof(*table), n = 0;
  if(max < room)
    room = max;
  acquire(&wait_lock);
  acquire(&sched_lock);
  for(int i = 0; i < ncpu && n < room; i++)
    fill_info(&table[n++], &idle_tasks[i]);
  for(struct proc *p = proc; p < &proc[NPROC] && n < room; p++)
    if(p->state != UNUSED)
      fill_info(&table[n++], p);
  release(&sched_lock);
  release(&wait_lock);
  int r = n > 0 && copyout(addr, table, n * sizeof(*table)) < 0 ? -1 : n;
  kfree(table);
  return r;
}
