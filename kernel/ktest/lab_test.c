// lab_test.c: self-tests written for the labs' graders (grade/): checks
// of a lab's contract that the subject suites leave open. vmsync: the
// fault path syncs vmalloc addresses only, never a mapped direct-map one.
// lazytlb: a switch from one kernel thread to another counts as lazy.
// kpti (KPTI=1 only): the caller's user root holds exactly the entry page
// and the data page of the kernel half, and the data page the two roots.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"
#include "kernel/ktest/ktest.h"

static volatile uint64 probe_data;

// Does vmalloc_fault refuse kernel addresses outside the vmalloc area,
// even mapped ones (so a stray kernel access panics instead of looping)?
static int
vmalloc_fault_only_vmalloc(char *msg)
{
  uint64 data = (uint64)&probe_data;
  uint64 text = (uint64)&vmalloc_fault_only_vmalloc;
  push_off();
  int d = vmalloc_fault(data);
  int t = vmalloc_fault(text);
  int above = vmalloc_fault(VMALLOC_END);
  pop_off();
  KT_ASSERT(!d, "vmalloc_fault accepted %p, a mapped direct-map data address", (void *)data);
  KT_ASSERT(!t, "vmalloc_fault accepted %p, a kernel text address", (void *)text);
  KT_ASSERT(!above, "vmalloc_fault accepted VMALLOC_END");
  return 0;
}

static volatile int kk_arrived;

// Body of the kernel -> kernel test: wait until both threads are
// runnable, then hand the hart to the other one 50 times.
static int
kk_pong(void *arg)
{
  __atomic_fetch_add(&kk_arrived, 1, __ATOMIC_ACQ_REL);
  for(uint64 t0 = ticks; kk_arrived < 2 && ticks - t0 < 100; )
    yield();
  for(int i = 0; i < 50; i++)
    yield();
  return 0;
}

// Are switches between two kernel threads (kernel -> kernel: the borrow
// moves on) counted in nr_lazy_switches, like user -> kernel ones? With
// several harts the two threads share the last hart, and this task stays
// off it, so that no user task runs there meanwhile.
static int
kthread_to_kthread_lazy(char *msg)
{
  int cpu = ncpu - 1;
  kk_arrived = 0;
  struct proc *a = kthread_alloc(kk_pong, 0, "kt-kk-a", kstack_alloc_thread());
  struct proc *b = kthread_alloc(kk_pong, 0, "kt-kk-b", kstack_alloc_thread());
  KT_ASSERT(a && b, "kthread_alloc failed");
  if(ncpu > 1){
    myproc()->cpu_allowed = 0;
    yield();                        // now on hart 0
  }
  kthread_bind(a, cpu);
  kthread_bind(b, cpu);
  uint64 lazy0 = __atomic_load_n(&cpus[cpu].nr_lazy_switches, __ATOMIC_RELAXED);
  kthread_start(a);
  kthread_start(b);
  kthread_stop(a);
  kthread_stop(b);
  uint64 lazy = __atomic_load_n(&cpus[cpu].nr_lazy_switches, __ATOMIC_RELAXED) - lazy0;
  myproc()->cpu_allowed = -1;
  KT_ASSERT(kk_arrived == 2, "only %d of the 2 threads ran", kk_arrived);
  KT_ASSERT(lazy >= 50, "%ld lazy switches on hart %d while two kernel threads "
            "took turns 100 times, want >= 50", lazy, cpu);
  return 0;
}

#ifdef KPTI
extern char kpti_text_start[];

// Is the one leaf at va of the user root's kernel half the page at pa,
// with exactly the permissions want (of R, W, X, U, G)?
static int
kpti_leaf_ok(pte_t pte, uint64 pa, uint64 want)
{
  uint64 perms = PTE_R | PTE_W | PTE_X | PTE_U | PTE_G;
  return PTE2PA(pte) == pa && (pte & perms) == want;
}

// Does the caller's user root hold its user half (the kernel root's
// entries) and, of the kernel half, only the entry text page (R-X) and
// the data page (RW-, its tables shared with the kernel root), neither
// with U or G?
static int
kpti_user_root(char *msg)
{
  struct mm *mm = myproc()->mm;
  KT_ASSERT(mm && mm->upgd && mm->kdata, "the caller's mm has no user root");
  pagetable_t upgd = mm->upgd, pgd = mm->pgd;
  for(int i = 0; i < KERNEL_PGD_FIRST; i++)
    KT_ASSERT(upgd[i] == pgd[i], "user root entry %d is not the kernel root's", i);
  KT_ASSERT(pte_present(upgd[PX(2, KPTI_DATA_VA)]) &&
            upgd[PX(2, KPTI_DATA_VA)] == pgd[PX(2, KPTI_DATA_VA)],
            "root entry %d (the data page) is not shared with the kernel root",
            (int)PX(2, KPTI_DATA_VA));
  int leaves = 0;
  for(int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++){
    if(!pte_present(upgd[i]))
      continue;
    KT_ASSERT(!pte_leaf(upgd[i]), "root entry %d of the user root is a leaf", i);
    pagetable_t pmd = pte_table(upgd[i]);
    for(int j = 0; j < PTRS_PER_TABLE; j++){
      if(!pte_present(pmd[j]))
        continue;
      KT_ASSERT(!pte_leaf(pmd[j]), "a 2 MiB leaf under root entry %d of the user root", i);
      pagetable_t pt = pte_table(pmd[j]);
      for(int k = 0; k < PTRS_PER_TABLE; k++){
        if(!pte_present(pt[k]))
          continue;
        uint64 va = 0xffffff8000000000UL | ((uint64)i << 30) | ((uint64)j << 21) |
                    ((uint64)k << 12);
        leaves++;
        if(va == (uint64)kpti_text_start)
          KT_ASSERT(kpti_leaf_ok(pt[k], __pa(kpti_text_start), PTE_R | PTE_X),
                    "the entry page in the user root: pte %p, want pa %p R-X, no U, no G",
                    (void *)pt[k], (void *)__pa(kpti_text_start));
        else if(va == KPTI_DATA_VA)
          KT_ASSERT(kpti_leaf_ok(pt[k], __pa(mm->kdata), PTE_R | PTE_W),
                    "the data page in the user root: pte %p, want pa %p RW-, no U, no G",
                    (void *)pt[k], (void *)__pa(mm->kdata));
        else
          KT_ASSERT(0, "the user root maps kernel address %p (pte %p): only the "
                    "entry page and the data page may be there", (void *)va, (void *)pt[k]);
      }
    }
  }
  KT_ASSERT(leaves == 2, "%d kernel pages in the user root, want 2 (entry page, data page)",
            leaves);
  return 0;
}

// Does the caller's data page, as kpti_prepare_return left it on its last
// return to user mode, name the caller and both of its roots, the user
// root with the kernel ASID plus the user-ASID bit?
static int
kpti_data_page(char *msg)
{
  struct proc *p = myproc();
  struct kpti_data *kd = p->mm->kdata;
  KT_ASSERT(kd->task == (uint64)p, "data page task %p, the caller is %p",
            (void *)kd->task, (void *)p);
  uint64 ppn = (1UL << 44) - 1, amask = 0xffff;
  KT_ASSERT((kd->ksatp & ppn) == __pa(p->mm->pgd) >> 12,
            "ksatp %p does not name the kernel root", (void *)kd->ksatp);
  KT_ASSERT((kd->usatp & ppn) == __pa(p->mm->upgd) >> 12 && (kd->usatp >> 60) == 8,
            "usatp %p does not name the user root in Sv39 mode", (void *)kd->usatp);
  uint64 kasid = (kd->ksatp >> SATP_ASID_SHIFT) & amask;
  uint64 uasid = (kd->usatp >> SATP_ASID_SHIFT) & amask;
  if(asid_bits){
    KT_ASSERT(kasid != 0 && !(kasid & kpti_user_asid_bit),
              "kernel ASID %ld is not one of the allocator's", kasid);
    KT_ASSERT(uasid == (kasid | kpti_user_asid_bit),
              "user root ASID %ld, kernel root ASID %ld: want the kernel ASID with "
              "bit %p set", uasid, kasid, (void *)kpti_user_asid_bit);
  } else {
    KT_ASSERT(uasid == 0 && kd->flush == 1, "ASIDs off: user ASID %ld, flush %ld",
              uasid, kd->flush);
  }
  return 0;
}

// For the kpti grader: the next 64 returns to user mode set the data
// page's flush flag as with ASIDs off, so that the sfences of
// kpti_entry.S run (and are counted: kstat kpti_flushes). Fails when
// ASIDs are off (every switch flushes anyway).
static int
kpti_force_flush(char *msg)
{
  KT_ASSERT(asid_bits > 0, "ASIDs are off: every switch flushes already");
  kpti_force_flushes(64);
  return 0;
}
#endif

const struct ktest lab_tests[] = {
  { "vmalloc_fault_only_vmalloc", vmalloc_fault_only_vmalloc },
  { "kthread_to_kthread_lazy", kthread_to_kthread_lazy },
#ifdef KPTI
  { "kpti_user_root", kpti_user_root },
  { "kpti_data_page", kpti_data_page },
  { "kpti_force_flush", kpti_force_flush },
#endif
  { 0, 0 },
};
