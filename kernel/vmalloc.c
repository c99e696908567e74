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
// Lock order: vmalloc_lock, then kmem.lock.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/asm-offsets.h"
#include "kernel/defs.h"

#define MAX_AREAS (NPROC * 2 + 64)

// An allocated area: [start, start + size) is mapped, the page after it
// is the guard.
struct vm_area {
  uint64 start;
  uint64 size;
};

static struct spinlock vmalloc_lock;
static struct vm_area areas[MAX_AREAS];  // sorted by start
static int nareas;

void
vmalloc_init(void)
{
  initlock(&vmalloc_lock, "vmalloc");
#ifdef VMSYNC_PREALLOC
  for(uint64 va = VMALLOC_START; va < VMALLOC_END; va += 1UL << PXSHIFT(2)){
    pte_t *root = &kernel_pagetable[PX(2, va)];
    pagetable_t pmd = kalloc();
    if(pmd == 0)
      panic("vmalloc_init: out of memory");
    memset(pmd, 0, PGSIZE);
    *root = mk_pte(__pa(pmd), 0);
  }
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

// Remove the area starting at start; returns its size, or 0 if there is
// none. Caller holds vmalloc_lock.
static uint64
area_remove(uint64 start)
{
  for(int i = 0; i < nareas; i++){
    if(areas[i].start == start){
      uint64 size = areas[i].size;
      nareas--;
      memmove(&areas[i], &areas[i + 1], (nareas - i) * sizeof(areas[0]));
      return size;
    }
  }
  return 0;
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
                PTE_R | PTE_W | PTE_G) < 0){
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

// A kernel stack for a user task or an idle task, in the first region.
void *
vmalloc_task_stack(void)
{
  return __vmalloc_range(KSTACK_SIZE, VMALLOC_START, VMALLOC_STACKS_END);
}

// How many vmalloc areas (kernel stacks included) are allocated?
int
vmalloc_nr_areas(void)
{
  acquire(&vmalloc_lock);
  int n = nareas;
  release(&vmalloc_lock);
  return n;
}

// Free an area returned by vmalloc. Every hart's TLB forgets it before its
// pages are reused.
void
vfree(void *addr)
{
  acquire(&vmalloc_lock);
  uint64 size = area_remove((uint64)addr);
  if(size == 0)
    panic("vfree: %p was not allocated by vmalloc", addr);
  unmap_area((uint64)addr, size);
  release(&vmalloc_lock);
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

// Called around the sync code with this hart's counts from before it:
// if the code copied a root entry but did not flush, count and report the
// bug once (tlbflush.c says why the kernel checks this itself).
// Interrupts must be off, so that the counts are this hart's.
void
vmalloc_check_flushed(uint64 syncs, uint64 flushes, const char *where)
{
  static int warned;
  struct cpu *c = mycpu();
  if(c->nr_vmalloc_syncs == syncs || c->nr_tlb_flushes != flushes)
    return;
  c->nr_unflushed_syncs++;
  if(!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
    printf("vmsync: %s copied a root entry without a TLB flush; "
           "a real hart may fault again (kstat unflushed_syncs)\n", where);
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
