// lockdep.c: the lock checker of -DDEBUG kernels (make KCFLAGS=-DDEBUG).
// acquire() and release() call it; other kernels compile the hooks away
// (lockdep.h). It reports three kinds of bug, each with the call chains
// that show where:
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
// State: the class table and the order graph are global and only grow;
// they change under graph_lock, a bare test-and-set word (a spinlock
// would call back into the checker). Each hart keeps the stack of locks it
// holds, touched only by that hart with interrupts off (acquire has done
// push_off). busy[] stops the checker from checking the locks it takes
// itself while it prints a report (printf's lock).
//
// Limits: LOCKDEP_CLASSES classes (the graph is a bit matrix); locks held
// at once per hart: LOCKDEP_DEPTH. Past either, the checker turns itself
// off and says so once, rather than report nonsense.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/lockdep.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

#ifdef DEBUG

#define LOCKDEP_CLASSES 64   // bits of a uint64: one row of the graph
#define LOCKDEP_DEPTH   16   // locks one hart holds at once
#define LOCK_SPIN_LIMIT (5 * TIMEBASE_HZ)   // spinning this long: stuck
#define LOCK_HOLD_LIMIT (2 * TIMEBASE_HZ)   // holding this long: warn

static const char *class_name[LOCKDEP_CLASSES];
static int nclasses;
// after[a] bit b: a lock of class b was taken while one of class a was
// held (an edge a -> b), first at edge_site[a][b]. reach[a]: every class
// reachable from a by edges, a itself included once it has an edge.
static uint64 after[LOCKDEP_CLASSES];
static uint64 reach[LOCKDEP_CLASSES];
static uint64 edge_site[LOCKDEP_CLASSES][LOCKDEP_CLASSES];
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

// lk's class index, registering its name on first sight. -1 if full.
static int
class_of(struct spinlock *lk)
{
  if(lk->class)
    return lk->class - 1;
  graph_lock_acquire();
  int c;
  for(c = 0; c < nclasses; c++)
    if(strncmp(class_name[c], lk->name, 64) == 0)
      break;
  if(c == nclasses && nclasses < LOCKDEP_CLASSES)
    class_name[nclasses++] = lk->name;
  graph_lock_release();
  if(c == LOCKDEP_CLASSES){
    turn_off("more than LOCKDEP_CLASSES lock classes");
    return -1;
  }
  lk->class = c + 1;
  return c;
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

// Print a path of edges from class a to class b (b reachable from a),
// each with the call site that first made it.
static void
print_path(int a, int b)
{
  uint64 seen = 1UL << a;
  int prev[LOCKDEP_CLASSES], queue[LOCKDEP_CLASSES], head = 0, tail = 0;
  queue[tail++] = a;
  while(head < tail && !(seen & (1UL << b))){
    int x = queue[head++];
    for(int y = 0; y < nclasses; y++){
      if((after[x] & (1UL << y)) && !(seen & (1UL << y))){
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
    printf("  earlier: \"%s\" taken while holding \"%s\", at ", class_name[to],
           class_name[from]);
    print_ksym(edge_site[from][to]);
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
    print_path(b, a);
  panic("lockdep: lock order cycle between \"%s\" and \"%s\"", h->name, lk->name);
}

// Record the edge a -> b (made at site), or report the cycle it closes.
static void
add_edge(struct spinlock *lk, struct spinlock *h, int a, int b, uint64 site)
{
  graph_lock_acquire();
  if(after[a] & (1UL << b)){
    graph_lock_release();
    return;
  }
  if(reach[b] & (1UL << a)){
    graph_lock_release();
    report_order(lk, h, a, b);
  }
  after[a] |= 1UL << b;
  edge_site[a][b] = site;
  uint64 gained = (1UL << b) | reach[b];
  for(int x = 0; x < nclasses; x++)
    if(x == a || (reach[x] & (1UL << a)))
      reach[x] |= gained;
  graph_lock_release();
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
    if(!(after[a] & (1UL << b)))   // racy read: add_edge looks again
      add_edge(lk, h, a, b, site - 4);
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

#endif // DEBUG
