// vmalloc.c: the vmalloc area and the lazy sync of its root entries.
//
// vmalloc(size) hands out page-granular, virtually contiguous kernel
// memory in [VMALLOC_START, VMALLOC_END) (regions: memlayout.h), backed by
// pages from kalloc and
// mapped only in kernel_pagetable. Each area is followed by an unmapped
// guard page, and the area's first byte follows one (the first area starts
// a page into the region), so a kernel stack overflowing downwards faults.
//
// Lazy sync (invariant 3): when an area needs a root entry that the
// template did not have, the entry is created in the template only. A
// root copied earlier lacks it; the first kernel access through such a
// root faults, and vmalloc_fault() copies that one entry from the
// template into the root in satp. Kernel stacks cannot wait for that (the
// fault handler needs the stack), so switching to a task first syncs its
// stack's entry (vmalloc_sync_stack, invariant 8).
//
// With VMSYNC=prealloc all 64 root entries of the area are filled at boot,
// as Linux does since 6.5, and no sync ever happens.
//
// Freeing an area unmaps it, shoots it down from every hart's TLB and
// then frees its pages. The shootdown is slow (an IPI to every hart and a
// wait for each, tlbflush.c: milliseconds under QEMU, far more on a loaded
// host), so it runs with no lock held: until the fence is done the area
// stays in areas[], marked dying, so its range is not handed out again,
// and its PTEs keep their page numbers with V clear, so the pages are
// found afterwards. Held across the fence, vmalloc_lock stopped every
// fork (which allocates a stack) on every hart, and a caller's own lock
// (kstack_dead) kept harts spinning with interrupts off for seconds on 8
// harts (found by the lock checker, kernel/lockdep.c).
//
// Lock order: vmalloc_lock, then kmem.lock.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

#define MAX_AREAS (NPROC * 2 + 64)

// An allocated area: [start, start + size) is mapped, the page after it
// is the guard. A dying area is being freed: unmapped, not yet forgotten
// by every TLB.
struct vm_area {
  uint64 start;
  uint64 size;
  int dying;
};

// Run by the kernel page-fault path before vmalloc_fault(), when a
// self-test sets it (ktest vmalloc_fault_race orders two harts with it).
void (*vmalloc_fault_hook)(uint64 addr);

static struct spinlock vmalloc_lock;
static struct vm_area areas[MAX_AREAS];  // sorted by start
static int nareas;

// Give the template root entry idx of the vmalloc area (an empty pmd).
static void
create_root_entry(int idx)
{
  pagetable_t pmd = kalloc();
  if(pmd == 0)
    panic("vmalloc_init: out of memory");
  memset(pmd, 0, PGSIZE);
  kernel_pagetable[idx] = mk_pte(__pa(pmd), 0);
}

// Runs on the boot hart before init_mm's root is copied from the
// template. The root entry of the task-stack region (320) is created now,
// so that every root has it: each hart's idle task gets its stack there
// at the end of boot, before any sync could be needed, and the vmsync
// lab's starter, which has no sync, must still boot. Every other entry
// is created by the first vmalloc that needs it, and reaches older roots
// lazily; with VMSYNC=prealloc all 64 are created now.
void
vmalloc_init(void)
{
  initlock(&vmalloc_lock, "vmalloc");
  create_root_entry(VMALLOC_PGD_FIRST);
#ifdef VMSYNC_PREALLOC
  for(int idx = VMALLOC_PGD_FIRST + 1; idx <= VMALLOC_PGD_LAST; idx++)
    create_root_entry(idx);
#endif
}

// Find the lowest gap in [lo, hi) for size bytes plus the guard page after
// them, and record an area there. The first area of a range starts one
// page in, so it too has a guard page below. Returns its start, or 0.
// Caller holds vmalloc_lock.
static uint64
area_insert(uint64 size, uint64 lo, uint64 hi)
{
  if(nareas == MAX_AREAS)
    return 0;
  uint64 start = lo + PGSIZE;
  int i = 0;
  for(; i < nareas; i++){
    uint64 end_of_area = areas[i].start + areas[i].size + PGSIZE;
    if(end_of_area <= start)
      continue;                       // wholly below the candidate
    if(start + size + PGSIZE <= areas[i].start)
      break;                          // the candidate fits before it
    start = end_of_area;              // its guard page is our lower guard
  }
  if(start + size + PGSIZE > hi)
    return 0;
  memmove(&areas[i + 1], &areas[i], (nareas - i) * sizeof(areas[0]));
  areas[i] = (struct vm_area){ .start = start, .size = size };
  nareas++;
  return start;
}

// The area starting at start, or 0. Caller holds vmalloc_lock.
static struct vm_area *
area_find(uint64 start)
{
  for(int i = 0; i < nareas; i++)
    if(areas[i].start == start)
      return &areas[i];
  return 0;
}

// Remove the area starting at start; returns its size, or 0 if there is
// none. Caller holds vmalloc_lock.
static uint64
area_remove(uint64 start)
{
  struct vm_area *a = area_find(start);
  if(a == 0)
    return 0;
  uint64 size = a->size;
  int i = a - areas;
  nareas--;
  memmove(&areas[i], &areas[i + 1], (nareas - i) * sizeof(areas[0]));
  return size;
}

// Unmap [va, va+size) from the template, make every hart forget it, then
// free the pages. Caller holds vmalloc_lock.
static void
unmap_area(uint64 va, uint64 size)
{
  uint64 pages[64];
  uint64 npages = size / PGSIZE;
  for(uint64 done = 0; done < npages; done += NELEM(pages)){
    uint64 n = npages - done < NELEM(pages) ? npages - done : NELEM(pages);
    uint64 base = va + done * PGSIZE;
    for(uint64 i = 0; i < n; i++){
      pte_t *pte = walk(kernel_pagetable, base + i * PGSIZE, 0);
      pages[i] = pte && pte_present(*pte) ? PTE2PA(*pte) : 0;
      if(pte)
        *pte = 0;
    }
    // No hart may still reach the pages when they are reused (invariant 10).
    flush_tlb_kernel_range(base, n * PGSIZE);
    for(uint64 i = 0; i < n; i++)
      if(pages[i])
        kfree(__va(pages[i]));
  }
}

// Allocate size bytes (rounded up to pages) of virtually contiguous kernel
// memory inside [lo, hi), not zeroed. Returns 0 if that range or memory is
// exhausted. Mapping a page may create a root entry in the template that
// older roots lack: they get it lazily.
void *
__vmalloc_range(uint64 size, uint64 lo, uint64 hi)
{
  if(size == 0 || size > hi - lo)
    return 0;
  size = PGROUNDUP(size);
  acquire(&vmalloc_lock);
  uint64 start = area_insert(size, lo, hi);
  if(start == 0){
    release(&vmalloc_lock);
    return 0;
  }
  for(uint64 off = 0; off < size; off += PGSIZE){
    void *page = kalloc();
    if(page == 0 ||
       mappages(kernel_pagetable, start + off, PGSIZE, __pa(page),
                PTE_R | PTE_W | PTE_KERNEL_G) < 0){
      if(page)
        kfree(page);
      unmap_area(start, off);
      area_remove(start);
      release(&vmalloc_lock);
      return 0;
    }
  }
  release(&vmalloc_lock);
  return (void *)start;
}

// General-purpose vmalloc: anywhere in the regions after the first.
void *
vmalloc(uint64 size)
{
  return __vmalloc_range(size, VMALLOC_STACKS_END, VMALLOC_KTEST_START);
}

// Clear V in the leaf PTEs of [va, va+size), keeping the page numbers.
// No lock: the area is dying, so nobody else touches these PTEs.
static void
invalidate_area(uint64 va, uint64 size)
{
  for(uint64 off = 0; off < size; off += PGSIZE){
    pte_t *pte = walk(kernel_pagetable, va + off, 0);
    if(pte)
      *pte &= ~PTE_V;
  }
}

// Free the pages of the invalidated area [va, va+size) and zero its PTEs.
static void
free_area_pages(uint64 va, uint64 size)
{
  for(uint64 off = 0; off < size; off += PGSIZE){
    pte_t *pte = walk(kernel_pagetable, va + off, 0);
    if(pte && *pte){
      kfree(__va(PTE2PA(*pte)));
      *pte = 0;
    }
  }
}

// Free an area returned by vmalloc: every hart's TLB forgets it before its
// pages are reused (invariant 10). If lk is not 0, the pages are freed and
// *count lowered by n in one critical section of lk, so that a reader
// holding lk sees the pages either counted in *count or free, never both
// (kstack.c's free_soon). Neither vmalloc_lock nor lk is held across the
// shootdown.
void
vfree_counted(void *addr, struct spinlock *lk, uint64 *count, uint64 n)
{
  uint64 va = (uint64)addr;
  acquire(&vmalloc_lock);
  struct vm_area *a = area_find(va);
  if(a == 0 || a->dying)
    panic("vfree: %p was not allocated by vmalloc", addr);
  a->dying = 1;
  uint64 size = a->size;
  release(&vmalloc_lock);

  invalidate_area(va, size);
  flush_tlb_kernel_range(va, size);

  if(lk)
    acquire(lk);
  free_area_pages(va, size);
  // Atomic: a count like kstack.c's dead_pages is raised without lk.
  if(count && __atomic_fetch_sub(count, n, __ATOMIC_RELAXED) < n)
    panic("vfree_counted: the count went below 0");
  if(lk)
    release(lk);

  acquire(&vmalloc_lock);
  area_remove(va);
  release(&vmalloc_lock);
}

void
vfree(void *addr)
{
  vfree_counted(addr, 0, 0, 0);
}

// How many areas are allocated now?
int
vmalloc_nr_areas(void)
{
  acquire(&vmalloc_lock);
  int n = nareas;
  release(&vmalloc_lock);
  return n;
}

// How many page-table pages does the template's vmalloc area use? They
// are never freed: a leak check adds them to the free pages.
int
vmalloc_nr_table_pages(void)
{
  int n = 0;
  acquire(&vmalloc_lock);
  for(int i = VMALLOC_PGD_FIRST; i <= VMALLOC_PGD_LAST; i++){
    if(!pte_present(kernel_pagetable[i]))
      continue;
    pagetable_t pmd = pte_table(kernel_pagetable[i]);
    n++;
    for(int j = 0; j < PTRS_PER_TABLE; j++)
      n += pte_present(pmd[j]);
  }
  release(&vmalloc_lock);
  return n;
}

// Copy root entry idx from the template into pgd if pgd lacks it.
// Returns 1 if it copied.
int
sync_root_entry(pagetable_t pgd, int idx)
{
  // LAB vmsync BEGIN
  pte_t want = kernel_pagetable[idx];
  if(!pte_present(want) || pgd[idx] == want)
    return 0;
  if(pte_present(pgd[idx]))
    panic("vmalloc sync: root entry %d differs from the template", idx);
  pgd[idx] = want;
  mycpu()->nr_vmalloc_syncs++;
  return 1;
  // LAB vmsync STARTER
  //> // TODO (vmsync): if the template has root entry idx and pgd does not,
  //> // copy it into pgd, count it in this hart's nr_vmalloc_syncs and
  //> // return 1. Return 0 if there was nothing to copy.
  //> return 0;
  // LAB vmsync END
}

// A kernel-mode load or store page fault at addr in the vmalloc area. If
// the template maps addr's root entry and the root in satp does not, copy
// the entry and return 1: the faulting access is retried. If the root
// already has the template's entry (another hart sharing this root synced
// it a moment ago) and the template maps addr, also retry. Otherwise
// return 0, a real bug: the caller panics rather than loop. Reads satp,
// not the task: a kernel thread runs on a borrowed root.
int
vmalloc_fault(uint64 addr)
{
  // LAB vmsync BEGIN
  if(addr < VMALLOC_START || addr >= VMALLOC_END)
    return 0;
  pagetable_t pgd = current_pgd();
  int idx = PX(2, addr);
  if(!sync_root_entry(pgd, idx)){
    pte_t *pte = walk(kernel_pagetable, addr, 0);
    if(pgd[idx] != kernel_pagetable[idx] || pte == 0 || !pte_present(*pte))
      return 0;
  }
  local_flush_tlb_page(addr);
  return 1;
  // LAB vmsync STARTER
  //> // TODO (vmsync): the root in satp (current_pgd(), not the task's) may
  //> // lack addr's root entry. Copy it from the template (sync_root_entry),
  //> // flush addr from this hart's TLB (local_flush_tlb_page) and return
  //> // 1 so the access is retried. Return 0 for anything else: not a
  //> // vmalloc address, or a root that already has the entry while the
  //> // template maps nothing at addr (the caller then panics instead of
  //> // looping).
  //> return 0;
  // LAB vmsync END
}

// Called where a root entry may be used for [lo, hi) right after the
// sync code ran on this hart, since mark: after the fault path (lo =
// the faulting address), before the access is retried, and after the
// stack sync of a switch (a stack), before the task runs. If the code
// copied a root entry since mark, or must_flush (the fault path: the
// failed walk itself may be cached, even when another hart made the
// copy), a flush of all of [lo, hi) must have followed (invariant 11).
// Otherwise count and report the bug once (tlbflush.c says why the
// kernel checks this itself). Interrupts must be off.
void
vmalloc_check_flushed(struct tlb_mark mark, uint64 lo, uint64 hi, int must_flush,
                      const char *where)
{
  static int warned;
  struct cpu *c = mycpu();
  uint64 copies = c->nr_vmalloc_syncs - mark.syncs;
  if((copies == 0 && !must_flush) || tlb_flushed_since(mark, lo, hi))
    return;
  c->nr_unflushed_syncs += copies ? copies : 1;
  if(!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
    printf("vmsync: %s used a root entry for [%p, %p) with no TLB flush of it "
           "after the copy; a real hart may fault again (kstat unflushed_syncs)\n",
           where, (void *)lo, (void *)hi);
}

// The same for the stacks a switch may have synced: p's, whole.
void
vmalloc_check_stack_flushed(struct tlb_mark mark, struct proc *p)
{
  if(p->kstack_base)
    vmalloc_check_flushed(mark, p->kstack_base, p->kstack_top, 0,
                          "the stack sync of a switch");
}

// Make p's kernel stack reachable through pgd before p runs on it.
// Interrupts are off (called during a context switch).
void
vmalloc_sync_stack(pagetable_t pgd, struct proc *p)
{
  // LAB vmsync BEGIN
  if(p->kstack_base && sync_root_entry(pgd, PX(2, p->kstack_base)))
    local_flush_tlb_all();
  // LAB vmsync STARTER
  //> // TODO (vmsync): p is about to run on pgd. A fault on its kernel stack
  //> // could not be handled (the handler needs that stack), so copy the
  //> // root entry of p->kstack_base into pgd now if it is missing, and
  //> // flush this hart's TLB (local_flush_tlb_all) if you did.
  // LAB vmsync END
}
