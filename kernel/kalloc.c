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
//
// Every managed page has a reference count (Linux's page_count), kept in
// an array carved out of the first fresh pages at boot. kalloc() hands a
// page out with count 1; fork's copy-on-write sharing adds one per extra
// mapping (get_page); kfree() drops one and frees the page only when the
// last reference goes. A free page has count 0, so freeing it again
// panics. Counts change with atomic instructions, never under kmem.lock.
// nr_shared counts the pages whose count is 2 or more.
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
  int kzerod_asleep;             // kzerod sleeps on &kmem.zeroed: wake it
} kmem;

#define ZERO_POOL_HIGH 64   // kzerod fills the pool up to this many pages
#define ZERO_POOL_LOW  32   // and is woken when it falls below this

static struct proc *kzerod_task;

// LAB cow BEGIN
static uint32 *page_refs;    // one count per page from ref_base on
static uint64 ref_base;      // physical address of the first counted page
static uint64 nr_shared;     // pages with a count of 2 or more
// LAB cow STARTER
//> // TODO (cow): a reference count per physical page.
// LAB cow END

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

// LAB cow BEGIN
// Carve the reference counts out of the start of a fresh range (the first
// one with room): one uint32 per page from the end of the kernel to the
// end of RAM. Those pages are never handed out, so they are not counted
// free.
static void
refs_init(void)
{
  ref_base = PGROUNDUP(__pa(_kernel_end));
  uint64 bytes = (ram_end - ref_base) / PGSIZE * sizeof(uint32);
  uint64 npages = PGROUNDUP(bytes) / PGSIZE;
  for(int i = 0; i < NELEM(kmem.fresh); i++){
    struct fresh_range *r = &kmem.fresh[i];
    if(r->end - r->next >= npages * PGSIZE){
      page_refs = __va(r->next);
      memset(page_refs, 0, npages * PGSIZE);
      r->next += npages * PGSIZE;
      kmem.nfree -= npages;
      return;
    }
  }
  panic("kinit: no room for %d page counts", (int)(bytes / sizeof(uint32)));
}

// The reference count of the page at direct-map address page.
static uint32 *
page_ref(void *page)
{
  uint64 pa = __pa(page);
  if((pa % PGSIZE) != 0 || pa < ref_base || pa >= ram_end)
    panic("page_ref: bad page %p", page);
  return &page_refs[(pa - ref_base) / PGSIZE];
}

// Add a reference to an allocated page (fork sharing it copy-on-write).
void
get_page(void *page)
{
  uint32 old = __atomic_fetch_add(page_ref(page), 1, __ATOMIC_ACQ_REL);
  if(old == 0)
    panic("get_page: free page %p", page);
  if(old == 1)
    __atomic_add_fetch(&nr_shared, 1, __ATOMIC_RELAXED);
}

// The number of references to page: 1 if only one mapping (or the
// kernel) holds it. A count read as 1 cannot rise behind the caller's
// back if the caller holds that one reference.
int
page_count(void *page)
{
  return __atomic_load_n(page_ref(page), __ATOMIC_ACQUIRE);
}

// Pages held by two references or more (kstat shared_pages).
uint64
nr_shared_pages(void)
{
  return __atomic_load_n(&nr_shared, __ATOMIC_RELAXED);
}

// Drop one reference; return 1 if it was the last (the page must be
// freed now). Panics on a page that is already free.
static int
put_page_ref(void *page)
{
  uint32 old = __atomic_fetch_sub(page_ref(page), 1, __ATOMIC_ACQ_REL);
  if(old == 0)
    panic("kfree: page %p is already free", page);
  if(old == 2)
    __atomic_sub_fetch(&nr_shared, 1, __ATOMIC_RELAXED);
  return old == 1;
}

// A page leaves the allocator: it has one reference, its taker's.
static void
set_page_ref_one(void *page)
{
  __atomic_store_n(page_ref(page), 1, __ATOMIC_RELEASE);
}
// LAB cow STARTER
//> // TODO (cow): refs_init(), get_page(), page_count(), nr_shared_pages()
//> // and the two helpers kalloc.c uses, put_page_ref() and
//> // set_page_ref_one(). Until then a page has no count: every kfree()
//> // frees it, and nothing is ever shared.
//> static void refs_init(void) { }
//> void get_page(void *page) { panic("get_page: no reference counts yet"); }
//> int page_count(void *page) { return 1; }
//> uint64 nr_shared_pages(void) { return 0; }
//> static int put_page_ref(void *page) { return 1; }
//> static void set_page_ref_one(void *page) { }
// LAB cow END

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
  refs_init();
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

// Drop a reference to a page; with the last one, return the page to the
// free list. In debug builds (-DDEBUG) a freed page is filled with junk
// so that a use after free shows up as garbage.
void
kfree(void *page)
{
  uint64 pa = __pa(page);
  if((pa % PGSIZE) != 0 || pa < __pa(_kernel_end) || pa >= ram_end)
    panic("kfree: bad page %p", page);
  if(!put_page_ref(page))
    return;   // still mapped elsewhere (copy-on-write)
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
      spin_relax();
  }
  if(r)
    kmem.nfree--;
  release(&kmem.lock);
  if(r)
    set_page_ref_one(r);
#ifdef DEBUG
  if(r)
    memset(r, 0xa5, PGSIZE);
#endif
  return r;
}

// Zero a page, 64 bytes a step: eight stores and two instructions of
// loop, where memset's loop spends two for every store (check
// kernel.asm: GCC may turn such a loop into a call of memset).
static void
clear_page(void *page)
{
  for(uint64 *p = page, *end = p + PGSIZE / 8; p < end; p += 8){
    p[0] = 0; p[1] = 0; p[2] = 0; p[3] = 0;
    p[4] = 0; p[5] = 0; p[6] = 0; p[7] = 0;
  }
}

// Allocate one zeroed page: from kzerod's pool when it has one, else a
// free page zeroed here (one kmem.lock for either). Returns 0 when memory
// is exhausted. kzerod is woken once as the pool runs low, not at every
// call: wakeup() scans every task.
void *
kzalloc(void)
{
  acquire(&kmem.lock);
  struct run *r = kmem.zeroed;
  int dirty = 0;
  if(r){
    kmem.zeroed = r->next;
    kmem.nzeroed--;
  } else if((r = take_unzeroed()) != 0){
    dirty = 1;
  }
  if(r)
    kmem.nfree--;
  int wake = kmem.nzeroed < ZERO_POOL_LOW && kmem.kzerod_asleep;
  if(wake)
    kmem.kzerod_asleep = 0;
  release(&kmem.lock);
  if(wake)
    wakeup(&kmem.zeroed);
  if(r == 0){
    // Only the page kzerod is zeroing may be left: kalloc() waits for it
    // (and sets its count).
    r = kalloc();
    if(r)
      clear_page(r);
    return r;
  }
  set_page_ref_one(r);
  if(dirty)
    clear_page(r);
  else
    r->next = 0;   // the only word the pool wrote
  return r;
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
      kmem.kzerod_asleep = 1;   // kzalloc() clears it as it wakes us
      sleep(&kmem.zeroed, &kmem.lock);
      kmem.kzerod_asleep = 0;   // (or we woke for kthread_stop)
      release(&kmem.lock);
      continue;
    }
    kmem.zeroing = 1;
    push_off();               // interrupts stay off after the release
    release(&kmem.lock);
    clear_page(r);
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
