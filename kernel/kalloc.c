// kalloc.c: the physical page allocator. Pages are handed out by their
// direct-map address. Freed pages form a list threaded through their first
// word. Pages never used yet are not on the list: they are handed out from
// the untouched ranges in address order, so boot does not have to write
// to every page of RAM (that took 2 s of a 1 GiB boot under QEMU).
// kmem.lock protects the list, the ranges and the count.
//
// Managed: all RAM the device tree reports, less OpenSBI (below the
// kernel's load address), the kernel image and the device-tree blob.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/defs.h"

extern char _kernel_end[];   // first address after the kernel (kernel.ld)

struct run {
  struct run *next;
};

// A physical range of pages never handed out: [next, end).
struct fresh_range {
  uint64 next, end;
};

static struct {
  struct spinlock lock;
  struct run *freelist;
  struct fresh_range fresh[2];   // RAM below and above the device tree
  uint64 nfree;                  // free pages: list plus fresh ranges
} kmem;

static void
add_fresh(int i, uint64 pa_start, uint64 pa_end)
{
  pa_start = PGROUNDUP(pa_start);
  pa_end = PGROUNDDOWN(pa_end);
  if(pa_end <= pa_start)
    return;
  kmem.fresh[i] = (struct fresh_range){ .next = pa_start, .end = pa_end };
  kmem.nfree += (pa_end - pa_start) / PGSIZE;
}

void
kinit(void)
{
  initlock(&kmem.lock, "kmem");
  uint64 start = __pa(_kernel_end);
  // The blob normally lies above the kernel; keep it out.
  if(dtb_start >= start && dtb_end <= ram_end){
    add_fresh(0, start, dtb_start);
    add_fresh(1, dtb_end, ram_end);
  } else {
    add_fresh(0, start, ram_end);
  }
}

// Take a page from the fresh ranges, or return 0. Caller holds kmem.lock.
static void *
take_fresh(void)
{
  for(int i = 0; i < NELEM(kmem.fresh); i++){
    struct fresh_range *r = &kmem.fresh[i];
    if(r->next < r->end){
      r->next += PGSIZE;
      return __va(r->next - PGSIZE);
    }
  }
  return 0;
}

// Return a page to the free list. In debug builds (-DDEBUG) it is filled
// with junk so that a use after free shows up as garbage.
void
kfree(void *page)
{
  uint64 pa = __pa(page);
  if((pa % PGSIZE) != 0 || pa < __pa(_kernel_end) || pa >= ram_end)
    panic("kfree: bad page %p", page);
#ifdef DEBUG
  memset(page, 0x5a, PGSIZE);
#endif
  struct run *r = page;
  acquire(&kmem.lock);
  r->next = kmem.freelist;
  kmem.freelist = r;
  kmem.nfree++;
  release(&kmem.lock);
}

// Allocate one page, not zeroed. Returns 0 when memory is exhausted.
void *
kalloc(void)
{
  acquire(&kmem.lock);
  struct run *r = kmem.freelist;
  if(r)
    kmem.freelist = r->next;
  else
    r = take_fresh();
  if(r)
    kmem.nfree--;
  release(&kmem.lock);
#ifdef DEBUG
  if(r)
    memset(r, 0xa5, PGSIZE);
#endif
  return r;
}

uint64
nr_free_pages(void)
{
  return kmem.nfree;
}
