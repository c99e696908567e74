// testlib.c: helpers shared by canopy's test programs (usertests,
// sectests, exhaust, fuzz, kptitest, ptdump...): waiting for one child,
// memory accesses the compiler must emit exactly as written, numbers in
// decimal or hex, and the kernel-object counters the leak checks compare.
#include "kernel/types.h"
#include "kernel/kstat.h"
#include "user/user.h"

// The exit status of child pid, reaping any other children on the way;
// -1000 if pid is not a child.
int
waitfor(int pid)
{
  int st, r;
  while((r = wait(&st)) >= 0)
    if(r == pid)
      return st;
  return -1000;
}

// Hide a value from the optimizer, so an access through it is emitted
// as written (and a bad pointer is not folded into a trap at compile time).
uint64
launder(uint64 a)
{
  asm volatile("" : "+r"(a));
  return a;
}

void
loadfrom(uint64 a)
{
  uint64 v;
  asm volatile("ld %0, 0(%1)" : "=r"(v) : "r"(a) : "memory");
  (void)v;
}

void
storeto(uint64 a)
{
  asm volatile("sd zero, 0(%0)" : : "r"(a) : "memory");
}

// A number in decimal or, with 0x, hexadecimal.
uint64
atou64(const char *s)
{
  uint64 n = 0;
  if(s[0] == '0' && s[1] == 'x'){
    for(s += 2; *s; s++)
      n = n * 16 + (*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
    return n;
  }
  for(; *s >= '0' && *s <= '9'; s++)
    n = n * 10 + *s - '0';
  return n;
}

// ---- kernel objects, for leak checks -----------------------------------------

static const int kobj_stat[NKOBJ] = {
  KSTAT_FREEPAGES, KSTAT_MMS, KSTAT_TASKS, KSTAT_NR_FILES,
  KSTAT_NR_INODES, KSTAT_VMALLOC_AREAS,
};
const char *kobj_names[NKOBJ] = {
  "free_pages", "mms", "tasks", "open_files", "inodes", "vmalloc_areas",
};

// v[KOBJ_FREE] is what a leak check compares: the free pages, the roots
// kept by lazy borrowers and the dead stacks being freed (they are freed
// later, by whichever hart drops them: KSTAT_FREE_SOON), plus the
// page-table pages of the vmalloc area, which are kept for good once made
// (a kernel stack at an address never used before needs one; that is no
// leak).
void
kobj_read(long v[NKOBJ])
{
  for(int i = 0; i < NKOBJ; i++)
    v[i] = kstat(kobj_stat[i]);
  v[KOBJ_FREE] = kstat(KSTAT_FREE_SOON) + kstat(KSTAT_KERNEL_PT_PAGES);
}

// The first counter of now that is not back at base, or -1. More free
// pages than at the start is no leak: a process may still have been
// being freed when base was read.
int
kobj_differs(const long base[NKOBJ], const long now[NKOBJ])
{
  if(now[KOBJ_FREE] < base[KOBJ_FREE])
    return KOBJ_FREE;
  for(int i = 1; i < NKOBJ; i++)
    if(now[i] != base[i])
      return i;
  return -1;
}
