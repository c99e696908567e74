// mm.c: struct mm, its two counts, and switch_mm.
//
// A new mm's root gets a zero user half and a copy of kernel_pagetable's
// root entries 256-511 (Linux's pgd_alloc). Entries created in the
// template later reach this root lazily (vmalloc.c).
//
// Counting rules (see mm.h): mm_users counts owning tasks; mm_count counts
// one for all the users together plus one per lazy borrower. mmput() at
// mm_users 0 frees the user half then mmdrop()s; mmdrop() at mm_count 0
// frees the root page and the struct.
//
// Lock order: mm_pool.lock is a leaf lock (kmem.lock is taken after it).
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

// The boot address space: its root is kernel_pagetable itself. Idle
// tasks and kernel threads borrow it until their hart first runs a user
// task; it is never freed (its users' reference is never dropped).
struct mm init_mm = { .mm_users = 1, .mm_count = 1 };

// Slot i of the pool (0 <= i < NMM), for the self-tests' count checks.
struct mm *
mm_slot(int i)
{
  return i >= 0 && i < NMM ? &mm_pool.mms[i] : 0;
}

// Roots alive only because a hart lazily borrows an mm whose users have
// all gone. Caller holds mm_pool.lock.
static int
count_lazy_roots(void)
{
  int n = 0;
  for(struct mm *mm = mm_pool.mms; mm < &mm_pool.mms[NMM]; mm++)
    n += mm->pgd && mm->mm_users == 0 && mm->mm_count > 0;
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

// How many mms have an owning task (init_mm not counted)? Leak checks
// compare it across their work; mms kept only by a lazy borrower are
// mm_nr_lazy_roots()'s, and go when their hart next switches.
int
mm_nr_owned(void)
{
  acquire(&mm_pool.lock);
  int n = 0;
  for(struct mm *mm = mm_pool.mms; mm < &mm_pool.mms[NMM]; mm++)
    n += mm->pgd != 0 && mm->mm_users > 0;
  release(&mm_pool.lock);
  return n;
}

// Free pages plus lazily kept roots, read as one: mmdrop() frees a root
// under mm_pool.lock, so a root freed meanwhile is counted exactly once.
// Leak checks compare this, not nr_free_pages(), across their work.
uint64
nr_free_or_lazy_pages(void)
{
  acquire(&mm_pool.lock);
  uint64 n = nr_free_pages() + count_lazy_roots();
  release(&mm_pool.lock);
  return n;
}

void
mm_init(void)
{
  initlock(&mm_pool.lock, "mm_pool");
  init_mm.pgd = kernel_pagetable;
}

// Allocate an mm whose root holds the kernel half and an empty user half.
// Returns 0 if out of memory.
struct mm *
mm_alloc(void)
{
  pagetable_t pgd = kalloc();
  if(pgd == 0)
    return 0;
  memset(pgd, 0, KERNEL_PGD_FIRST * sizeof(pte_t));
  memmove(&pgd[KERNEL_PGD_FIRST], &kernel_pagetable[KERNEL_PGD_FIRST],
          (PTRS_PER_TABLE - KERNEL_PGD_FIRST) * sizeof(pte_t));
  struct mm *mm = mm_struct_alloc();
  if(mm == 0){
    kfree(pgd);
    return 0;
  }
  mm->pgd = pgd;
  return mm;
}

// Take a reference to the struct and root page (a lazy borrower).
void
mmgrab(struct mm *mm)
{
  __atomic_fetch_add(&mm->mm_count, 1, __ATOMIC_RELAXED);
}

// Drop a reference to the struct and root page; the last one frees them.
// The caller must not be running on mm (satp), since its root is freed.
void
mmdrop(struct mm *mm)
{
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
#ifdef DEBUG
  // Poison: a later use of this mm (a freed borrow) faults or panics.
  memset(mm, 0x6b, sizeof(*mm));
#endif
  acquire(&mm_pool.lock);
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
// through its root: only user mappings go, and the caller's own TLB is
// flushed here.
void
mmput(struct mm *mm)
{
  int old = __atomic_fetch_sub(&mm->mm_users, 1, __ATOMIC_ACQ_REL);
  if(old <= 0)
    panic("mmput: mm %d has mm_users %d", mm->id, old);
  if(old > 1)
    return;
  uvmfree_user(mm->pgd, mm->brk);
  local_flush_tlb_all();
  mmdrop(mm);
}

// Make next the address space of this hart, for task tsk (Linux's
// switch_mm). Writes satp only if next is not already in it. If it is
// there but tsk last ran on another hart, this hart's TLB may hold user
// translations that tsk has since changed there, so flush it.
// Interrupts must be off.
//
// Both kernel stacks involved must be mapped in next first: tsk's, which
// it will run on, and the current task's, which we are still running on
// until swtch() (Linux's sync_current_stack_to_mm). Without the second,
// a kernel thread whose stack is newer than next's root would fault on
// its own stack right after the satp write.
void
switch_mm(struct mm *prev, struct mm *next, struct proc *tsk)
{
  struct cpu *c = mycpu();
  vmalloc_sync_stack(next->pgd, tsk);
  vmalloc_sync_stack(next->pgd, myproc());
  if(prev != next){
    csr_write(satp, MAKE_SATP(__pa(next->pgd)));  // switch to another mm
    local_flush_tlb_all();
    c->nr_satp_writes++;
  } else if(tsk->cpu != c){
    local_flush_tlb_all();
  }
}
