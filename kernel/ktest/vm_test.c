// vm_test.c: self-tests of the page-table design: the template copy, lazy
// sync of vmalloc root entries (one hart and several at once), kernel
// stacks reachable on borrowed roots, and vfree reaching every hart's TLB.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/asm-offsets.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"
#include "kernel/ktest/ktest.h"

// Is every kernel-half root entry of pgd the template's, or absent where
// the template's was created later? Returns the first bad index, or -1.
static int
kernel_half_bad_entry(pagetable_t pgd)
{
  for(int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++){
    pte_t mine = pgd[i], tmpl = kernel_pagetable[i];
#ifdef KPTI
    if(i == PX(2, KPTI_DATA_VA))
      continue;   // KPTI=1: each mm's own data page (kpti.c)
#endif
    if(mine == tmpl)
      continue;
    if(mine == 0 && pte_present(tmpl) && i >= VMALLOC_PGD_FIRST)
      continue;   // not yet synced
    return i;
  }
  return -1;
}

// Does a new mm get a zero user half and exactly the template's kernel half?
static int
template_copy_new_mm(char *msg)
{
  struct mm *mm = mm_alloc();
  KT_ASSERT(mm, "mm_alloc failed");
  int bad = -1;
  for(int i = 0; i < PTRS_PER_TABLE && bad < 0; i++){
    pte_t want = i < KERNEL_PGD_FIRST ? 0 : kernel_pagetable[i];
#ifdef KPTI
    if(i == PX(2, KPTI_DATA_VA))
      continue;   // KPTI=1: each mm's own data page (kpti.c)
#endif
    if(mm->pgd[i] != want)
      bad = i;
  }
  mmput(mm);
  KT_ASSERT(bad < 0, "root entry %d of a new mm differs from the template", bad);
  return 0;
}

// Is the kernel half of every live address space (forked, exec'd, or
// borrowed by a hart) the template's, entry for entry, or not yet synced?
static int
pgd_consistent_all_tasks(char *msg)
{
  int checked = 0, bad = -1, pid = 0;
  acquire(&sched_lock);
  for(struct proc *p = proc; p < &proc[NPROC] && bad < 0; p++){
    struct mm *mm = p->mm ? p->mm : p->active_mm;
    if(p->state == UNUSED || mm == 0)
      continue;
    checked++;
    pid = p->pid;
    bad = kernel_half_bad_entry(mm->pgd);
  }
  for(int i = 0; i < ncpu && bad < 0; i++){
    struct mm *mm = cpus[i].curr->active_mm;
    if(mm){
      checked++;
      pid = cpus[i].curr->pid;
      bad = kernel_half_bad_entry(mm->pgd);
    }
  }
  if(bad < 0){
    pid = 0;   // init_mm, whether or not a hart borrows it now
    bad = kernel_half_bad_entry(init_mm.pgd);
  }
  release(&sched_lock);
  KT_ASSERT(bad < 0, "task %d: kernel root entry %d is neither the template's "
            "nor unsynced", pid, bad);
  KT_ASSERT(checked >= 2, "only %d address spaces found", checked);
  return 0;
}

// Count the leaves below table (at level) whose U and G bits are not
// (want_u, want_g). Returns the number of leaves seen in *leaves.
static int
leaves_with_wrong_bits(pagetable_t table, int level, int want_u, int want_g,
                       int *leaves)
{
  int bad = 0;
  for(int i = 0; i < PTRS_PER_TABLE; i++){
    pte_t pte = table[i];
    if(!pte_present(pte))
      continue;
    if(!pte_leaf(pte)){
      bad += leaves_with_wrong_bits(pte_table(pte), level - 1, want_u, want_g, leaves);
      continue;
    }
    (*leaves)++;
    bad += pte_user(pte) != want_u || ((pte & PTE_G) != 0) != want_g;
  }
  return bad;
}

// Do all kernel-half leaves (the template's, so every root's) have G and
// not U, and all of this process's user leaves U and not G (invariant 4)?
static int
pte_u_g_bits(char *msg)
{
  int kleaves = 0, uleaves = 0, kbad = 0, ubad = 0;
  pagetable_t pgd = myproc()->mm->pgd;
  for(int i = 0; i < PTRS_PER_TABLE; i++){
    pte_t k = kernel_pagetable[i], u = pgd[i];
    if(i >= KERNEL_PGD_FIRST && pte_present(k))
      kbad += leaves_with_wrong_bits(pte_table(k), 1, 0, PTE_KERNEL_G != 0, &kleaves);
    if(i < KERNEL_PGD_FIRST && pte_present(u))
      ubad += leaves_with_wrong_bits(pte_table(u), 1, 1, 0, &uleaves);
  }
  KT_ASSERT(kleaves > 100 && uleaves > 0, "found only %d kernel and %d user leaves",
            kleaves, uleaves);
  KT_ASSERT(kbad == 0, "%d of %d kernel leaves lack G or have U", kbad, kleaves);
  KT_ASSERT(ubad == 0, "%d of %d user leaves lack U or have G", ubad, uleaves);
  return 0;
}

// Per-hart body: is this hart's satp anything but the template?
static int
satp_not_template(void *arg)
{
  return SATP_TO_PA(r_satp()) == __pa(kernel_pagetable);
}

// Is kernel_pagetable only a template: init_mm has a root of its own, no
// hart has the template in satp now, and no satp write since boot
// pointed at it (kstat template_satp)?
static int
template_never_in_satp(char *msg)
{
  KT_ASSERT(init_mm.pgd && init_mm.pgd != kernel_pagetable,
            "init_mm's root is %p, the template is %p", init_mm.pgd, kernel_pagetable);
  KT_ASSERT(kernel_half_bad_entry(init_mm.pgd) < 0,
            "init_mm's root entry %d is neither the template's nor unsynced",
            kernel_half_bad_entry(init_mm.pgd));
  int on_template = ktest_run_on_every_cpu(satp_not_template, 0, "kt-satp");
  KT_ASSERT(on_template == 0, "%d harts run on kernel_pagetable (-1: could not "
            "start a thread on each)", on_template);
  uint64 writes = 0;
  for(int i = 0; i < ncpu; i++)
    writes += cpus[i].nr_template_satp;
  KT_ASSERT(writes == 0, "%ld satp writes of kernel_pagetable since boot, want 0", writes);
  return 0;
}

// Does a kernel access through init_mm's root, lacking a vmalloc root
// entry, sync it like any other root's? The test moves its own hart onto
// init_mm for the access, and back.
static int
init_mm_lazy_sync(char *msg)
{
  KT_ASSERT(init_mm.pgd != kernel_pagetable, "init_mm runs on the template itself");
  uint64 *area = ktest_vmalloc(PGSIZE);
  KT_ASSERT(area, "vmalloc in the test region failed");
  *ktest_direct(area) = 0x1417;
  push_off();
  struct proc *me = myproc();
  switch_mm(me->active_mm, &init_mm, me);
  ktest_forget_region(init_mm.pgd);
  uint64 before = mycpu()->nr_vmalloc_syncs;
  uint64 v = ktest_faulting_read(area);   // faults, syncs init_mm's root
  uint64 syncs = mycpu()->nr_vmalloc_syncs - before;
  pte_t mine = init_mm.pgd[KTEST_REGION_PGD];
  switch_mm(&init_mm, me->active_mm, me);
  pop_off();
  vfree(area);
  KT_ASSERT(v == 0x1417, "read %p through init_mm's root, want 0x1417", (void *)v);
  KT_ASSERT(syncs == 1, "%ld lazy syncs counted, want 1", syncs);
  KT_ASSERT(mine == kernel_pagetable[KTEST_REGION_PGD],
            "init_mm's root entry %d is %p after the sync, the template has %p",
            KTEST_REGION_PGD, (void *)mine, (void *)kernel_pagetable[KTEST_REGION_PGD]);
  return 0;
}

// Does a kernel access through a root lacking a vmalloc root entry copy
// exactly that entry from the template, count it, and see the data?
static int
vmalloc_lazy_sync(char *msg)
{
  uint64 *area = ktest_vmalloc(PGSIZE);
  KT_ASSERT(area, "vmalloc in the test region failed");
  *ktest_direct(area) = 0x5eed;
  push_off();
  pagetable_t pgd = current_pgd();
  ktest_forget_region(pgd);
  uint64 before = mycpu()->nr_vmalloc_syncs;
  uint64 v = ktest_faulting_read(area);   // faults, syncs, retries
  uint64 syncs = mycpu()->nr_vmalloc_syncs - before;
  pte_t mine = pgd[KTEST_REGION_PGD], tmpl = kernel_pagetable[KTEST_REGION_PGD];
  pop_off();
  vfree(area);
  KT_ASSERT(v == 0x5eed, "read %p through the synced entry, want 0x5eed", (void *)v);
  KT_ASSERT(syncs == 1, "%ld lazy syncs counted for one access, want 1", syncs);
  KT_ASSERT(mine == tmpl, "root entry %d is %p after the sync, template has %p",
            KTEST_REGION_PGD, (void *)mine, (void *)tmpl);
  return 0;
}

// Does the fault path refuse (so the kernel would panic, not loop) when
// the template has no mapping either, or the address is not vmalloc's?
static int
vmalloc_fault_refuses_unmapped(char *msg)
{
  uint64 *area = ktest_vmalloc(PGSIZE);
  KT_ASSERT(area, "vmalloc in the test region failed");
  push_off();
  pagetable_t pgd = current_pgd();
  pgd[KTEST_REGION_PGD] = kernel_pagetable[KTEST_REGION_PGD];
  int after_area = vmalloc_fault((uint64)area + 16 * PGSIZE);
  int direct = vmalloc_fault(KERNBASE);
  int user = vmalloc_fault(0x1000);
  pop_off();
  vfree(area);
  KT_ASSERT(!after_area, "vmalloc_fault synced an address nothing maps");
  KT_ASSERT(!direct && !user, "vmalloc_fault accepted a non-vmalloc address");
  return 0;
}

struct shared_area {
  volatile uint64 *area;
  volatile int phase;
  volatile uint64 want;
  volatile int arrived;
};

// Per-hart body: forget the region in the borrowed root; once every hart
// has done so (roots may be shared), read through it at the same moment.
static int
lazy_sync_reader(void *arg)
{
  struct shared_area *s = arg;
  push_off();   // stay on this hart, on this root
  ktest_forget_region(current_pgd());
  __sync_fetch_and_add(&s->arrived, 1);
  while(s->arrived < ncpu)
    ;
  uint64 v = *s->area;
  pop_off();
  return v != s->want;
}

// Can every hart take a lazy-sync fault at the same moment?
static int
lazy_sync_many_harts(char *msg)
{
  struct shared_area s = { 0 };
  s.area = ktest_vmalloc(PGSIZE);
  KT_ASSERT(s.area, "vmalloc in the test region failed");
  s.want = 0xabcd;
  *ktest_direct((void *)s.area) = s.want;
  int failed = ktest_run_on_every_cpu(lazy_sync_reader, &s, "kt-sync");
  vfree((void *)s.area);
  KT_ASSERT(failed == 0, "%d of %d harts read wrong data after the sync", failed, ncpu);
  return 0;
}

// The forced race: two harts on one root (init_mm's) fault on the same
// missing vmalloc entry at once. A hook in the fault path makes the first
// hart wait until the second has faulted too, and the second until the
// first has copied the entry: the second's vmalloc_fault must then find
// the entry already there and retry the access, not panic.
struct race {
  volatile uint64 *area;
  uint64 want;
  volatile int started, ready, arrived;
};
static struct race *race_now;

// Spin until *flag reaches want or 5 seconds pass (then the test fails
// by its counts instead of hanging). Interrupts are off.
static void
spin_until(volatile int *flag, int want)
{
  for(uint64 t0 = r_time(); *flag < want && r_time() - t0 < 5 * TIMEBASE_HZ; )
    ;
}

static void
race_hook(uint64 addr)
{
  struct race *r = race_now;
  if(r == 0 || PGROUNDDOWN(addr) != (uint64)r->area)
    return;
  if(__atomic_fetch_add(&r->arrived, 1, __ATOMIC_ACQ_REL) == 0){
    spin_until(&r->arrived, 2);               // first: wait for the second
    return;
  }
  for(uint64 t0 = r_time(); r_time() - t0 < 5 * TIMEBASE_HZ; )
    if(__atomic_load_n(&current_pgd()[KTEST_REGION_PGD], __ATOMIC_ACQUIRE))
      return;                                 // second: the first has copied
}

// Per-hart body: the first two harts move onto init_mm's root and read
// the area together; the others do nothing.
static int
race_reader(void *arg)
{
  struct race *r = arg;
  if(__atomic_fetch_add(&r->started, 1, __ATOMIC_ACQ_REL) >= 2)
    return 0;
  push_off();
  struct proc *me = myproc();
  struct mm *own = me->active_mm;
  switch_mm(own, &init_mm, me);
  __atomic_fetch_add(&r->ready, 1, __ATOMIC_ACQ_REL);
  spin_until(&r->ready, 2);
  uint64 v = *r->area;                        // both fault here
  switch_mm(&init_mm, own, me);
  pop_off();
  return v != r->want;
}

static int
vmalloc_fault_race(char *msg)
{
  if(ncpu < 2)
    return 0;                                 // needs two harts: nothing to race
  struct race r = { .want = 0x7ace };
  r.area = ktest_vmalloc(PGSIZE);
  KT_ASSERT(r.area, "vmalloc in the test region failed");
  *ktest_direct((void *)r.area) = r.want;
  push_off();
  ktest_forget_region(init_mm.pgd);
  pop_off();
  race_now = &r;
  vmalloc_fault_hook = race_hook;
  int failed = ktest_run_on_every_cpu(race_reader, &r, "kt-race");
  vmalloc_fault_hook = 0;
  race_now = 0;
  vfree((void *)r.area);
  KT_ASSERT(failed == 0, "%d harts read wrong data in the race", failed);
  KT_ASSERT(r.ready == 2 && r.arrived == 2, "%d harts met on init_mm's root and %d "
            "faulted, want 2 and 2", r.ready, r.arrived);
  return 0;
}

// Does vfree fence the whole freed area, on every hart (one remote fence
// when there are several)?
static int
vfree_fence_covers_area(char *msg)
{
  uint64 size = 3 * PGSIZE;
  void *area = ktest_vmalloc(size);
  KT_ASSERT(area, "vmalloc in the test region failed");
  push_off();                                 // this hart's flush log
  struct tlb_mark mark = tlb_mark();
  vfree(area);
  int covered = tlb_flushed_since(mark, (uint64)area, (uint64)area + size);
  struct cpu *c = mycpu();
  struct flush_rec last = c->flush_log[(c->nr_tlb_flushes - 1) % FLUSH_LOG];
  uint64 fences = c->nr_tlb_flushes - mark.flushes;
  pop_off();
  KT_ASSERT(covered, "the flushes since vfree do not cover [%p, %p)", area,
            (char *)area + size);
  KT_ASSERT(ncpu == 1 || last.remote, "vfree's last flush was local only, with %d harts",
            ncpu);
  KT_ASSERT(fences >= 1, "vfree flushed nothing");
  return 0;
}

// Per-hart body of the shootdown test: read in phase 1 (the TLB keeps the
// translation), wait, read again in phase 3.
static int
shootdown_reader(void *arg)
{
  struct shared_area *s = arg;
  if(*s->area != 1)
    return 1;
  __sync_fetch_and_add(&s->arrived, 1);
  while(s->phase != 3)
    ;
  return *s->area != s->want;
}

// After vfree and a new mapping at the same address, does every hart read
// the new page, not the old one through a stale TLB entry?
static int
vfree_shootdown(char *msg)
{
  struct shared_area s = { 0 };
  s.area = ktest_vmalloc(PGSIZE);
  KT_ASSERT(s.area, "vmalloc in the test region failed");
  *ktest_direct((void *)s.area) = 1;
  struct proc *threads[NCPU];
  int n = 0;
  for(; n < ncpu; n++){
    threads[n] = kthread_alloc(shootdown_reader, &s, "kt-shoot", kstack_alloc_thread());
    if(threads[n] == 0)
      break;
    kthread_bind(threads[n], n);
    kthread_start(threads[n]);
  }
  while(s.arrived < n)
    yield();
  // Every hart has used the old translation. Unmap it, keep the old page
  // busy with junk, map a new page at the same address.
  uint64 *old = ktest_direct((void *)s.area);
  vfree((void *)s.area);
  uint64 *junk = kalloc();
  if(junk == old)
    *junk = 0xdead;
  volatile uint64 *again = ktest_vmalloc(PGSIZE);
  if(again)
    *ktest_direct((void *)again) = s.want = 2;
  s.phase = 3;
  int failed = 0;
  for(int i = 0; i < n; i++)
    failed += kthread_stop(threads[i]) != 0;
  if(again)
    vfree((void *)again);
  if(junk)
    kfree(junk);
  KT_ASSERT(n == ncpu, "could only start %d threads", n);
  KT_ASSERT(again == s.area, "the new area is at %p, not %p", again, s.area);
  KT_ASSERT(failed == 0, "%d of %d harts still read the unmapped page", failed, n);
  return 0;
}

static int
stack_probe(void *arg)
{
  volatile char buf[512];   // use the stack beyond the first frame
  buf[0] = 42;
  *(int *)arg = buf[0];
  return 42;
}

// Does a dead mm that a hart still borrows count every page it keeps as
// free-or-lazy (what the leak checks compare), so that dropping it later
// changes nothing? With KPTI it keeps a user root, a data page and their
// tables besides its root; counted as one page, a borrow that outlived
// usertests made ktest see 6 pages more after than before.
static int
lazy_root_pages_counted(char *msg)
{
  uint64 before = nr_free_or_lazy_pages();
  struct mm *mm = mm_alloc();
  KT_ASSERT(mm, "mm_alloc failed");
  mmgrab(mm);   // a borrow, as of a hart's active_mm
  mmput(mm);    // the last user goes: the root stays, lazily
  uint64 lazy = nr_free_or_lazy_pages();
  mmdrop(mm);
  uint64 after = nr_free_or_lazy_pages();
  KT_ASSERT(lazy == before && after == before,
            "free-or-lazy pages: %d before, %d with the dead mm borrowed, %d after",
            (int)before, (int)lazy, (int)after);
  return 0;
}

// Is a task's kernel stack made reachable in the root it runs on, even
// when that root is borrowed and lacks the stack's root entry?
static int
kstack_reachable_borrowed(char *msg)
{
  // Direct check of the switch-time sync.
  struct mm *mm = mm_alloc();
  KT_ASSERT(mm, "mm_alloc failed");
  void *stack = ktest_vmalloc(KSTACK_SIZE);
  struct proc *k = kthread_alloc(stack_probe, 0, "kt-stack", stack);
  if(k == 0){
    mmput(mm);
    KT_ASSERT(0, "kthread_alloc failed");
  }
  ktest_forget_region(mm->pgd);
  vmalloc_sync_stack(mm->pgd, k);
  pte_t synced = mm->pgd[KTEST_REGION_PGD];
  mmput(mm);
  // Now for real: run it on this hart, on our root, which lacks the entry.
  int out = 0;
  k->kthread_arg = &out;
  push_off();
  kthread_bind(k, cpuid());
  myproc()->cpu_allowed = cpuid();
  ktest_forget_region(current_pgd());
  kthread_start(k);
  pop_off();
  yield();   // k runs here, borrowing our root
  myproc()->cpu_allowed = -1;
  int ret = kthread_stop(k);
  KT_ASSERT(synced == kernel_pagetable[KTEST_REGION_PGD],
            "vmalloc_sync_stack did not copy the stack's root entry");
  KT_ASSERT(ret == 42 && out == 42, "the thread returned %d, wrote %d", ret, out);
  return 0;
}

const struct ktest vm_tests[] = {
  { "template_copy_new_mm", template_copy_new_mm },
  { "template_never_in_satp", template_never_in_satp },
  { "pte_u_g_bits", pte_u_g_bits },
  { "init_mm_lazy_sync", init_mm_lazy_sync },
  { "pgd_consistent_all_tasks", pgd_consistent_all_tasks },
  { "vmalloc_lazy_sync", vmalloc_lazy_sync },
  { "vmalloc_fault_refuses_unmapped", vmalloc_fault_refuses_unmapped },
  { "lazy_sync_many_harts", lazy_sync_many_harts },
  { "vfree_shootdown", vfree_shootdown },
  { "vmalloc_fault_race", vmalloc_fault_race },
  { "vfree_fence_covers_area", vfree_fence_covers_area },
  { "kstack_reachable_borrowed", kstack_reachable_borrowed },
  { "lazy_root_pages_counted", lazy_root_pages_counted },
  { 0, 0 },
};
