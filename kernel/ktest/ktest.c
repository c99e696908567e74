// ktest.c: the kernel self-test runner behind the ktest() system call
// (user program ktest). Each test runs in the calling process's system
// call, so it may sleep, create kernel threads and compare counters. It
// prints "ktest NAME: OK" or "ktest NAME: FAIL (what was expected, what
// happened)". Tests live in one file per subject: vm_test.c (page tables,
// vmalloc, lazy sync, shootdown), sched_test.c (kernel threads, active_mm,
// mm counts). bench_test.c holds make bench's timing loops, which run only
// when named.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/asm-offsets.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"
#include "kernel/ktest/ktest.h"

static const struct ktest *suites[] = { vm_tests, sched_tests, asid_tests, lab_tests,
                                        bench_tests };
#define NAMED_ONLY bench_tests   // make bench's timing loops: not tests

// vmalloc in the region reserved for the tests.
void *
ktest_vmalloc(uint64 size)
{
  return __vmalloc_range(size, VMALLOC_KTEST_START, VMALLOC_END);
}

// The direct-map alias of a mapped vmalloc address, found through the
// template: lets a test write a page without touching its vmalloc address.
uint64 *
ktest_direct(void *vaddr)
{
  pte_t *pte = walk(kernel_pagetable, (uint64)vaddr, 0);
  if(pte == 0 || !pte_present(*pte))
    panic("ktest_direct: %p not mapped", vaddr);
  return (uint64 *)__va(PTE2PA(*pte) + ((uint64)vaddr & (PGSIZE - 1)));
}

// Make pgd look like a root copied before the test region's root entry
// existed. Any root but the template, init_mm's included. Interrupts must
// be off (the caller must not migrate).
void
ktest_forget_region(pagetable_t pgd)
{
  if(pgd == kernel_pagetable)
    panic("ktest_forget_region: the template itself");
  pgd[KTEST_REGION_PGD] = 0;
  local_flush_tlb_all();
}

struct percpu_run {
  int (*fn)(void *);
  void *arg;
};

// Run fn(arg) in one kernel thread bound to each hart, all at once, and
// wait for them. Returns the number of threads whose fn returned non-zero,
// or -1 if they could not be created.
int
ktest_run_on_every_cpu(int (*fn)(void *), void *arg, const char *name)
{
  struct proc *threads[NCPU];
  int n = 0, failed = 0;
  for(int cpu = 0; cpu < ncpu; cpu++){
    threads[cpu] = kthread_alloc(fn, arg, name, kstack_alloc_thread());
    if(threads[cpu] == 0)
      break;
    kthread_bind(threads[cpu], cpu);
    n++;
  }
  for(int i = 0; i < n; i++)
    kthread_start(threads[i]);
  for(int i = 0; i < n; i++)
    if(kthread_stop(threads[i]) != 0)
      failed++;
  return n == ncpu ? failed : -1;
}

static int
run_one(const struct ktest *t)
{
  char msg[KTEST_MSG];
  msg[0] = 0;
  int r = t->fn(msg);
  if(r == 0)
    printf("ktest %s: OK\n", t->name);
  else
    printf("ktest %s: FAIL (%s)\n", t->name, msg);
  return r != 0;
}

// ktest(name): run the test called name, or every test if name is ""
// (make bench's timing loops only by name).
// Returns the number of failures, or -1 if no test has that name.
uint64
sys_ktest(void)
{
  char name[32];
  if(argstr(0, name, sizeof(name)) < 0)
    return -1;
  int ran = 0, failed = 0;
  for(int s = 0; s < NELEM(suites); s++){
    if(name[0] == 0 && suites[s] == NAMED_ONLY)
      continue;
    for(const struct ktest *t = suites[s]; t->name; t++){
      if(name[0] && strncmp(name, t->name, sizeof(name)) != 0)
        continue;
      failed += run_one(t);
      ran++;
    }
  }
  return ran ? failed : -1;
}
