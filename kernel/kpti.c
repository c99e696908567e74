// kpti.c: the KPTI=1 build's second root per address space (kernel page-
// table isolation, Linux's answer to Meltdown), built only with -DKPTI.
//
// Each mm has, beside its kernel root (pgd: the user half and the whole
// kernel half), a user root (upgd) that user mode runs on. The user root
// holds the user half (its root entries are the kernel root's, so the
// tables below are shared) and, of the kernel, only what the trap path
// needs before it can switch roots:
//   - the page of kernel/kpti_entry.S (section .text.kpti), at its own address:
//     the first instructions of every trap and the last before sret;
//   - the mm's data page at KPTI_DATA_VA (root entry 384), holding both
//     roots' satp values and a slot for t0 (struct kpti_data).
// Neither is mapped with U, and in this build no kernel leaf is global:
// a global kernel translation would stay in the TLB on the user root.
//
// Trap entry (kpti_entry.S) switches to the kernel root and jumps to trapentry.S;
// trap exit switches back as its last step. Each mm has two ASIDs, its
// kernel one and the same with the top ASID bit set (as Linux's x86 PCID
// scheme does), so neither switch flushes. With ASIDs off both do.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"

#ifdef KPTI

extern char kpti_text_start[], kpti_text_end[];

// Give mm a user root: the entry page and its data page. The data page's
// tables (root entry 384) are shared by both roots. Returns 0, or -1 with
// nothing left allocated.
int
kpti_mm_init(struct mm *mm)
{
  mm->upgd = kzalloc();
  mm->kdata = kzalloc();
  if(mm->upgd == 0 || mm->kdata == 0 ||
     mappages(mm->pgd, KPTI_DATA_VA, PGSIZE, __pa(mm->kdata), PTE_R | PTE_W) < 0){
    kpti_mm_free(mm);
    return -1;
  }
  // LAB kpti BEGIN
  if(mappages(mm->upgd, (uint64)kpti_text_start, PGSIZE, __pa(kpti_text_start),
              PTE_R | PTE_X) < 0){
    kpti_mm_free(mm);
    return -1;
  }
  mm->upgd[PX(2, KPTI_DATA_VA)] = mm->pgd[PX(2, KPTI_DATA_VA)];
  // LAB kpti STARTER
  //> // Your code here: build the rest of the user root (labs/kpti/README.md).
  //> // Its user half is kept in step by kpti_sync_user_half; of the kernel
  //> // half it needs exactly what kpti_entry.S touches before and after
  //> // its satp writes. Never U, never G.
  // LAB kpti END
  return 0;
}

// Free a table below root entry idx of pgd and the tables below it,
// not the leaves (kernel text, or the data page freed apart).
static void
free_kernel_tables(pagetable_t pgd, int idx)
{
  if(!pte_present(pgd[idx]))
    return;
  pagetable_t pmd = pte_table(pgd[idx]);
  for(int j = 0; j < PTRS_PER_TABLE; j++)
    if(pte_present(pmd[j]))
      kfree(pte_table(pmd[j]));
  kfree(pmd);
  pgd[idx] = 0;
}

// How many tables free_kernel_tables(pgd, idx) would free.
static int
count_kernel_tables(pagetable_t pgd, int idx)
{
  if(!pte_present(pgd[idx]))
    return 0;
  pagetable_t pmd = pte_table(pgd[idx]);
  int n = 1;
  for(int j = 0; j < PTRS_PER_TABLE; j++)
    n += pte_present(pmd[j]) != 0;
  return n;
}

// How many pages kpti_mm_free(mm) would free: what a dead mm that a hart
// still borrows keeps besides its root (mm.c's count of lazy roots).
// Caller holds mm_pool.lock, under which kpti_mm_free runs.
int
kpti_mm_pages(struct mm *mm)
{
  int n = count_kernel_tables(mm->pgd, PX(2, KPTI_DATA_VA)) + (mm->kdata != 0);
  if(mm->upgd)
    n += 1 + count_kernel_tables(mm->upgd, PX(2, (uint64)kpti_text_start));
  return n;
}

// Free what kpti_mm_init allocated (the user half is already gone).
// Caller holds mm_pool.lock (mmdrop), or owns mm alone (kpti_mm_init).
void
kpti_mm_free(struct mm *mm)
{
  if(mm->upgd){
    mm->upgd[PX(2, KPTI_DATA_VA)] = 0;              // shared: freed below
    free_kernel_tables(mm->upgd, PX(2, (uint64)kpti_text_start));
    kfree(mm->upgd);
  }
  free_kernel_tables(mm->pgd, PX(2, KPTI_DATA_VA));
  if(mm->kdata)
    kfree(mm->kdata);
  mm->upgd = 0;
  mm->kdata = 0;
}

// The user half's root entries of mm's kernel root changed (a table was
// added by walk, or the whole half freed): copy them into its user root,
// so that both point at the same tables.
void
kpti_sync_user_half(struct mm *mm)
{
  if(mm->upgd)
    memmove(mm->upgd, mm->pgd, KERNEL_PGD_FIRST * sizeof(pte_t));
}

// Forced flushes for the grader (ktest kpti_force_flush): while above 0,
// each return to user mode sets the data page's flush flag as if ASIDs
// were off, so the sfence path of kpti_entry.S runs on a kernel that has
// ASIDs.
static int forced_flushes;

void
kpti_force_flushes(int n)
{
  __atomic_store_n(&forced_flushes, n, __ATOMIC_RELAXED);
}

// Did user mode run on mm's user root since the last call? The hardware
// sets the A bit of the user root's entry-page leaf on a walk through it
// (QEMU re-walks after every satp write); this reads and clears it. It
// is measurement only: the kernel itself never needs it.
static int
user_root_was_used(struct mm *mm)
{
  pte_t *pte = walk(mm->upgd, (uint64)kpti_text_start, 0);
  if(pte == 0 || !(*pte & PTE_A))
    return 0;
  __atomic_and_fetch(pte, ~PTE_A, __ATOMIC_RELAXED);
  return 1;
}

// Fill in the data page for the return to user mode on this hart: the
// task, the kernel root as it is in satp now (with this mm's kernel ASID)
// and the user root with the user ASID. Interrupts are off; counts the
// satp write that kpti_entry.S is about to do, the sfences it counted in
// the data page since the last return, and whether user mode ran on the
// user root since then.
void
kpti_prepare_return(struct proc *p)
{
  struct kpti_data *kd = p->mm->kdata;
  uint64 ksatp = r_satp();
  uint64 asid = (ksatp >> SATP_ASID_SHIFT) & 0xffff;
  kd->task = (uint64)p;
  kd->ksatp = ksatp;
  // LAB kpti BEGIN
  kd->usatp = MAKE_SATP(__pa(p->mm->upgd)) |
              ((asid ? asid | kpti_user_asid_bit : 0) << SATP_ASID_SHIFT);
  // LAB kpti STARTER
  //> kd->usatp = 0;   // Your code here: the user root, with the user ASID
  //> (void)asid;
  // LAB kpti END
  kd->flush = asid_bits == 0;
  if(__atomic_load_n(&forced_flushes, __ATOMIC_RELAXED) > 0 &&
     __atomic_sub_fetch(&forced_flushes, 1, __ATOMIC_RELAXED) >= 0)
    kd->flush = 1;
  mycpu()->nr_kpti_flushes += kd->nflush;
  kd->nflush = 0;
  if(user_root_was_used(p->mm))
    mycpu()->nr_kpti_user_runs++;
  mycpu()->nr_satp_writes++;   // the switch to the user root
  mycpu()->nr_trap_satp++;
}

#endif
