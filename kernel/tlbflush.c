// tlbflush.c: flushing TLBs, counted (Linux's arch/riscv/mm/tlbflush.c).
//
// Every flush the mm code does goes through these functions, so each hart
// counts its flushes (kstat tlb_flushes) and the shootdowns it sends
// (kstat remote_fences), and keeps a log of its last FLUSH_LOG flushes:
// the range, and how many root entries it had copied by then. The log
// lets the kernel check a rule that QEMU cannot show (invariant 11):
// after a hart copies a root entry into a root it may already walk, or
// finds one that another hart copied, it must flush the addresses it is
// about to use. The privileged spec lets a hart cache a failed walk, so
// on real hardware the retried access may fault again; QEMU caches only
// successful walks, so there the bug is silent. vmalloc_check_flushed()
// (vmalloc.c) asks tlb_flushed_since() where the entry is about to be
// used: a flush of another address, or one done before the copy, does
// not count.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"

// Count and log a flush of [start, end) from this hart's TLB that is
// about to happen. Interrupts are off.
static void
record_flush(uint64 start, uint64 end, int remote)
{
  struct cpu *c = mycpu();
  c->flush_log[c->nr_tlb_flushes % FLUSH_LOG] =
    (struct flush_rec){ start, end, c->nr_vmalloc_syncs, remote };
  c->nr_tlb_flushes++;
}

// Flush this hart's whole TLB.
void
local_flush_tlb_all(void)
{
  push_off();
  struct cpu *c = mycpu();
  record_flush(0, ~0UL, 0);
  c->nr_full_flushes++;
  c->tlb_epoch++;            // asid.c's model: nothing of any ASID is left
  sfence_vma();
  pop_off();
}

// Flush this hart's translations of the page holding va.
void
local_flush_tlb_page(uint64 va)
{
  push_off();
  record_flush(PGROUNDDOWN(va), PGROUNDDOWN(va) + PGSIZE, 0);
  sfence_vma_addr(va);
  pop_off();
}

// ---- shootdowns, by S-mode IPI ----
//
// Not SBI's remote fence: OpenSBI waits for the other harts in M-mode,
// without wfi, and QEMU 7.2 under -icount then never runs a hart later
// in its round (see spin_relax): a fence from hart 0 to hart 1 waited for
// ever. Here the sender waits in S-mode, with spin_relax.
//
// Each cpu has a queue of flush requests (an ASID and a range, or a
// kernel range), a request count, which senders bump as they queue, and
// a done count, the request count up to which it has flushed. A full
// queue turns into one flush of everything. The target serves in its
// IPI handler and in spin_relax, so a hart spinning with interrupts off
// for a lock the sender holds still serves (as M-mode fences reached such
// harts), and two senders serve each other. The queue's lock is a bare
// test-and-set word (spin_relax runs inside acquire), held for a few
// stores; a target that finds it taken serves at its next chance (the
// sender's IPI comes after it unlocks).
#define SHOOT_QUEUE 4
#define SHOOT_ALL   (SHOOT_QUEUE + 1)   // queue overflowed: flush everything
#define KERNEL_REQ  (~0UL)              // asid of a kernel-range request

struct flush_req {
  uint64 asid, start, end;
};

struct shootdown {
  uint lock;
  int n;                             // requests queued, or SHOOT_ALL
  struct flush_req q[SHOOT_QUEUE];
  uint64 req, done;
} __attribute__((aligned(64)));
static struct shootdown shootdowns[NCPU];

static void local_flush_user(uint64 asid, uint64 start, uint64 end);

// Flush [start, end) of the kernel half (global translations) from this
// hart. Interrupts are off.
static void
local_flush_kernel(uint64 start, uint64 end)
{
  if(end - start > 16 * PGSIZE){
    local_flush_tlb_all();
    return;
  }
  record_flush(start, end, 0);
  for(uint64 va = start; va < end; va += PGSIZE)
    sfence_vma_addr(va);
}

// Do one request on this hart.
static void
serve_one(struct flush_req *r)
{
  if(r->asid == KERNEL_REQ){
    local_flush_kernel(r->start, r->end);
    return;
  }
  local_flush_user(r->asid, r->start, r->end);
  if(kpti_user_asid_bit && r->asid)
    local_flush_user(r->asid | kpti_user_asid_bit, r->start, r->end);   // the user root's
}

// Serve this hart's shootdown requests, if any.
void
tlb_shootdown_serve(void)
{
  push_off();
  struct shootdown *s = &shootdowns[cpuid()];
  if(__atomic_load_n(&s->req, __ATOMIC_ACQUIRE) == s->done ||
     __sync_lock_test_and_set(&s->lock, 1) != 0){
    pop_off();
    return;
  }
  struct flush_req q[SHOOT_QUEUE];
  int n = s->n;
  uint64 req = s->req;
  memmove(q, s->q, sizeof(q));
  s->n = 0;
  __sync_lock_release(&s->lock);
  if(n == SHOOT_ALL){
    local_flush_tlb_all();
  } else {
    for(int i = 0; i < n; i++)
      serve_one(&q[i]);
  }
  __atomic_store_n(&s->done, req, __ATOMIC_RELEASE);
  pop_off();
}

// Queue r on cpu's shootdown queue; returns the request count to wait for.
static uint64
queue_request(int cpu, struct flush_req r)
{
  struct shootdown *s = &shootdowns[cpu];
  while(__sync_lock_test_and_set(&s->lock, 1) != 0)
    spin_relax();
  if(s->n < SHOOT_QUEUE)
    s->q[s->n++] = r;
  else
    s->n = SHOOT_ALL;
  uint64 want = ++s->req;
  __sync_lock_release(&s->lock);   // release: the PTE stores before the request
  return want;
}

static uint64 hart_mask(uint64 cpumask);

// Have every cpu in cpumask (not this one) do r; returns when all have.
// The caller has changed the PTEs already.
static void
shootdown(uint64 cpumask, struct flush_req r)
{
  uint64 want[NCPU];
  for(int i = 0; i < ncpu; i++)
    if(cpumask & (1UL << i))
      want[i] = queue_request(i, r);
  sbi_send_ipi(hart_mask(cpumask));
  for(int i = 0; i < ncpu; i++)
    if(cpumask & (1UL << i))
      while(__atomic_load_n(&shootdowns[i].done, __ATOMIC_ACQUIRE) < want[i])
        spin_relax();   // serves ours too: the target may be waiting for us
}

// Flush [start, start + size) of the kernel half from every hart's TLB,
// this one included; returns when all have done it. With several harts
// the others get a shootdown of the range, this one a local flush.
void
flush_tlb_kernel_range(uint64 start, uint64 size)
{
  push_off();
  if(ncpu == 1){
    local_flush_tlb_all();
  } else {
    record_flush(start, start + size, 1);   // for every hart: this one here
    mycpu()->nr_remote_fences++;
    sfence_vma();
    // The others serve it even with interrupts off (spin_relax), so
    // waiting here cannot deadlock.
    shootdown(((1UL << ncpu) - 1) & ~(1UL << cpuid()),
              (struct flush_req){ KERNEL_REQ, start, start + size });
  }
  pop_off();
}

// The SBI hart mask of the harts in cpumask (bit = cpu index).
static uint64
hart_mask(uint64 cpumask)
{
  uint64 harts = 0;
  for(int i = 0; i < ncpu; i++)
    if(cpumask & (1UL << i))
      harts |= 1UL << cpus[i].hartid;
  return harts;
}

// Flush user translations of [start, end) under asid from this hart.
static void
local_flush_user(uint64 asid, uint64 start, uint64 end)
{
  record_flush(start, end, 0);
  if(end - start > 16 * PGSIZE){
    sfence_vma_asid(asid);
    return;
  }
  for(uint64 va = start; va < end; va += PGSIZE)
    sfence_vma_addr_asid(va, asid);
}

// Flush mm's user translations of [start, end) from every hart that may
// hold them: the harts in mm's cpumask, with mm's ASID (Linux's
// flush_tlb_range). The caller has already cleared the PTEs: a hart that
// joins the cpumask after we read it walks the new tables. This hart is
// flushed locally; the others by a shootdown, and only if there are
// any, so a process that ran on one hart costs no remote fence. The
// model in asid.c checks that no hart that may hold the ASID was left out
// (kstat missed_shootdowns).
void
flush_tlb_mm_range(struct mm *mm, uint64 start, uint64 end)
{
  push_off();
  struct cpu *c = mycpu();
  uint64 asid = mm_asid(mm);
  uint64 mask = __atomic_load_n(&mm->cpumask, __ATOMIC_ACQUIRE);
  uint64 others = mask & ~(1UL << c->id);
  if(mask & (1UL << c->id)){
    local_flush_user(asid, start, end);
    if(kpti_user_asid_bit && asid)
      local_flush_user(asid | kpti_user_asid_bit, start, end);   // the user root's
  }
  if(others){
    shootdown(others, (struct flush_req){ asid, start, end });
    c->nr_remote_fences++;
    c->nr_fence_harts += popcount(others);
  }
  for(int i = 0; i < ncpu && asid_is_current(mm); i++)
    if(!(mask & (1UL << i)) && asid_model_may_hold(&cpus[i], asid))
      c->nr_missed_shootdowns++;
  pop_off();
}

// All of mm's user translations, everywhere (exit, exec's old mm).
void
flush_tlb_mm(struct mm *mm)
{
  flush_tlb_mm_range(mm, 0, MAXVA);
}

// This hart's TLB history up to now, for tlb_flushed_since().
// Interrupts must be off.
struct tlb_mark
tlb_mark(void)
{
  struct cpu *c = mycpu();
  return (struct tlb_mark){ c->nr_tlb_flushes, c->nr_vmalloc_syncs };
}

// Was every page of [lo, hi) flushed from this hart's TLB after mark and
// after the hart's latest root-entry copy? Only the last FLUSH_LOG
// flushes are remembered. Interrupts must be off.
int
tlb_flushed_since(struct tlb_mark mark, uint64 lo, uint64 hi)
{
  struct cpu *c = mycpu();
  uint64 first = mark.flushes;
  if(c->nr_tlb_flushes - first > FLUSH_LOG)
    first = c->nr_tlb_flushes - FLUSH_LOG;
  for(uint64 page = PGROUNDDOWN(lo); page < hi; page += PGSIZE){
    int covered = 0;
    for(uint64 i = first; i < c->nr_tlb_flushes && !covered; i++){
      struct flush_rec *f = &c->flush_log[i % FLUSH_LOG];
      covered = f->syncs == c->nr_vmalloc_syncs && f->start <= page && page < f->end;
    }
    if(!covered)
      return 0;
  }
  return 1;
}
