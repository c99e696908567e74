// asid_test.c: self-tests of ASIDs (asid.c) and the targeted shootdown
// (tlbflush.c): switches that reuse an ASID without a flush, rollovers
// under many mms with a kernel thread borrowing across them, and user
// unmaps that fence exactly the harts that ran the mm. QEMU's TLB cannot
// show a stale translation (it flushes on every satp write), so the
// tests read the kernel's model of each hart's TLB: stale_asid_loads and
// missed_shootdowns must not move.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"
#include "kernel/ktest/ktest.h"

#define ASID(mm) ((mm)->context & 0xffff)
#define CTX_ASID(ctx) ((ctx) & 0xffff)

// The model's bug counts, summed over the harts.
static uint64
model_bugs(void)
{
  uint64 n = 0;
  for(int i = 0; i < ncpu; i++)
    n += cpus[i].nr_stale_asid_loads + cpus[i].nr_missed_shootdowns;
  return n;
}

// Do switches back and forth between two mms on one hart reuse their
// ASIDs with no flush (or, with ASIDs off, flush every time)?
static int
asid_reuse_no_flush(char *msg)
{
  struct mm *a = mm_alloc(), *b = mm_alloc();
  if(a == 0 || b == 0){
    if(a) mmput(a);
    if(b) mmput(b);
    KT_ASSERT(0, "mm_alloc failed");
  }
  push_off();
  struct proc *me = myproc();
  struct cpu *c = mycpu();
  struct mm *own = me->active_mm;
  switch_mm(own, a, me);
  switch_mm(a, b, me);
  uint64 full = c->nr_full_flushes, noflush = c->nr_asid_noflush, bugs = model_bugs();
  for(int i = 0; i < 10; i++){
    switch_mm(b, a, me);
    switch_mm(a, b, me);
  }
  full = c->nr_full_flushes - full;
  noflush = c->nr_asid_noflush - noflush;
  switch_mm(b, own, me);
  pop_off();
  uint64 ca = a->context, cb = b->context;
  mmput(a);
  mmput(b);
  KT_ASSERT(model_bugs() == bugs, "the TLB model saw a stale ASID or a missed shootdown");
  if(asid_bits == 0){
    KT_ASSERT(full == 20, "ASIDs off: %ld full flushes for 20 switches, want 20", full);
    return 0;
  }
  KT_ASSERT(CTX_ASID(ca) != 0 && CTX_ASID(cb) != 0 && CTX_ASID(ca) != CTX_ASID(cb),
            "contexts %p and %p: want two distinct non-zero ASIDs", (void *)ca, (void *)cb);
  KT_ASSERT(full == 0 && noflush == 20, "%ld full flushes and %ld flush-free loads "
            "for 20 switches between two ASIDs, want 0 and 20", full, noflush);
  return 0;
}

struct borrow {
  volatile int stop, running;
  volatile uint64 ctx;            // the active context it last saw
};

// Kernel thread on another hart: runs on whatever mm it borrowed there.
static int
borrower(void *arg)
{
  struct borrow *b = arg;
  b->running = 1;
  while(!b->stop){
    b->ctx = __atomic_load_n(&mycpu()->active_asid, __ATOMIC_RELAXED);
    yield();
  }
  return 0;
}

// Do rollovers under many mms keep ASIDs in range, make this hart flush
// before it reuses one, and leave a kernel thread on another hart, which
// borrows an mm across them, with an ASID no other mm shares?
static int
asid_rollover(char *msg)
{
  if(asid_bits == 0)
    return 0;                     // no ASIDs, no rollovers
  enum { N = 24, LIMIT = 8 };
  struct mm *mms[N];
  struct borrow b = { 0 };
  struct proc *t = 0;
  if(ncpu > 1){
    t = kthread_alloc(borrower, &b, "kt-asid", kstack_alloc_thread());
    KT_ASSERT(t, "kthread_alloc failed");
    kthread_bind(t, 1);
    kthread_start(t);
    while(!b.running)
      yield();
  }
  int n = 0;
  for(; n < N; n++)
    if((mms[n] = mm_alloc()) == 0)
      break;
  uint64 rolls = asid_nr_rollovers(), bugs = model_bugs();
  asid_test_limit(LIMIT);
  push_off();
  struct proc *me = myproc();
  struct cpu *c = mycpu();
  uint64 full = c->nr_full_flushes;
  struct mm *prev = me->active_mm;
  int bad = -1;
  uint64 bad_asid = 0;
  for(int i = 0; i < n; i++){
    switch_mm(prev, mms[i], me);
    prev = mms[i];
    if(ASID(mms[i]) == 0 || ASID(mms[i]) >= LIMIT){
      bad = i;
      bad_asid = ASID(mms[i]);
    }
  }
  switch_mm(prev, me->active_mm, me);
  full = c->nr_full_flushes - full;
  pop_off();
  rolls = asid_nr_rollovers() - rolls;
  // The thread's context, seen after the rollovers, belongs to no other mm.
  int shared = 0;
  if(t){
    for(int i = 0; i < 20 && b.ctx == 0; i++)
      yield();
    for(int i = 0; i < n; i++)
      shared += mms[i]->context == b.ctx;
    b.stop = 1;
    kthread_stop(t);
  }
  for(int i = 0; i < n; i++)
    mmput(mms[i]);
  asid_test_limit(0);
  KT_ASSERT(n == N, "only %d of %d mms", n, N);
  KT_ASSERT(bad < 0, "mm %d got ASID %ld, want 1..%d", bad, bad_asid, LIMIT - 1);
  KT_ASSERT(rolls >= 2, "%ld rollovers for %d mms and %d ASIDs, want 2 or more",
            rolls, N, LIMIT);
  KT_ASSERT(full >= rolls, "%ld full flushes here across %ld rollovers", full, rolls);
  KT_ASSERT(shared == 0, "the borrowing thread's context is also given to %d mm(s)", shared);
  KT_ASSERT(model_bugs() == bugs, "the TLB model saw a stale ASID or a missed shootdown");
  return 0;
}

// Per-hart body: load mm here and leave it, a footmark in its cpumask.
static int
visit_mm(void *arg)
{
  struct mm *mm = arg;
  push_off();
  struct proc *me = myproc();
  switch_mm(me->active_mm, mm, me);
  switch_mm(mm, me->active_mm, me);
  pop_off();
  return 0;
}

// Does a user unmap fence exactly the harts that ran the mm: none but
// this one for an mm that ran only here, every one of them for an mm
// that ran everywhere?
static int
shootdown_targeted(char *msg)
{
  struct mm *mm = mm_alloc();
  void *page = kzalloc();
  uint64 va = 0x1000;
  if(mm == 0 || page == 0 ||
     mappages(mm->pgd, va, PGSIZE, __pa(page), PTE_R | PTE_W | PTE_U) < 0){
    if(page) kfree(page);
    if(mm) mmput(mm);
    KT_ASSERT(0, "could not build an mm with one page");
  }
  mm->brk = va + PGSIZE;
  uint64 bugs = model_bugs();
  push_off();
  visit_mm(mm);                  // only this hart has run it
  struct cpu *c = mycpu();
  uint64 fences = c->nr_remote_fences, harts = c->nr_fence_harts;
  uint64 mask1 = mm->cpumask;
  flush_tlb_mm_range(mm, va, va + PGSIZE);
  uint64 fences1 = c->nr_remote_fences - fences;
  pop_off();
  int failed = ktest_run_on_every_cpu(visit_mm, mm, "kt-visit");
  push_off();
  c = mycpu();
  fences = c->nr_remote_fences;
  harts = c->nr_fence_harts;
  uint64 mask2 = mm->cpumask;
  flush_tlb_mm_range(mm, va, va + PGSIZE);
  fences = c->nr_remote_fences - fences;
  harts = c->nr_fence_harts - harts;
  pop_off();
  mmput(mm);
  KT_ASSERT(failed == 0, "visiting the mm on every hart failed");
  KT_ASSERT(popcount(mask1) == 1 && fences1 == 0, "an mm that ran on one hart "
            "(cpumask %p) cost %ld remote fences, want 0", (void *)mask1, fences1);
  KT_ASSERT(mask2 == (1UL << ncpu) - 1, "cpumask %p after every hart ran the mm",
            (void *)mask2);
  KT_ASSERT(harts == (uint64)ncpu - 1 && fences == (ncpu > 1),
            "the unmap reached %ld other harts in %ld fences, want %d in %d",
            harts, fences, ncpu - 1, ncpu > 1);
  KT_ASSERT(model_bugs() == bugs, "the TLB model saw a stale ASID or a missed shootdown");
  return 0;
}

const struct ktest asid_tests[] = {
  { "asid_reuse_no_flush", asid_reuse_no_flush },
  { "asid_rollover", asid_rollover },
  { "shootdown_targeted", shootdown_targeted },
  { 0, 0 },
};
