// umalloc.c: malloc and free for user programs.
// A first-fit allocator over one free list kept in address order, so
// that free() can merge a block with the free neighbours on each side.
// Memory comes from sbrk, at least GROWUNITS units at a time, and is
// never returned to the kernel.
#include "kernel/types.h"
#include "user/user.h"

// Every block, free or in use, starts with a header. Sizes count units
// of one header (16 bytes), the header included, so every block and
// every pointer malloc returns is 16-byte aligned.
struct header {
  struct header *next;  // next free block by address (free blocks only)
  uint64 units;         // size of this block in units
};

#define UNIT       sizeof(struct header)
#define GROWUNITS  4096          // 64 KiB per sbrk at least

static struct header *freelist;  // lowest free block, or 0

// Put block b on the free list, merging it with a free block that ends
// where it starts and with one that starts where it ends.
void
free(void *ap)
{
  struct header *b, *prev, *p;

  if(ap == 0)
    return;
  b = (struct header*)ap - 1;

  // Find prev < b < p.
  prev = 0;
  for(p = freelist; p != 0 && p < b; p = p->next)
    prev = p;

  if(p != 0 && b + b->units == p){
    b->units += p->units;
    b->next = p->next;
  } else {
    b->next = p;
  }

  if(prev != 0 && prev + prev->units == b){
    prev->units += b->units;
    prev->next = b->next;
  } else if(prev != 0){
    prev->next = b;
  } else {
    freelist = b;
  }
}

// Ask the kernel for room for at least units more units and add it to
// the free list. Returns 0 if sbrk fails.
static int
grow(uint64 units)
{
  struct header *b;
  char *p;

  if(units < GROWUNITS)
    units = GROWUNITS;
  if(units * UNIT > 0x7fffffff)
    return 0;
  // Someone else may have left the break unaligned: step to a unit.
  p = sbrk(0);
  if((uint64)p % UNIT != 0 && sbrk(UNIT - (uint64)p % UNIT) == (char*)-1)
    return 0;
  p = sbrk(units * UNIT);
  if(p == (char*)-1)
    return 0;
  b = (struct header*)p;
  b->units = units;
  free(b + 1);
  return 1;
}

// Take units units from the first free block big enough, or return 0.
// A larger block is split; its tail is handed out.
static void*
take(uint64 units)
{
  struct header *prev = 0, *p;

  for(p = freelist; p != 0; prev = p, p = p->next){
    if(p->units < units)
      continue;
    if(p->units == units){
      if(prev)
        prev->next = p->next;
      else
        freelist = p->next;
    } else {
      p->units -= units;
      p += p->units;
      p->units = units;
    }
    return p + 1;
  }
  return 0;
}

void*
malloc(uint nbytes)
{
  uint64 units;
  void *p;

  units = ((uint64)nbytes + UNIT - 1) / UNIT + 1;
  if((p = take(units)) != 0)
    return p;
  if(!grow(units))
    return 0;
  return take(units);
}
