// lockdep.c: the lock checker of -DDEBUG kernels (make KCFLAGS=-DDEBUG).
// acquire() and release() call it, and acquiresleep(), releasesleep(), the
// return to user space and exit for sleep locks (their rules are at the
// "sleep locks" part below); other kernels compile the hooks away
// (lockdep.h). For spinlocks it reports three kinds of bug, each with the
// call chains that show where:
//
//   lock order   Locks are grouped in classes by name ("pipe" is every
//                pipe's lock). Taking a lock of class B while holding one
//                of class A records the edge A -> B. An acquire that would
//                close a cycle (B while holding A, when B -> ... -> A was
//                seen before) is a deadlock waiting for the right timing,
//                even if this run never hit it: panic, naming every edge of
//                the cycle and where it was first made. Taking a second
//                lock of a class already held is reported the same way.
//   held long    A lock released more than LOCK_HOLD_LIMIT after it was
//                taken: a warning naming where it was taken and released.
//   stuck        A hart spinning on a lock for more than LOCK_SPIN_LIMIT: a
//                panic naming the lock, the holding hart and where the
//                holder took it, and the spinner's backtrace. Without the
//                checker a deadlock prints nothing (crash(3)).
//
// State: the class tables and the order graphs are global and only grow;
// they change under graph_lock, a bare test-and-set word (a spinlock
// would call back into the checker). Each hart keeps the stack of locks it
// holds, touched only by that hart with interrupts off (acquire has done
// push_off). busy[] stops the checker from checking the locks it takes
// itself while it prints a report (printf's lock).
//
// Limits: LOCKDEP_CLASSES classes per graph (a bit matrix); spinlocks
// held at once per hart: LOCKDEP_DEPTH; sleep-lock classes held at once
// per task: LOCKDEP_SLEEP_HELD (proc.h). Past any, the checker turns
// itself off and says so once, rather than report nonsense.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/lockdep.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

#ifdef DEBUG

#define LOCKDEP_CLASSES 64   // bits of a uint64: one row of the graph
#define LOCKDEP_DEPTH   16   // locks one hart holds at once
#define LOCK_SPIN_LIMIT (5 * TIMEBASE_HZ)   // spinning this long: stuck
#define LOCK_HOLD_LIMIT (2 * TIMEBASE_HZ)   // holding this long: warn

// An order graph of lock classes. Classes are named; after[a] bit b: a
// lock of class b was taken while one of class a was held (an edge
// a -> b), first at edge_site[a][b]. reach[a]: every class reachable from
// a by edges, a itself included once it has an edge. Spinlocks and sleep
// locks have a graph each (a spinlock is never held while a sleep lock is
// taken, so no cycle can cross the two).
struct lock_graph {
  const char *name[LOCKDEP_CLASSES];
  int n;
  uint64 after[LOCKDEP_CLASSES];
  uint64 reach[LOCKDEP_CLASSES];
  uint64 edge_site[LOCKDEP_CLASSES][LOCKDEP_CLASSES];
};
static struct lock_graph spin_graph, sleep_graph;
static uint graph_lock;
static volatile int lockdep_off;   // 1 after a limit was passed

struct held_locks {
  int n;
  struct spinlock *lk[LOCKDEP_DEPTH];
  uint64 spin_start;    // r_time() when the current spin was noticed
  // the last lock released after LOCK_HOLD_LIMIT, for the report
  const char *long_name;
  uint64 long_ticks;
  uint64 long_site[LOCKDEP_SITES];
};
static struct held_locks held[NCPU];
static int busy[NCPU];

static void
graph_lock_acquire(void)
{
  while(__sync_lock_test_and_set(&graph_lock, 1) != 0)
    spin_relax();   // the holder may be a hart QEMU -icount has not run
  __sync_synchronize();
}

static void
graph_lock_release(void)
{
  __sync_synchronize();
  __sync_lock_release(&graph_lock);
}

// Is the checker to look at this acquire or release? Interrupts are off.
static int
checking(void)
{
  return !lockdep_off && !panicking && !busy[cpuid()];
}

static void
turn_off(const char *why)
{
  if(__sync_lock_test_and_set(&lockdep_off, 1) == 0)
    printf("lockdep: %s; the lock checker is off from now on\n", why);
}

// The index of class name in g, registering it on first sight. -1 if
// the table is full.
static int
graph_class(struct lock_graph *g, const char *name)
{
  graph_lock_acquire();
  int c;
  for(c = 0; c < g->n; c++)
    if(strncmp(g->name[c], name, 64) == 0)
      break;
  if(c == g->n && g->n < LOCKDEP_CLASSES)
    g->name[g->n++] = name;
  graph_lock_release();
  if(c == LOCKDEP_CLASSES){
    turn_off("more than LOCKDEP_CLASSES lock classes");
    return -1;
  }
  return c;
}

// The class index of a lock named name in g, cached in *cache (1 + the
// index; 0 until first looked up). -1 if the table is full.
static int
cached_class(struct lock_graph *g, int *cache, const char *name)
{
  if(*cache)
    return *cache - 1;
  int c = graph_class(g, name);
  if(c >= 0)
    *cache = c + 1;
  return c;
}

// lk's class index in spin_graph. -1 if full.
static int
class_of(struct spinlock *lk)
{
  return cached_class(&spin_graph, &lk->class, lk->name);
}

static void
print_sites(const char *what, uint64 *pcs, int n)
{
  if(what[0])
    printf("  %s", what);
  for(int i = 0; i < n && pcs[i]; i++){
    printf(i ? " <- " : " ");
    print_ksym(pcs[i]);
  }
  printf("\n");
}

// Print a path of edges of g from class a to class b (b reachable from
// a), each with the call site that first made it.
static void
print_path(struct lock_graph *g, int a, int b)
{
  uint64 seen = 1UL << a;
  int prev[LOCKDEP_CLASSES], queue[LOCKDEP_CLASSES], head = 0, tail = 0;
  queue[tail++] = a;
  while(head < tail && !(seen & (1UL << b))){
    int x = queue[head++];
    for(int y = 0; y < g->n; y++){
      if((g->after[x] & (1UL << y)) && !(seen & (1UL << y))){
        seen |= 1UL << y;
        prev[y] = x;
        queue[tail++] = y;
      }
    }
  }
  int path[LOCKDEP_CLASSES], n = 0;
  for(int y = b; y != a; y = prev[y])
    path[n++] = y;
  int from = a;
  while(n-- > 0){
    int to = path[n];
    printf("  earlier: \"%s\" taken while holding \"%s\", at ", g->name[to],
           g->name[from]);
    print_ksym(g->edge_site[from][to]);
    printf("\n");
    from = to;
  }
}

// Taking class b (lock lk) while holding class a (lock h) would close a
// cycle, or a == b. Print both sides, then panic with a backtrace.
static void __attribute__((noreturn))
report_order(struct spinlock *lk, struct spinlock *h, int a, int b)
{
  busy[cpuid()] = 1;
  printf("\nlockdep: hart %d takes \"%s\" while holding \"%s\"\n", mycpu()->hartid,
         lk->name, h->name);
  printf("  \"%s\" was taken at", h->name);
  print_sites("", h->site, LOCKDEP_SITES);
  if(a == b)
    printf("  a second lock of one class: two harts taking two such locks in "
           "opposite orders deadlock\n");
  else
    print_path(&spin_graph, b, a);
  panic("lockdep: lock order cycle between \"%s\" and \"%s\"", h->name, lk->name);
}

// Record the edge a -> b of g (made at site). Returns -1, recording
// nothing, if the edge would close a cycle.
static int
graph_add_edge(struct lock_graph *g, int a, int b, uint64 site)
{
  graph_lock_acquire();
  if(g->after[a] & (1UL << b)){
    graph_lock_release();
    return 0;
  }
  if(g->reach[b] & (1UL << a)){
    graph_lock_release();
    return -1;
  }
  g->after[a] |= 1UL << b;
  g->edge_site[a][b] = site;
  uint64 gained = (1UL << b) | g->reach[b];
  for(int x = 0; x < g->n; x++)
    if(x == a || (g->reach[x] & (1UL << a)))
      g->reach[x] |= gained;
  graph_lock_release();
  return 0;
}

// Before spinning for lk: would taking it break the order? Checked before
// the wait, so a cycle is reported even when this run would not deadlock.
// site: acquire()'s return address, in its caller.
void
lockdep_before_acquire(struct spinlock *lk, uint64 site)
{
  if(!checking())
    return;
  int b = class_of(lk);
  if(b < 0)
    return;
  struct held_locks *hl = &held[cpuid()];
  for(int i = 0; i < hl->n; i++){
    struct spinlock *h = hl->lk[i];
    int a = h->class - 1;
    if(a == b)
      report_order(lk, h, a, b);
    if(!(spin_graph.after[a] & (1UL << b)) &&   // racy read: add_edge looks again
       graph_add_edge(&spin_graph, a, b, site - 4) < 0)
      report_order(lk, h, a, b);
  }
}

// acquire() has spun spins times on lk. Every 4096 spins look at the
// clock; past LOCK_SPIN_LIMIT say who holds it, then panic.
void
lockdep_spinning(struct spinlock *lk, uint64 spins)
{
  if(spins % 4096 != 0 || !checking())
    return;
  struct held_locks *hl = &held[cpuid()];
  uint64 now = r_time();
  if(spins == 4096){
    hl->spin_start = now;
    return;
  }
  if(now - hl->spin_start < LOCK_SPIN_LIMIT)
    return;
  static int reported;   // one report: other harts stuck on it too stay quiet
  if(__sync_lock_test_and_set(&reported, 1))
    return;
  busy[cpuid()] = 1;
  struct cpu *holder = lk->cpu;
  printf("\nlockdep: hart %d stuck for %d s spinning on \"%s\", held by hart %d "
         "for %d ms\n", mycpu()->hartid, (int)(LOCK_SPIN_LIMIT / TIMEBASE_HZ), lk->name,
         holder ? holder->hartid : -1, (int)((now - lk->t_acquired) / (TIMEBASE_HZ / 1000)));
  print_sites("the holder took it at", lk->site, LOCKDEP_SITES);
  panic("lockdep: a hart is stuck spinning on \"%s\"", lk->name);
}

// lk is now this hart's: push it on the held stack, note when and where.
// fp is acquire()'s frame.
void
lockdep_acquired(struct spinlock *lk, uint64 fp)
{
  lk->t_acquired = r_time();
  memset(lk->site, 0, sizeof(lk->site));
  save_stack_trace(fp, lk->site, LOCKDEP_SITES);
  if(!checking() || lk->class == 0)
    return;
  struct held_locks *hl = &held[cpuid()];
  if(hl->n == LOCKDEP_DEPTH){
    turn_off("a hart holds more than LOCKDEP_DEPTH locks");
    return;
  }
  hl->lk[hl->n++] = lk;
}

// lk is about to be released by this hart: take it off the held stack
// (wherever it is: sleep() releases out of order). Returns non-zero if it
// was held too long; release() then calls lockdep_report_long_hold().
uint64
lockdep_releasing(struct spinlock *lk)
{
  struct held_locks *hl = &held[cpuid()];
  for(int i = hl->n - 1; i >= 0; i--){
    if(hl->lk[i] == lk){
      hl->lk[i] = hl->lk[--hl->n];
      break;
    }
  }
  uint64 ticks = r_time() - lk->t_acquired;
  if(ticks < LOCK_HOLD_LIMIT || !checking())
    return 0;
  hl->long_name = lk->name;
  hl->long_ticks = ticks;
  memmove(hl->long_site, lk->site, sizeof(hl->long_site));
  return 1;
}

// Warn about the lock lockdep_releasing() found held too long.
void
lockdep_report_long_hold(void)
{
  struct held_locks *hl = &held[cpuid()];
  busy[cpuid()] = 1;
  printf("lockdep: \"%s\" held for %d ms by hart %d\n", hl->long_name,
         (int)(hl->long_ticks / (TIMEBASE_HZ / 1000)), mycpu()->hartid);
  print_sites("taken at", hl->long_site, LOCKDEP_SITES);
  uint64 pcs[1 + LOCKDEP_SITES] = { 0 };   // pcs[0] is in release()
  save_stack_trace((uint64)__builtin_frame_address(0), pcs, 1 + LOCKDEP_SITES);
  print_sites("released at", pcs + 1, LOCKDEP_SITES);
  busy[cpuid()] = 0;
}

// ---- sleep locks -------------------------------------------------------
//
// A sleep lock belongs to a task, across sleeps and harts, so the task
// keeps the list of what it holds (struct proc's sleep_held, touched only
// by the task itself): one entry per class, with how many locks of it and
// where the first was taken. Four rules:
//
//   order        as for spinlocks, in a graph of their own (sleep_graph).
//                Locks of one class held together are not checked: they
//                are ordered by rules the checker cannot see (unlink holds
//                a directory's inode, then the child's; a log commit holds
//                the buffers it writes).
//   no spinlock  acquiresleep() may sleep, which a hart holding a spinlock
//                must not: report it at the call, not only when the wait
//                happens to sleep (schedule's "other locks held").
//   owner        releasesleep() by a task that does not hold the lock.
//   none held    a task returning to user space, or exiting, holding one.

// lk's class index in sleep_graph. -1 if full.
static int
sleep_class_of(struct sleeplock *lk)
{
  return cached_class(&sleep_graph, &lk->class, lk->name);
}

// Taking lk (class b) while holding h (class a) closes a cycle.
static void __attribute__((noreturn))
report_sleep_order(struct sleeplock *lk, struct sleep_held *h, int a, int b)
{
  struct proc *p = myproc();
  busy[cpuid()] = 1;
  printf("\nlockdep: pid %d (%s) takes sleep lock \"%s\" while holding \"%s\"\n",
         p->pid, p->name, lk->name, sleep_graph.name[a]);
  printf("  \"%s\" was taken at", sleep_graph.name[a]);
  print_sites("", h->site, LOCKDEP_SITES);
  print_path(&sleep_graph, b, a);
  panic("lockdep: sleep lock order cycle between \"%s\" and \"%s\"",
        sleep_graph.name[a], lk->name);
}

// acquiresleep(lk) is about to wait for lk; site: its return address.
void
lockdep_sleep_before_acquire(struct sleeplock *lk, uint64 site)
{
  push_off();
  struct proc *p = myproc();
  if(!checking() || !p){
    pop_off();
    return;
  }
  struct held_locks *hl = &held[cpuid()];
  if(hl->n > 0){
    struct spinlock *h = hl->lk[hl->n - 1];
    busy[cpuid()] = 1;
    printf("\nlockdep: pid %d (%s) takes sleep lock \"%s\" at ", p->pid, p->name,
           lk->name);
    print_ksym(site - 4);
    printf(" while holding spinlock \"%s\"\n", h->name);
    printf("  \"%s\" was taken at", h->name);
    print_sites("", h->site, LOCKDEP_SITES);
    panic("lockdep: acquiresleep(\"%s\") with spinlock \"%s\" held", lk->name, h->name);
  }
  int b = sleep_class_of(lk);
  for(int i = 0; b >= 0 && i < p->nsleep_held; i++){
    struct sleep_held *h = &p->sleep_held[i];
    if(h->class != b && !(sleep_graph.after[h->class] & (1UL << b)) &&
       graph_add_edge(&sleep_graph, h->class, b, site - 4) < 0)
      report_sleep_order(lk, h, h->class, b);
  }
  pop_off();
}

// acquiresleep() got lk (holding lk->lk, so interrupts are off); fp is
// its frame. Note it in the task's list.
void
lockdep_sleep_acquired(struct sleeplock *lk, uint64 fp)
{
  struct proc *p = myproc();
  if(!checking() || !p || lk->class == 0)
    return;
  int c = lk->class - 1;
  for(int i = 0; i < p->nsleep_held; i++){
    if(p->sleep_held[i].class == c){
      p->sleep_held[i].count++;
      return;
    }
  }
  if(p->nsleep_held == LOCKDEP_SLEEP_HELD){
    turn_off("a task holds sleep locks of more than LOCKDEP_SLEEP_HELD classes");
    return;
  }
  struct sleep_held *h = &p->sleep_held[p->nsleep_held++];
  h->class = c;
  h->count = 1;
  memset(h->site, 0, sizeof(h->site));
  save_stack_trace(fp, h->site, LOCKDEP_SITES);
}

// releasesleep(lk), holding lk->lk: the task must hold lk.
void
lockdep_sleep_releasing(struct sleeplock *lk)
{
  struct proc *p = myproc();
  if(!checking() || !p)
    return;
  if(!lk->locked || lk->pid != p->pid){
    busy[cpuid()] = 1;
    printf("\nlockdep: pid %d (%s) releases sleep lock \"%s\", which is %s",
           p->pid, p->name, lk->name, lk->locked ? "held by pid" : "free");
    if(lk->locked)
      printf(" %d", lk->pid);
    printf("\n");
    panic("lockdep: releasesleep(\"%s\") by a task that does not hold it", lk->name);
  }
  for(int i = 0; i < p->nsleep_held; i++){
    struct sleep_held *h = &p->sleep_held[i];
    if(h->class == lk->class - 1){
      if(--h->count == 0)
        *h = p->sleep_held[--p->nsleep_held];
      return;
    }
  }
}

// The task is about to do when (return to user space, exit): it must
// hold no sleep lock, or nobody else could ever take it.
void
lockdep_sleep_none_held(const char *when)
{
  struct proc *p = myproc();
  push_off();
  if(checking() && p && p->nsleep_held > 0){
    struct sleep_held *h = &p->sleep_held[0];
    busy[cpuid()] = 1;
    printf("\nlockdep: pid %d (%s) is to %s holding %d sleep lock(s) of class \"%s\", "
           "the first taken at", p->pid, p->name, when, h->count, sleep_graph.name[h->class]);
    print_sites("", h->site, LOCKDEP_SITES);
    panic("lockdep: %s with a sleep lock held", when);
  }
  pop_off();
}

#endif // DEBUG
