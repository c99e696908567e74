// kalloc.c: the physical page allocator. Pages are handed out by their
// direct-map address. Freed pages form a list threaded through their first
// word. Pages never used yet are not on the list: they are handed out from
// the untouched ranges in address order, so boot does not have to write
// to every page of RAM (that took 2 s of a 1 GiB boot under QEMU).
// kmem.lock protects the lists, the ranges and the count.
//
// [kzerod], a kernel thread, keeps a pool of pages zeroed ahead of demand,
// so that kzalloc(), used for page tables and user memory, rarely has to
// zero a page while a process waits. Pooled pages count as free.
//
// Managed: all RAM the device tree reports, less OpenSBI (below the
// kernel's load address), the kernel image and the device-tree blob.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
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
  struct run *zeroed;            // pages kzerod has zeroed
  uint64 nzeroed;
  uint64 nfree;                  // free pages: lists plus fresh ranges
  int zeroing;                   // kzerod holds a page off the lists
} kmem;

#define ZERO_POOL_HIGH 64   // kzerod fills the pool up to this many pages
#define ZERO_POOL_LOW  32   // and is woken when it falls below this

static struct proc *kzerod_task;

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

// Take a free page that is not in the zeroed pool: from the free list,
// else the fresh ranges. Returns 0 if there is none. Caller holds
// kmem.lock; the count is the caller's business.
static struct run *
take_unzeroed(void)
{
  struct run *r = kmem.freelist;
  if(r){
    kmem.freelist = r->next;
    return r;
  }
  return take_fresh();
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
  struct run *r;
  for(;;){
    acquire(&kmem.lock);
    r = take_unzeroed();
    if(r == 0 && (r = kmem.zeroed) != 0){   // last resort: the zeroed pool
      kmem.zeroed = r->next;
      kmem.nzeroed--;
    }
    if(r || !kmem.zeroing)
      break;
    // Only the page kzerod is zeroing is left. It is counted free, so
    // wait the microseconds until it is in the pool rather than fail.
    release(&kmem.lock);
    while(__atomic_load_n(&kmem.zeroing, __ATOMIC_ACQUIRE))
      ;
  }
  if(r)
    kmem.nfree--;
  release(&kmem.lock);
#ifdef DEBUG
  if(r)
    memset(r, 0xa5, PGSIZE);
#endif
  return r;
}

// Allocate one zeroed page, from kzerod's pool when it has one. Returns
// 0 when memory is exhausted.
void *
kzalloc(void)
{
  acquire(&kmem.lock);
  struct run *r = kmem.zeroed;
  if(r){
    kmem.zeroed = r->next;
    kmem.nzeroed--;
    kmem.nfree--;
  }
  int wake = kmem.nzeroed < ZERO_POOL_LOW && kzerod_task;
  release(&kmem.lock);
  if(wake)
    wakeup(&kmem.zeroed);
  if(r){
    r->next = 0;   // the only word the pool wrote
    return r;
  }
  void *page = kalloc();
  if(page)
    memset(page, 0, PGSIZE);
  return page;
}

// [kzerod]: zero free pages into the pool while it is below
// ZERO_POOL_HIGH, then sleep until kzalloc() drains it. A page being
// zeroed is off the lists but still counted free (kmem.zeroing), so it
// is zeroed with interrupts off: kzerod cannot be switched out holding
// it, and kalloc() may spin until it is back.
static int
kzerod(void *arg)
{
  while(!kthread_should_stop()){
    acquire(&kmem.lock);
    struct run *r = 0;
    if(kmem.nzeroed < ZERO_POOL_HIGH)
      r = take_unzeroed();
    if(r == 0){
      sleep(&kmem.zeroed, &kmem.lock);
      release(&kmem.lock);
      continue;
    }
    kmem.zeroing = 1;
    push_off();               // interrupts stay off after the release
    release(&kmem.lock);
    memset(r, 0, PGSIZE);
    acquire(&kmem.lock);
    r->next = kmem.zeroed;
    kmem.zeroed = r;
    kmem.nzeroed++;
    __atomic_store_n(&kmem.zeroing, 0, __ATOMIC_RELEASE);
    release(&kmem.lock);
    pop_off();
  }
  return 0;
}

void
kzerod_start(void)
{
  kzerod_task = kthread_create(kzerod, 0, "kzerod");
}

uint64
nr_free_pages(void)
{
  return kmem.nfree;
}
