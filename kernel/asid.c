// asid.c: address-space identifiers (ASIDs), the allocator with
// generations that Linux uses (arch/riscv/mm/context.c, itself after
// arm64's), and a model of each hart's TLB that lets the kernel check
// what QEMU cannot show.
//
// satp carries an ASID beside the root: the TLB tags each user
// translation with it, so a switch to another mm needs no flush as long
// as no two mms use one ASID on a hart without a flush in between. Kernel
// leaves are global (G, invariant 4) and shared by every ASID.
//
// An mm's context is generation | ASID. An ASID is handed out once per
// generation and never freed; a switch to an mm whose context is of the
// current generation reuses it with no flush. When the ASIDs run out, a
// new generation starts (a rollover): the bitmap is cleared except for
// the ASID each hart is running (reserved, so that a hart's current mm
// keeps its ASID), and every hart must flush its whole TLB before it
// next loads a user ASID (flush_pending). ASID 0 is init_mm's, which has
// no user translations.
//
// A hart's active context (cpu->active_asid) is read and changed without
// the lock on the fast path; a rollover sets it to 0, which sends that
// hart to the slow path (under asid_lock) on its next switch. That
// compare-and-swap is what makes the fast path safe against a rollover
// on another hart: see asid_for_mm.
//
// With too few ASIDs for the harts (Linux's rule: fewer than 2 per hart)
// or with ASID_BITS=0, ASIDs are off: every satp write flushes the TLB.
//
// The model (kstat stale_asid_loads, must stay 0): each hart remembers
// which (ASID, generation) pairs it has loaded since its last full flush.
// Loading an ASID that the hart last had in an older generation means
// the previous owner's translations may still be in its TLB: a stale
// translation a real hart would use.
//
// Lock order: asid_lock is a leaf.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"

#define ASID_MAX_BITS 16
#define GEN_ONE       (1UL << ASID_MAX_BITS)   // context = generation | ASID
#define ASID_OF(ctx)  ((ctx) & (GEN_ONE - 1))
#define GEN_OF(ctx)   ((ctx) & ~(GEN_ONE - 1))

int asid_bits;                      // width in use; 0: ASIDs are off
uint64 kpti_user_asid_bit;          // KPTI=1: a user root's ASID is its
                                    // kernel root's with this bit set
static uint64 num_asids;            // ASIDs 0 .. num_asids - 1 are handed out

static struct spinlock asid_lock;
static uint64 generation = GEN_ONE; // of the current ASIDs; changes under the lock
static uint64 asid_map[(1 << ASID_MAX_BITS) / 64];   // used in this generation
static uint64 cur_idx = 1;          // where the search for a free ASID starts
static uint64 reserved[NCPU];       // each hart's context at the last rollover
static uint64 flush_pending;        // harts (bit = cpu) owing a full flush
static uint64 nr_rollovers;

static int
test_and_set(uint64 asid)
{
  uint64 bit = 1UL << (asid % 64);
  int was = (asid_map[asid / 64] & bit) != 0;
  asid_map[asid / 64] |= bit;
  return was;
}

// Probe how many ASID bits satp keeps (write all ones, read back), as
// Linux does at boot; ASID_BITS caps it (a build flag: make ASID_BITS=4
// makes rollovers frequent). Boot hart, before any mm is loaded.
void
asid_init(void)
{
  initlock(&asid_lock, "asid");
  uint64 old = r_satp();
  csr_write(satp, old | (((1UL << ASID_MAX_BITS) - 1) << SATP_ASID_SHIFT));  // probe
  int bits = popcount((r_satp() >> SATP_ASID_SHIFT) & ((1UL << ASID_MAX_BITS) - 1));
  csr_write(satp, old);                                                       // probe
  sfence_vma();
#ifdef ASID_BITS
  if(bits > ASID_BITS)
    bits = ASID_BITS;
#endif
#ifdef KPTI
  // Two ASIDs per mm: the allocator hands out the lower half, and the
  // user root uses the same ASID with the top bit set.
  if(bits > 0){
    bits--;
    kpti_user_asid_bit = 1UL << bits;
  }
#endif
  num_asids = 1UL << bits;
  asid_bits = num_asids >= 2 * (uint64)fdt_nharts ? bits : 0;
  asid_map[0] = 1;   // ASID 0: init_mm's
  printf("canopy: %d ASID bits%s\n", bits,
         asid_bits ? "" : ", too few for the harts: ASIDs off, every switch flushes");
}

// All ASIDs of this generation are taken: start a new one. Each hart
// keeps the context it runs now (reserved, also in the new bitmap); every
// hart must flush before its next user ASID. Caller holds asid_lock.
static void
rollover(void)
{
  generation += GEN_ONE;
  memset(asid_map, 0, sizeof(asid_map));
  asid_map[0] = 1;
  for(int i = 0; i < ncpu; i++){
    uint64 ctx = __atomic_exchange_n(&cpus[i].active_asid, 0, __ATOMIC_ACQ_REL);
    if(ctx == 0)          // it has not switched since the last rollover
      ctx = reserved[i];
    test_and_set(ASID_OF(ctx));
    reserved[i] = ctx;
  }
  flush_pending = (1UL << ncpu) - 1;
  nr_rollovers++;
}

// Was ctx some hart's context at the last rollover? Then it keeps its
// ASID in the new generation, and the reservation follows it.
static int
keep_reserved(uint64 ctx, uint64 newctx)
{
  int hit = 0;
  for(int i = 0; i < ncpu; i++){
    if(reserved[i] == ctx){
      reserved[i] = newctx;
      hit = 1;
    }
  }
  return hit;
}

// A context of the current generation for mm, whose context is stale (or
// 0 before its first run). Caller holds asid_lock.
static uint64
new_context(struct mm *mm)
{
  uint64 old = mm->context;
  if(old){
    uint64 ctx = generation | ASID_OF(old);
    if(keep_reserved(old, ctx) || !test_and_set(ASID_OF(old)))
      return ctx;         // its old ASID is still its own
  }
  uint64 asid = cur_idx;
  for(; asid < num_asids && test_and_set(asid); asid++)
    ;
  if(asid == num_asids){
    rollover();
    for(asid = 1; test_and_set(asid); asid++)
      ;
  }
  cur_idx = asid;
  return generation | asid;
}

// The ASID to load with mm on this hart, and in *flush_all whether the
// hart must flush its whole TLB first (a rollover it has not caught up
// with, or ASIDs off). Interrupts are off. Called by load_mm (mm.c).
uint64
asid_for_mm(struct mm *mm, int *flush_all)
{
  // LAB asid BEGIN
  struct cpu *c = mycpu();
  *flush_all = asid_bits == 0;
  if(asid_bits == 0 || mm == &init_mm)
    return 0;
  // Fast path, no lock: mm's ASID is of this generation and no rollover
  // has cleared this hart's active context since we last switched. The
  // swap fails if a rollover did, and a rollover that comes after it
  // reserves mm's ASID for this hart.
  uint64 ctx = __atomic_load_n(&mm->context, __ATOMIC_ACQUIRE);
  uint64 active = __atomic_load_n(&c->active_asid, __ATOMIC_RELAXED);
  if(active && GEN_OF(ctx) == __atomic_load_n(&generation, __ATOMIC_RELAXED) &&
     __atomic_compare_exchange_n(&c->active_asid, &active, ctx, 0,
                                 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    return ASID_OF(ctx);
  acquire(&asid_lock);
  ctx = mm->context;
  if(GEN_OF(ctx) != generation){
    ctx = new_context(mm);
    __atomic_store_n(&mm->context, ctx, __ATOMIC_RELEASE);
  }
  if(flush_pending & (1UL << c->id)){
    flush_pending &= ~(1UL << c->id);
    *flush_all = 1;
  }
  __atomic_store_n(&c->active_asid, ctx, __ATOMIC_RELEASE);
  release(&asid_lock);
  return ASID_OF(ctx);
  // LAB asid STARTER
  //> // TODO (asid): give mm an ASID of the current generation (new_context
  //> // when its context is stale), reusing it without a flush when it is
  //> // current; set *flush_all when this hart owes a flush after a
  //> // rollover (flush_pending). For now every mm runs with ASID 0 and
  //> // every switch flushes the whole TLB.
  //> (void)mm;
  //> (void)new_context;    // yours to call
  //> *flush_all = 1;
  //> return 0;
  // LAB asid END
}

// mm's ASID now, for a shootdown of its translations (0 if none yet: then
// it has no translations under an ASID anywhere).
uint64
mm_asid(struct mm *mm)
{
  return asid_bits ? ASID_OF(__atomic_load_n(&mm->context, __ATOMIC_ACQUIRE)) : 0;
}

// Is mm's context of the current generation? If not, no hart can use its
// translations again without a full flush first (the rollover's), so an
// unmap of it needs no shootdown to be correct, and the model must not
// read its ASID, which the current generation may have given to another mm.
int
asid_is_current(struct mm *mm)
{
  uint64 ctx = __atomic_load_n(&mm->context, __ATOMIC_ACQUIRE);
  return ctx && GEN_OF(ctx) == __atomic_load_n(&generation, __ATOMIC_RELAXED);
}

uint64
asid_nr_rollovers(void)
{
  return nr_rollovers;
}

// For the self-tests: hand out only ASIDs 1 .. n-1 from now on (n = 0:
// all of them again), starting with a rollover so that no mm keeps an
// ASID beyond the limit. Makes rollovers frequent without a rebuild.
void
asid_test_limit(uint64 n)
{
  if(asid_bits == 0)
    return;
  acquire(&asid_lock);
  num_asids = n ? n : 1UL << asid_bits;
  rollover();
  cur_idx = 1;
  release(&asid_lock);
}

// ---- the model of each hart's TLB ----
//
// Each hart keeps ASID_TRACK slots: (ASID, generation, epoch) of an ASID it
// loaded. A slot is live while its epoch is the hart's tlb_epoch, which a
// full flush advances. Slots are indexed by ASID modulo ASID_TRACK; a
// collision forgets the older entry, so the model can miss a bug but
// never reports one that is not there.

static struct asid_slot *
slot_of(struct cpu *c, uint64 asid)
{
  return &c->asid_seen[asid % ASID_TRACK];
}

// This hart loads asid of the current generation (after any full flush).
// Interrupts are off.
void
asid_model_load(uint64 asid)
{
  struct cpu *c = mycpu();
  if(asid_bits == 0 || asid == 0)
    return;
  uint64 active = __atomic_load_n(&c->active_asid, __ATOMIC_RELAXED);
  uint64 gen = active ? GEN_OF(active) : __atomic_load_n(&generation, __ATOMIC_RELAXED);
  struct asid_slot *s = slot_of(c, asid);
  if(s->epoch == c->tlb_epoch && s->asid == asid && s->gen != gen)
    c->nr_stale_asid_loads++;
  *s = (struct asid_slot){ .asid = asid, .gen = gen, .epoch = c->tlb_epoch };
}

// May hart c hold translations of asid of the current generation?
int
asid_model_may_hold(struct cpu *c, uint64 asid)
{
  struct asid_slot *s = slot_of(c, asid);
  return asid_bits && asid && s->epoch == c->tlb_epoch && s->asid == asid &&
         s->gen == __atomic_load_n(&generation, __ATOMIC_RELAXED);
}
