// vm.c: page tables: walking, mapping and unmapping, and the user half of
// an address space (allocate, copy for fork, free).
//
// A root page (pgd) has 512 entries: 0-255 map the user half, private to
// one mm; 256-511 are the kernel half, copied from kernel_pagetable and
// pointing at page-table pages that all mms share (mm.c, kvm.c). Nothing
// here ever frees a kernel-half page-table page.
//
// User leaves always have U and never G; kernel leaves the opposite.
//
// Copy-on-write (docs/cow.md): fork maps each user page into both address
// spaces, read-only and marked PTE_COW if it was writable, and counts the
// extra reference (kalloc.c). A store to such a page faults; do_wp_page()
// gives the faulting side its own copy, or the page itself when no other
// mapping holds it. copyout stores through the same hardware path, so a
// system call writing into a shared page breaks the sharing the same way.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"

// Return the address of the level-0 PTE for va in pgd. If a table on the
// way is missing: with alloc, allocate a zeroed one; without, return 0.
// Also returns 0 if allocation fails. pgd's caller must serialize changes.
pte_t *
walk(pagetable_t pgd, uint64 va, int alloc)
{
  pagetable_t table = pgd;
  for(int level = 2; level > 0; level--){
    pte_t *pte = &table[PX(level, va)];
    if(pte_present(*pte)){
      if(pte_leaf(*pte))
        panic("walk: superpage at level %d for %p", level, (void *)va);
      table = pte_table(*pte);
      continue;
    }
    if(!alloc || (table = kzalloc()) == 0)
      return 0;
    *pte = mk_pte(__pa(table), 0);
#ifdef KPTI
    if(level == 2 && va < MAXVA)
      mm_user_half_changed(pgd);   // the user root shares this table
#endif
  }
  return &table[PX(0, va)];
}

// Map [va, va+size) to physical [pa, pa+size) with permissions perm.
// va and size must be page-aligned and nothing may be mapped there yet.
// Returns 0, or -1 if a page-table page could not be allocated (pages
// mapped so far stay mapped; the caller unmaps them).
int
mappages(pagetable_t pgd, uint64 va, uint64 size, uint64 pa, int perm)
{
  if((va % PGSIZE) || (size % PGSIZE) || size == 0)
    panic("mappages: unaligned va %p size %p", (void *)va, (void *)size);
  for(uint64 off = 0; off < size; off += PGSIZE){
    pte_t *pte = walk(pgd, va + off, 1);
    if(pte == 0)
      return -1;
    if(pte_present(*pte))
      panic("mappages: %p is already mapped", (void *)(va + off));
    *pte = mk_pte(pa + off, perm);
  }
  return 0;
}

// The first address at or after va that pgd could map: va itself if the
// level-0 table for it exists, else the start of the next table past the
// missing one. Loops over a user half step over the holes that sbrklazy()
// leaves, which may span gigabytes, a table at a time.
static uint64
skip_hole(pagetable_t pgd, uint64 va)
{
  pagetable_t table = pgd;
  for(int level = 2; level > 0; level--){
    pte_t pte = table[PX(level, va)];
    if(!pte_present(pte))
      return (va | ((1UL << PXSHIFT(level)) - 1)) + 1;
    table = pte_table(pte);
  }
  return va;
}

// Remove the mappings of npages pages from va; pages that are not mapped
// are skipped. With do_free, give the physical pages back to kalloc.
// The caller flushes the TLB.
void
unmappages(pagetable_t pgd, uint64 va, uint64 npages, int do_free)
{
  if(va % PGSIZE)
    panic("unmappages: unaligned %p", (void *)va);
  uint64 end = va + npages * PGSIZE;
  for(uint64 a = skip_hole(pgd, va); a < end; a = skip_hole(pgd, a + PGSIZE)){
    pte_t *pte = walk(pgd, a, 0);
    if(pte == 0 || !pte_present(*pte))
      continue;
    if(!pte_leaf(*pte))
      panic("unmappages: %p is not a leaf", (void *)a);
    if(do_free)
      kfree(__va(PTE2PA(*pte)));
    *pte = 0;
  }
}

// Physical address of the user page at va, or 0 if it is not mapped or
// not user-accessible.
uint64
walkaddr(pagetable_t pgd, uint64 va)
{
  if(va >= MAXVA)
    return 0;
  pte_t *pte = walk(pgd, va, 0);
  if(pte == 0 || !pte_present(*pte) || !pte_user(*pte))
    return 0;
  return PTE2PA(*pte);
}

// Grow a user half from oldsz to newsz bytes with zeroed pages readable,
// writable and (per xperm) executable by the user. Returns newsz, or 0 on
// failure, with everything this call mapped undone.
uint64
uvmalloc(pagetable_t pgd, uint64 oldsz, uint64 newsz, int xperm)
{
  if(newsz <= oldsz)
    return oldsz;
  if(newsz > MAXVA)
    return 0;
  for(uint64 a = PGROUNDUP(oldsz); a < newsz; a += PGSIZE){
    void *page = kzalloc();
    if(page == 0){
      uvmdealloc(pgd, a, oldsz);
      return 0;
    }
    if(mappages(pgd, a, PGSIZE, __pa(page), PTE_R | PTE_W | PTE_U | xperm) < 0){
      kfree(page);
      uvmdealloc(pgd, a, oldsz);
      return 0;
    }
  }
  return newsz;
}

// Shrink a user half from oldsz to newsz bytes, freeing the pages.
// Returns newsz. The caller flushes this hart's TLB.
uint64
uvmdealloc(pagetable_t pgd, uint64 oldsz, uint64 newsz)
{
  if(newsz >= oldsz)
    return oldsz;
  uint64 from = PGROUNDUP(newsz), to = PGROUNDUP(oldsz);
  if(from < to)
    unmappages(pgd, from, (to - from) / PGSIZE, 1);
  return newsz;
}

// Copy-on-write events since boot (kstat cow_faults, cow_copies).
uint64 nr_cow_faults, nr_cow_copies;

// LAB cow BEGIN
// Share the user half [0, sz) of old with new (fork), copy-on-write: each
// mapped page gets a second mapping in new and one more reference
// (get_page). A writable page loses W in both tables and gains PTE_COW,
// so the first store on either side faults into do_wp_page(); a page the
// user could never write (text) is simply shared. Unmapped pages (the
// stack guard, heap pages that sbrklazy() left for their first touch)
// stay unmapped. old must be the root in this hart's satp (fork's
// parent): its TLB entries are flushed here; other harts flush when the
// parent next runs there (switch_mm). Returns 0, or -1 with new's user
// half left for the caller to free (old stays correct: a COW page with
// count 1 is taken back writable at its next store).
int
uvmcopy(pagetable_t old, pagetable_t new, uint64 sz)
{
  int r = 0, wrprotected = 0;
  for(uint64 va = skip_hole(old, 0); va < sz; va = skip_hole(old, va + PGSIZE)){
    pte_t *pte = walk(old, va, 0);
    if(pte == 0 || !pte_present(*pte))
      continue;
    if(*pte & PTE_W){
      *pte = (*pte & ~PTE_W) | PTE_COW;
      wrprotected = 1;
    }
    void *page = __va(PTE2PA(*pte));
    get_page(page);
    if(mappages(new, va, PGSIZE, __pa(page), PTE_FLAGS(*pte) & ~PTE_V) < 0){
      kfree(page);
      r = -1;
      break;
    }
  }
  // The parent's writable translations may be cached on every hart it
  // ran on: shoot them down there, with its ASID (uvmcopy runs in fork,
  // in the parent).
  if(wrprotected)
    flush_tlb_mm(myproc()->mm);
  return r;
}

// A store hit the copy-on-write page that pte maps at va in the current
// address space (Linux's do_wp_page). If this mapping holds the only
// reference left, take the page back writable; otherwise copy it into a
// new page, map that writable and drop a reference to the shared one.
// Returns 0, or -1 if no page is left for the copy (the caller kills the
// process, or copyout fails).
static int
do_wp_page(pte_t *pte, uint64 va)
{
  void *page = __va(PTE2PA(*pte));
  uint64 flags = (PTE_FLAGS(*pte) | PTE_W) & ~(PTE_COW | PTE_V);
  __atomic_add_fetch(&nr_cow_faults, 1, __ATOMIC_RELAXED);
  if(page_count(page) == 1){
    *pte = mk_pte(__pa(page), flags);   // the last reference: reuse it
  } else {
    void *copy = kalloc();
    if(copy == 0)
      return -1;
    memmove(copy, page, PGSIZE);
    *pte = mk_pte(__pa(copy), flags);
    kfree(page);
    __atomic_add_fetch(&nr_cow_copies, 1, __ATOMIC_RELAXED);
  }
  // Every hart this mm ran on may cache the read-only translation (of the
  // old page, after a copy): shoot it down there, not only here.
  flush_tlb_mm_range(myproc()->mm, va, va + PGSIZE);
  return 0;
}
// LAB cow STARTER
//> // Copy the user half [0, sz) of old into new, page by page, with the
//> // same permissions (fork). Unmapped pages (the stack guard, heap pages
//> // that sbrklazy() left for their first touch) stay unmapped. Returns 0,
//> // or -1 with new's user half left for the caller to free.
//> //
//> // TODO (cow): share the pages instead, copy-on-write, and write
//> // do_wp_page() for the store fault that breaks the sharing.
//> int
//> uvmcopy(pagetable_t old, pagetable_t new, uint64 sz)
//> {
//>   for(uint64 va = skip_hole(old, 0); va < sz; va = skip_hole(old, va + PGSIZE)){
//>     pte_t *pte = walk(old, va, 0);
//>     if(pte == 0 || !pte_present(*pte))
//>       continue;
//>     void *page = kalloc();
//>     if(page == 0)
//>       return -1;
//>     memmove(page, __va(PTE2PA(*pte)), PGSIZE);
//>     if(mappages(new, va, PGSIZE, __pa(page), PTE_FLAGS(*pte) & ~PTE_V) < 0){
//>       kfree(page);
//>       return -1;
//>     }
//>   }
//>   return 0;
//> }
//>
//> // TODO (cow): do_wp_page(), the store fault on a copy-on-write page.
// LAB cow END

// A user page fault at va in mm, the current task's address space (never
// NULL: kernel threads have no user memory); flags
// say whether it was a store (FAULT_FLAG_WRITE) and whether it came from
// user mode (FAULT_FLAG_USER) or from copyin/copyout. Two faults are
// fixed and return 0, so that the access is retried:
//   - a store to a copy-on-write page (do_wp_page);
//   - any access to a heap page that sbrklazy() left for the first touch:
//     a zeroed page is mapped there.
// Anything else returns -1, a real fault.
int
handle_mm_fault(struct mm *mm, uint64 va, int flags)
{
  if(va >= MAXVA)
    return -1;
  va = PGROUNDDOWN(va);
  pte_t *pte = walk(mm->pgd, va, 0);
  if(pte && pte_present(*pte)){
    // LAB cow BEGIN
    if((flags & FAULT_FLAG_WRITE) && (*pte & PTE_COW) && pte_user(*pte))
      return do_wp_page(pte, va);
    // LAB cow STARTER
    //> // TODO (cow): a store to a copy-on-write page goes to do_wp_page().
    // LAB cow END
    return -1;   // mapped already: a permission fault
  }
  if(va < mm->start_brk || va >= mm->brk)
    return -1;
  void *page = kzalloc();
  if(page == 0)
    return -1;
  if(mappages(mm->pgd, va, PGSIZE, __pa(page), PTE_R | PTE_W | PTE_U) < 0){
    kfree(page);
    return -1;
  }
  // The failed walk may be cached (the privileged spec allows it), so
  // the retried access could fault again on a real hart.
  local_flush_tlb_page(va);
  return 0;
}

// Free a page-table page of the user half and every table below it. The
// leaves must already be unmapped.
static void
free_table(pagetable_t table, int level)
{
  for(int i = 0; i < PTRS_PER_TABLE; i++){
    pte_t pte = table[i];
    if(!pte_present(pte))
      continue;
    if(pte_leaf(pte) || level == 0)
      panic("free_table: leaf still mapped at level %d", level);
    free_table(pte_table(pte), level - 1);
  }
  kfree(table);
}

// Free the whole user half of pgd: the pages in [0, sz) and the user
// page-table pages. Root entries 0-255 end up zero; the kernel half is
// untouched. The caller flushes the TLB of any hart using pgd.
void
uvmfree_user(pagetable_t pgd, uint64 sz)
{
  unmappages(pgd, 0, PGROUNDUP(sz) / PGSIZE, 1);
  for(int i = 0; i < KERNEL_PGD_FIRST; i++){
    if(pte_present(pgd[i])){
      free_table(pte_table(pgd[i]), 1);
      pgd[i] = 0;
    }
  }
}

// Copy len bytes from kernel memory to user address dstva of pgd, through
// the direct map, for an address space that is not (yet) in satp: exec
// fills the new stack this way. Returns 0, or -1 if a page is not mapped.
int
copy_to_pgd(pagetable_t pgd, uint64 dstva, const void *src, uint64 len)
{
  while(len > 0){
    uint64 page = PGROUNDDOWN(dstva);
    uint64 pa = walkaddr(pgd, page);
    if(pa == 0)
      return -1;
    uint64 n = PGSIZE - (dstva - page);
    if(n > len)
      n = len;
    memmove((char *)__va(pa) + (dstva - page), src, n);
    len -= n;
    src = (const char *)src + n;
    dstva += n;
  }
  return 0;
}
