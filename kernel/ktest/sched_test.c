// sched_test.c: self-tests of kernel threads and borrowed address spaces:
// creating and stopping threads, switches to a kernel thread without a
// satp write, an exiting task's mm staying alive while borrowed, mm counts
// that match the tasks, and no leaked pages.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/asm-offsets.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"
#include "kernel/ktest/ktest.h"

// Body of a thread that sleeps a tick at a time until it is stopped.
static int
sleeper(void *arg)
{
  while(!kthread_should_stop()){
    acquire(&tickslock);
    sleep(&ticks, &tickslock);
    release(&tickslock);
  }
  return (uint64)arg;
}

// Do kthread_create and kthread_stop work, and return the thread's result?
static int
kthread_create_stop(char *msg)
{
  struct proc *t[8];
  int n = 0;
  for(; n < NELEM(t); n++)
    if((t[n] = kthread_create(sleeper, (void *)(uint64)(100 + n), "kt-sleep")) == 0)
      break;
  int wrong = 0;
  for(int i = 0; i < n; i++)
    if(kthread_stop(t[i]) != 100 + i)
      wrong++;
  KT_ASSERT(n == NELEM(t), "created only %d of %d threads", n, (int)NELEM(t));
  KT_ASSERT(wrong == 0, "%d threads returned the wrong value", wrong);
  return 0;
}

static int
ping(void *arg)
{
  for(int i = 0; i < 50; i++)
    yield();
  return 0;
}

// Does switching between a process and a kernel thread on one hart leave
// satp alone (the thread borrows the process's mm)?
static int
kthread_switch_no_satp_write(char *msg)
{
  struct proc *k = kthread_alloc(ping, 0, "kt-ping", kstack_alloc_thread());
  KT_ASSERT(k, "kthread_alloc failed");
  push_off();
  struct cpu *c = mycpu();
  kthread_bind(k, c->id);
  myproc()->cpu_allowed = c->id;
  uint64 satp0 = c->nr_satp_writes, lazy0 = c->nr_lazy_switches;
  kthread_start(k);
  pop_off();
  for(int i = 0; i < 50; i++)
    yield();
  uint64 satp = c->nr_satp_writes - satp0, lazy = c->nr_lazy_switches - lazy0;
  myproc()->cpu_allowed = -1;
  kthread_stop(k);
  KT_ASSERT(lazy >= 25, "only %ld lazy switches to the thread, want >= 25", lazy);
  KT_ASSERT(satp == 0, "%ld satp writes while switching to a kernel thread "
            "and back to the same mm, want 0", satp);
  return 0;
}

// Do mm's counts match the tasks right now? mm_users must equal the tasks
// owning it; mm_count one for the users plus one per task borrowing it (a
// running kernel thread, an idle task or an exiting task). init_mm has no
// owning task but keeps its users' reference forever. Caller holds
// sched_lock. Returns 1 if they match, else 0 with msg filled in.
static int
mm_counts_ok(struct mm *mm, char *msg)
{
  int users = 0, borrowers = 0;
  for(struct proc *p = proc; p < &proc[NPROC]; p++){
    users += p->state != UNUSED && p->mm == mm;
    borrowers += p->state != UNUSED && p->mm == 0 && p->active_mm == mm;
  }
  for(int c = 0; c < ncpu; c++)
    borrowers += idle_tasks[c].active_mm == mm;
  if(mm == &init_mm)
    users = 1;
  int want_count = (users > 0) + borrowers;
  if(mm->mm_users == users && mm->mm_count == want_count)
    return 1;
  snprintf(msg, KTEST_MSG, "mm %d%s: mm_users %d, mm_count %d; tasks say %d and %d",
           mm->id, mm == &init_mm ? " (init_mm)" : "", mm->mm_users, mm->mm_count,
           users, want_count);
  return 0;
}

// Do the counts of init_mm and of every mm in use match the tasks? A drop
// may be in flight just after a switch, so try a few times.
static int
counts_match(char *msg)
{
  for(int attempt = 0; attempt < 20; attempt++){
    acquire(&sched_lock);
    int ok = mm_counts_ok(&init_mm, msg);
    for(int i = 0; ok; i++){
      struct mm *mm = mm_slot(i);
      if(mm == 0)
        break;
      if(mm->mm_count != 0)
        ok = mm_counts_ok(mm, msg);
    }
    release(&sched_lock);
    if(ok)
      return 0;
    yield();
  }
  return -1;
}

static int
mm_counts_consistent(char *msg)
{
  return counts_match(msg);
}

struct exit_probe {
  struct mm *volatile mm;      // the process's mm, once it has exec'd
  volatile int mm_id;
  volatile int stop;
  volatile int dead_borrows;   // times spin_yield ran on mm after its exit
  volatile uint64 satp_exec;   // the hart's satp writes just after the exec
  volatile uint64 satp_dead;   // ... when spin_yield first saw the dead mm
};

// Becomes a process running /echo (which exits at once); records its mm.
static int
exec_and_exit(void *arg)
{
  struct exit_probe *e = arg;
  static char *argv[] = { "echo", 0 };
  if(exec("/echo", argv) < 0)
    return -1;
  e->mm = myproc()->mm;
  e->mm_id = e->mm->id;
  e->satp_exec = mycpu()->nr_satp_writes - mycpu()->nr_trap_satp;   // bound
  return_to_user();
}

// Yields until stopped, counting the rounds in which it runs on the
// probe's mm, the same one (by id), with no users left: borrowed after
// the process exited.
static int
spin_yield(void *arg)
{
  struct exit_probe *e = arg;
  while(!e->stop){
    push_off();
    struct mm *mm = myproc()->active_mm;
    if(mm && mm == e->mm && mm->id == e->mm_id && mm_is_dead(mm) && mm->mm_count > 0){
      if(e->dead_borrows++ == 0)
        e->satp_dead = mycpu()->nr_satp_writes - mycpu()->nr_trap_satp;
    }
    pop_off();
    yield();
  }
  return 0;
}

// A process exits while a kernel thread on its hart goes on borrowing its
// mm: does the thread run on that very mm after the exit (seen by the
// thread itself, by the mm's id), is the mm kept alive while borrowed,
// did the hart write satp not once from the exec to then (exit leaves the
// task on its mm), and do the counts match at every step? With several
// harts this task stays off the probe's hart, so that it cannot end the
// borrow early, nor write satp there.
static int
borrowed_mm_outlives_exit(char *msg)
{
  struct exit_probe e = { 0 };
  int cpu = ncpu > 1 ? 1 : 0;
  struct proc *b = kthread_alloc(spin_yield, &e, "kt-borrow", kstack_alloc_thread());
  struct proc *k = kthread_alloc(exec_and_exit, &e, "kt-exec", kstack_alloc_thread());
  KT_ASSERT(b && k, "kthread_alloc failed");
  kthread_bind(b, cpu);
  kthread_bind(k, cpu);
  if(ncpu > 1)
    myproc()->cpu_allowed = 0;
  acquire(&wait_lock);
  k->parent = myproc();   // k becomes our child process; we reap it
  release(&wait_lock);
  int kpid = k->pid;
  kthread_start(k);
  kthread_start(b);
  int pid = wait(0);
  int r = counts_match(msg);
  // b may not have run since the exit yet: give it up to 100 ticks.
  for(uint64 t0 = ticks; e.dead_borrows == 0 && ticks - t0 < 100; )
    yield();
  e.stop = 1;
  kthread_stop(b);
  myproc()->cpu_allowed = -1;
  KT_ASSERT(pid == kpid, "wait returned %d, want the probe's pid %d", pid, kpid);
  KT_ASSERT(e.mm != 0, "the process never ran");
  KT_ASSERT(e.dead_borrows > 0, "kt-borrow never ran on mm %d after its process "
            "exited: the exit did not leave the mm borrowed", e.mm_id);
  KT_ASSERT(ncpu == 1 || e.satp_dead == e.satp_exec, "%ld satp writes on the probe's hart "
            "between the exec and the exit's aftermath, want 0",
            e.satp_dead - e.satp_exec);
  if(r < 0)
    return -1;
  return counts_match(msg);
}

// The pages a leak check counts: nr_free_soon_pages() plus the vmalloc
// area's page-table pages, which are kept once made (a stack at a new
// address may need one; no leak). Read until two reads a yield apart
// agree (up to 50 ticks): another hart may be between steps of freeing
// something (an exit's user pages after its mm lost its last user, a
// shootdown before the pages go back), which a single read can catch
// halfway.
static uint64
leak_counted_pages(void)
{
  return nr_free_soon_pages() + vmalloc_nr_table_pages();
}

static uint64
settled_leak_counted_pages(void)
{
  uint64 v = leak_counted_pages();
  for(uint64 t0 = ticks; ticks - t0 < 50; ){
    yield();
    uint64 w = leak_counted_pages();
    if(w == v)
      break;
    v = w;
  }
  return v;
}

// Does creating and stopping threads, allocating mms and vmalloc areas
// give back every page?
static int
no_leaked_pages(char *msg)
{
  void *warm = ktest_vmalloc(PGSIZE);   // page tables of the test region
  if(warm)
    vfree(warm);
  // Roots lazily kept by harts come back at any moment: count them too.
  uint64 before = settled_leak_counted_pages();
  for(int round = 0; round < 3; round++){
    struct proc *t = kthread_create(sleeper, 0, "kt-leak");
    struct mm *mm = mm_alloc();
    void *v = vmalloc(5 * PGSIZE);
    void *w = ktest_vmalloc(3 * PGSIZE);
    if(t)
      kthread_stop(t);
    if(mm)
      mmput(mm);
    if(v)
      vfree(v);
    if(w)
      vfree(w);
  }
  uint64 after = settled_leak_counted_pages();
  KT_ASSERT(after == before, "%ld free pages before, %ld after", before, after);
  return 0;
}

const struct ktest sched_tests[] = {
  { "kthread_create_stop", kthread_create_stop },
  { "kthread_switch_no_satp_write", kthread_switch_no_satp_write },
  { "mm_counts_consistent", mm_counts_consistent },
  { "borrowed_mm_outlives_exit", borrowed_mm_outlives_exit },
  { "no_leaked_pages", no_leaked_pages },
  { 0, 0 },
};
