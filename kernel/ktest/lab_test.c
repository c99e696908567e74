// lab_test.c: self-tests written for the labs' graders (grade/): checks
// of a lab's contract that the subject suites leave open. vmsync: the
// fault path syncs vmalloc addresses only, never a mapped direct-map one.
// lazytlb: a switch from one kernel thread to another counts as lazy.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"
#include "kernel/ktest/ktest.h"

static volatile uint64 probe_data;

// Does vmalloc_fault refuse kernel addresses outside the vmalloc area,
// even mapped ones (so a stray kernel access panics instead of looping)?
static int
vmalloc_fault_only_vmalloc(char *msg)
{
  uint64 data = (uint64)&probe_data;
  uint64 text = (uint64)&vmalloc_fault_only_vmalloc;
  push_off();
  int d = vmalloc_fault(data);
  int t = vmalloc_fault(text);
  int above = vmalloc_fault(VMALLOC_END);
  pop_off();
  KT_ASSERT(!d, "vmalloc_fault accepted %p, a mapped direct-map data address", (void *)data);
  KT_ASSERT(!t, "vmalloc_fault accepted %p, a kernel text address", (void *)text);
  KT_ASSERT(!above, "vmalloc_fault accepted VMALLOC_END");
  return 0;
}

static volatile int kk_arrived;

// Body of the kernel -> kernel test: wait until both threads are
// runnable, then hand the hart to the other one 50 times.
static int
kk_pong(void *arg)
{
  __atomic_fetch_add(&kk_arrived, 1, __ATOMIC_ACQ_REL);
  for(uint64 t0 = ticks; kk_arrived < 2 && ticks - t0 < 100; )
    yield();
  for(int i = 0; i < 50; i++)
    yield();
  return 0;
}

// Are switches between two kernel threads (kernel -> kernel: the borrow
// moves on) counted in nr_lazy_switches, like user -> kernel ones? With
// several harts the two threads share the last hart, and this task stays
// off it, so that no user task runs there meanwhile.
static int
kthread_to_kthread_lazy(char *msg)
{
  int cpu = ncpu - 1;
  kk_arrived = 0;
  struct proc *a = kthread_alloc(kk_pong, 0, "kt-kk-a", kstack_alloc_thread());
  struct proc *b = kthread_alloc(kk_pong, 0, "kt-kk-b", kstack_alloc_thread());
  KT_ASSERT(a && b, "kthread_alloc failed");
  if(ncpu > 1){
    myproc()->cpu_allowed = 0;
    yield();                        // now on hart 0
  }
  kthread_bind(a, cpu);
  kthread_bind(b, cpu);
  uint64 lazy0 = __atomic_load_n(&cpus[cpu].nr_lazy_switches, __ATOMIC_RELAXED);
  kthread_start(a);
  kthread_start(b);
  kthread_stop(a);
  kthread_stop(b);
  uint64 lazy = __atomic_load_n(&cpus[cpu].nr_lazy_switches, __ATOMIC_RELAXED) - lazy0;
  myproc()->cpu_allowed = -1;
  KT_ASSERT(kk_arrived == 2, "only %d of the 2 threads ran", kk_arrived);
  KT_ASSERT(lazy >= 50, "%ld lazy switches on hart %d while two kernel threads "
            "took turns 100 times, want >= 50", lazy, cpu);
  return 0;
}

const struct ktest lab_tests[] = {
  { "vmalloc_fault_only_vmalloc", vmalloc_fault_only_vmalloc },
  { "kthread_to_kthread_lazy", kthread_to_kthread_lazy },
  { 0, 0 },
};
