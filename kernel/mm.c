// mm.c: struct mm, its two counts, the lazy borrowing of an mm by kernel
// threads, and switch_mm, whose load_mm is where satp is written after
// boot (with the mm's ASID, asid.c; the KPTI=1 trap path aside).
//
// Every root, init_mm's included, gets a zero user half and a copy of
// kernel_pagetable's root entries 256-511 (pgd_alloc, invariant 1). The
// template itself is never in satp (invariant 2). Entries created in the
// template later reach a root lazily (vmalloc.c, invariant 3).
//
// Counting rules (mm.h, invariant 9): mm_users counts owning tasks;
// mm_count counts one for all the users together plus one per lazy
// borrower. mmput() at mm_users 0 frees the user half then mmdrop()s;
// mmdrop() at mm_count 0 frees the root page and the struct.
//
// The rule the lazy-TLB code rests on: a task that borrows an mm (its
// active_mm while task->mm == NULL) holds exactly one mm_count reference
// to it. A switch from one kernel thread to another moves that reference
// to the next task; it never copies it (sched.c, prepare_mm). init_mm is
// no exception: each idle task's borrow of it is taken in mm_borrow_init.
//
// Lock order: mm_pool.lock, then kmem.lock (mmdrop frees the root page
// under mm_pool.lock). Nothing else is taken while holding mm_pool.lock.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/spinlock.h"
#include "kernel/mm.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// Enough for every task plus one lazily borrowed mm per hart.
#define NMM (NPROC + NCPU)

static struct {
  struct spinlock lock;
  struct mm mms[NMM];
  int next_id;
} mm_pool;

static struct mm *
mm_struct_alloc(void)
{
  acquire(&mm_pool.lock);
  for(struct mm *mm = mm_pool.mms; mm < &mm_pool.mms[NMM]; mm++){
    if(mm->mm_count == 0 && mm->pgd == 0){
      memset(mm, 0, sizeof(*mm));
      mm->id = ++mm_pool.next_id;
      mm->mm_count = 1;   // held by the users as a group
      mm->mm_users = 1;
      release(&mm_pool.lock);
      return mm;
    }
  }
  release(&mm_pool.lock);
  return 0;
}

// The kernel's own address space: a user half that stays empty and a root
// of its own, copied from the template like every other (mm_init). Idle
// tasks borrow it at boot and whenever they give back a dead mm; it is
// never freed: its one "user" is the kernel, whose reference is never
// dropped, so mm_count = 1 + the tasks borrowing it.
struct mm init_mm = { .mm_users = 1, .mm_count = 1 };

// Slot i of the pool (0 <= i < NMM), for the self-tests' count checks.
struct mm *
mm_slot(int i)
{
  return i >= 0 && i < NMM ? &mm_pool.mms[i] : 0;
}

// The pages besides the root that a dead mm keeps until mmdrop: with
// KPTI its user root, data page and their tables; none without.
static int
mm_kpti_pages(struct mm *mm)
{
#ifdef KPTI
  return kpti_mm_pages(mm);
#else
  (void)mm;
  return 0;
#endif
}

// Pages alive only because a hart lazily borrows an mm whose users have
// all gone: each such root and what it keeps (mm_kpti_pages). Caller
// holds mm_pool.lock.
static int
count_lazy_roots(void)
{
  int n = 0;
  for(struct mm *mm = mm_pool.mms; mm < &mm_pool.mms[NMM]; mm++)
    if(mm->pgd && mm->mm_users == 0 && mm->mm_count > 0)
      n += 1 + mm_kpti_pages(mm);
  return n;
}

// How many roots are alive only because a hart lazily borrows an mm whose
// users have all gone? Each is freed when its hart next switches to a
// user task or goes idle; until then free-page counts are that much lower.
int
mm_nr_lazy_roots(void)
{
  acquire(&mm_pool.lock);
  int n = count_lazy_roots();
  release(&mm_pool.lock);
  return n;
}

// Free pages plus lazily kept roots, read as one: mmdrop() frees a root
// under mm_pool.lock, so a root freed meanwhile is counted exactly once.
// nr_free_soon_pages() (kstack.c) adds the stacks being freed.
uint64
nr_free_or_lazy_pages(void)
{
  acquire(&mm_pool.lock);
  uint64 n = nr_free_pages() + count_lazy_roots();
  release(&mm_pool.lock);
  return n;
}

// A new root page: an empty user half and the template's kernel half
// (Linux's pgd_alloc). Returns 0 if out of memory.
static pagetable_t
pgd_alloc(void)
{
  pagetable_t pgd = kalloc();
  if(pgd == 0)
    return 0;
  memset(pgd, 0, KERNEL_PGD_FIRST * sizeof(pte_t));
  memmove(&pgd[KERNEL_PGD_FIRST], &kernel_pagetable[KERNEL_PGD_FIRST],
          (PTRS_PER_TABLE - KERNEL_PGD_FIRST) * sizeof(pte_t));
  return pgd;
}

// Give init_mm its root. Runs once on the boot hart, after kvminit() and
// vmalloc_init() have finished the template's boot entries.
#ifdef KPTI
// walk() added a root entry to the user half of pgd: tell the mm's user
// root (kpti.c), which shares the tables below. Rare: once per GiB used.
void
mm_user_half_changed(pagetable_t pgd)
{
  acquire(&mm_pool.lock);
  for(struct mm *mm = mm_pool.mms; mm < &mm_pool.mms[NMM]; mm++)
    if(mm->pgd == pgd)
      kpti_sync_user_half(mm);
  release(&mm_pool.lock);
}
#endif

// How many mms have an owner (init_mm, and every one with mm_users)?
// Those kept only by lazy borrowers are counted by mm_nr_lazy_roots().
int
mm_nr_in_use(void)
{
  acquire(&mm_pool.lock);
  int n = 1;
  for(struct mm *mm = mm_pool.mms; mm < &mm_pool.mms[NMM]; mm++)
    n += mm->mm_count > 0 && mm->mm_users > 0;
  release(&mm_pool.lock);
  return n;
}

void
mm_init(void)
{
  initlock(&mm_pool.lock, "mm_pool");
  init_mm.pgd = pgd_alloc();
  if(init_mm.pgd == 0)
    panic("mm_init: no memory for init_mm's root");
}

// Make idle task idle borrow init_mm, taking the borrower's reference,
// and move its hart from early_pgd onto init_mm's root. Boot only, once
// per hart, with interrupts off.
void
mm_borrow_init(struct proc *idle)
{
  mmgrab(&init_mm);
  idle->active_mm = &init_mm;
  switch_mm(0, &init_mm, idle);   // boot: leave early_pgd
}

// Allocate an mm whose root holds the kernel half and an empty user half.
// Returns 0 if out of memory.
struct mm *
mm_alloc(void)
{
  pagetable_t pgd = pgd_alloc();
  if(pgd == 0)
    return 0;
  struct mm *mm = mm_struct_alloc();
  if(mm == 0){
    kfree(pgd);
    return 0;
  }
  mm->pgd = pgd;
#ifdef KPTI
  if(kpti_mm_init(mm) < 0){
    mmput(mm);
    return 0;
  }
#endif
  return mm;
}

// Take a reference to the struct and root page (a lazy borrower).
void
mmgrab(struct mm *mm)
{
  __atomic_fetch_add(&mm->mm_count, 1, __ATOMIC_RELAXED);
}

// Drop a reference to the struct and root page; the last one frees them.
// The caller must not be running on mm (satp), since its root is freed,
// nor hold sched_lock, since freeing takes other locks (sched.c's lock
// order): a switch leaves the drop to finish_task_switch (c->prev_mm).
void
mmdrop(struct mm *mm)
{
  push_off();
  int in_switch = holding(&sched_lock);
  pop_off();
  if(in_switch)
    panic("mmdrop: mm %d dropped under sched_lock, during a switch", mm->id);
  int old = __atomic_fetch_sub(&mm->mm_count, 1, __ATOMIC_ACQ_REL);
  if(old <= 0)
    panic("mmdrop: mm %d has mm_count %d", mm->id, old);
  if(old > 1)
    return;
  if(mm->mm_users != 0)
    panic("mmdrop: mm %d freed with %d users", mm->id, mm->mm_users);
  pagetable_t pgd = mm->pgd;
  if(__pa(pgd) == SATP_TO_PA(r_satp()))
    panic("mmdrop: freeing mm %d, the page table in satp", mm->id);
  // All under the lock, so nr_free_or_lazy_pages() counts each page of
  // this mm once: as part of a lazy root or as free.
  acquire(&mm_pool.lock);
#ifdef KPTI
  kpti_mm_free(mm);
#endif
#ifdef DEBUG
  // Poison: a later use of this mm (a freed borrow) faults or panics.
  memset(mm, 0x6b, sizeof(*mm));
#endif
  mm->mm_count = 0;
  mm->mm_users = 0;
  mm->pgd = 0;
  kfree(pgd);   // under the lock: see nr_free_or_lazy_pages()
  release(&mm_pool.lock);
}

// Add an owning task.
void
mmget(struct mm *mm)
{
  __atomic_fetch_add(&mm->mm_users, 1, __ATOMIC_RELAXED);
}

// Drop an owning task. The last one frees the user half and drops the
// users' mm_count reference. A hart still running on mm keeps translating
// through its root: only user mappings go, and they are shot down on
// every hart that may hold them.
void
mmput(struct mm *mm)
{
  int old = __atomic_fetch_sub(&mm->mm_users, 1, __ATOMIC_ACQ_REL);
  if(old <= 0)
    panic("mmput: mm %d has mm_users %d", mm->id, old);
  if(old > 1)
    return;
  uvmfree_user(mm->pgd, mm->brk);
#ifdef KPTI
  kpti_sync_user_half(mm);
#endif
  flush_tlb_mm(mm);
  mmdrop(mm);
}

// Is mm's last owning task gone? Its root then lives only for borrowers.
int
mm_is_dead(struct mm *mm)
{
  return __atomic_load_n(&mm->mm_users, __ATOMIC_ACQUIRE) == 0;
}

// Load mm into satp on this hart, with its ASID (asid.c), flushing the
// whole TLB only when the ASID scheme requires it: after a rollover this
// hart has not caught up with, with ASIDs off, or for init_mm (loaded at
// boot over early_pgd's global identity map, and by an idle hart). The
// hart joins mm's cpumask before the write, so a shootdown of mm from
// then on reaches it. Every satp write after entry.S's and the boot
// probe of the ASID width comes through here, so each is counted, and
// one that points at the template (which no hart may run on, invariant
// 2) is counted apart: kstat template_satp must stay 0.
static void
load_mm(struct mm *mm)
{
  struct cpu *c = mycpu();
  int flush_all = 1;
  uint64 asid = mm == &init_mm ? 0 : asid_for_mm(mm, &flush_all);
  __atomic_fetch_or(&mm->cpumask, 1UL << c->id, __ATOMIC_ACQ_REL);
  csr_write(satp, MAKE_SATP(__pa(mm->pgd)) | (asid << SATP_ASID_SHIFT));
  if(flush_all)
    local_flush_tlb_all();
  else
    c->nr_asid_noflush++;
  asid_model_load(asid);
  c->nr_satp_writes++;
  if(mm->pgd == kernel_pagetable)
    c->nr_template_satp++;
}

// Make next the address space of this hart, for task tsk (Linux's
// switch_mm). prev is the hart's active_mm (0 only at boot, on
// early_pgd). Writes satp only if next is not already in it. No flush is
// needed when next is already there, even if tsk last ran elsewhere:
// every change to next's user mappings was shot down on every hart in
// its cpumask (tlbflush.c, flush_tlb_mm_range), this one included.
// Interrupts must be off.
//
// Both kernel stacks involved must be mapped in next first: tsk's, which
// it will run on, and the current task's, which we are still running on
// until swtch() (Linux's sync_current_stack_to_mm, invariant 8). Without
// the second, a kernel thread whose stack is newer than next's root
// would fault on its own stack right after the satp write.
void
switch_mm(struct mm *prev, struct mm *next, struct proc *tsk)
{
  vmalloc_sync_stack(next->pgd, tsk);
  vmalloc_sync_stack(next->pgd, myproc());
  if(prev != next)
    load_mm(next);   // satp: boot, exec, or a task with another mm
}

// tsk, a kernel thread, is about to run on mm without owning it (Linux's
// enter_lazy_tlb). No satp write: mm is already in satp. Only tsk's
// stack must be reachable through mm's root before it runs (invariant 8).
// Interrupts must be off.
void
enter_lazy_tlb(struct mm *mm, struct proc *tsk)
{
  vmalloc_sync_stack(mm->pgd, tsk);
}

// Called by an idle task before it waits for an interrupt: if the mm it
// borrows has no users left (its last task exited on this hart), move
// the hart to init_mm and drop the borrow, so that the root page is freed
// now rather than when the hart next runs a user task, which on a quiet
// machine may be never. It costs one satp write per dead mm, and keeps
// free-page counts honest: xv6's usertests compare them before and after
// a run. (Linux kernels built with MMU_LAZY_TLB_SHOOTDOWN make lazy CPUs
// give up a dead mm too.) Interrupts are off.
void
idle_drop_dead_mm(struct proc *idle)
{
  struct mm *mm = idle->active_mm;
  if(mm == 0)
    panic("idle_drop_dead_mm: %s runs with no active_mm", idle->name);
  if(mm == &init_mm || !mm_is_dead(mm))
    return;
  mmgrab(&init_mm);
  switch_mm(mm, &init_mm, idle);
  idle->active_mm = &init_mm;   // the borrow moves to init_mm
  mmdrop(mm);
  mycpu()->nr_idle_mm_drops++;
}
