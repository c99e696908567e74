// kalloc.c: the physical page allocator. Pages are handed out by their
// direct-map address. Free pages form a list threaded through their first
// word; kmem.lock protects the list and the count.
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

static struct {
  struct spinlock lock;
  struct run *freelist;
  uint64 nfree;
} kmem;

static void
free_range(uint64 pa_start, uint64 pa_end)
{
  for(uint64 pa = PGROUNDUP(pa_start); pa + PGSIZE <= pa_end; pa += PGSIZE)
    kfree(__va(pa));
}

void
kinit(void)
{
  initlock(&kmem.lock, "kmem");
  uint64 start = __pa(_kernel_end);
  // The blob normally lies above the kernel; keep it out of the free list.
  if(dtb_start >= start && dtb_end <= ram_end){
    free_range(start, PGROUNDDOWN(dtb_start));
    free_range(PGROUNDUP(dtb_end), ram_end);
  } else {
    free_range(start, ram_end);
  }
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
  if(r){
    kmem.freelist = r->next;
    kmem.nfree--;
  }
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
