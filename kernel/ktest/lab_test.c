// lab_test.c: self-tests written for the labs' graders (grade/): checks
// of a lab's contract that the subject suites leave open. vmsync: the
// fault path syncs vmalloc addresses only, never a mapped direct-map one.
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

const struct ktest lab_tests[] = {
  { "vmalloc_fault_only_vmalloc", vmalloc_fault_only_vmalloc },
  { 0, 0 },
};
