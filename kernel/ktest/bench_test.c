// bench_test.c: timing loops for make bench (user/bench.c), not tests:
// each does KBENCH_OPS operations that user space cannot start by itself,
// and the caller times the whole ktest() call from user space. ktest()
// runs them only when named (ktest.c), so `ktest` alone skips them.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"
#include "kernel/ktest/ktest.h"
#include "kernel/ktest/kbench.h"

// Body of the partner thread: hand the hart back until stopped.
static int
yield_until_stopped(void *arg)
{
  while(!kthread_should_stop())
    yield();
  return 0;
}

// One op: this task yields to a kernel thread bound to the same hart,
// which yields straight back (two switches, lazy: no satp write).
static int
bench_kthread_switch(char *msg)
{
  struct proc *k = kthread_alloc(yield_until_stopped, 0, "kb-yield",
                                 kstack_alloc_thread());
  KT_ASSERT(k, "kthread_alloc failed");
  push_off();
  int cpu = mycpu()->id;
  kthread_bind(k, cpu);
  myproc()->cpu_allowed = cpu;
  kthread_start(k);
  pop_off();
  for(int i = 0; i < KBENCH_OPS; i++)
    yield();
  myproc()->cpu_allowed = -1;
  kthread_stop(k);
  return 0;
}

// One op: forget the test region's root entry in this hart's root (with
// the local flush that needs), then read through it: a kernel page fault
// that copies the entry from the template.
static int
bench_lazy_sync(char *msg)
{
  volatile uint64 *area = ktest_vmalloc(PGSIZE);
  KT_ASSERT(area, "vmalloc in the test region failed");
  *ktest_direct((void *)area) = 1;
  push_off();
  pagetable_t pgd = current_pgd();
  uint64 sum = 0;
  for(int i = 0; i < KBENCH_OPS; i++){
    ktest_forget_region(pgd);
    sum += *area;
  }
  pop_off();
  vfree((void *)area);
  KT_ASSERT(sum == KBENCH_OPS, "read a sum of %ld through the area, want %d",
            sum, KBENCH_OPS);
  return 0;
}

// One op: vmalloc 16 KB, write each page, vfree it.
static int
bench_vmalloc_16k(char *msg)
{
  for(int i = 0; i < KBENCH_OPS; i++){
    char *p = vmalloc(4 * PGSIZE);
    KT_ASSERT(p, "vmalloc of 16 KB failed at op %d", i);
    for(int off = 0; off < 4 * PGSIZE; off += PGSIZE)
      p[off] = 1;
    vfree(p);
  }
  return 0;
}

const struct ktest bench_tests[] = {
  { "bench_kthread_switch", bench_kthread_switch },
  { "bench_lazy_sync", bench_lazy_sync },
  { "bench_vmalloc_16k", bench_vmalloc_16k },
  { 0, 0 },
};
