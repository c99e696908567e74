// tlbflush.c: flushing TLBs, counted (Linux's arch/riscv/mm/tlbflush.c).
//
// Every flush the mm code does goes through these functions, so each hart
// counts its flushes (kstat tlb_flushes) and the remote fences it sends
// (kstat remote_fences). Each flush of this hart also records how many
// root entries the hart had copied by then (syncs_flushed), which lets
// the kernel check a rule that QEMU cannot show (invariant 11): after
// copying a root entry into a root a hart may already be walking, that
// hart must flush before it relies on the entry. The privileged spec lets a hart cache a
// failed walk, so on real hardware the retried access may fault again;
// QEMU caches only successful walks, so there the bug is silent.
// vmalloc_check_flushed() (vmalloc.c) compares the two counts where the
// entry is about to be used: a flush done before the copy does not count.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// Count a flush of this hart's TLB that is about to happen.
static void
count_local_flush(void)
{
  struct cpu *c = mycpu();
  c->nr_tlb_flushes++;
  c->syncs_flushed = c->nr_vmalloc_syncs;
}

// Flush this hart's whole TLB.
void
local_flush_tlb_all(void)
{
  count_local_flush();
  sfence_vma();
}

// Flush this hart's translations of the page holding va.
void
local_flush_tlb_page(uint64 va)
{
  count_local_flush();
  sfence_vma_addr(va);
}

// Flush [start, start + size) of the kernel half from every hart's TLB,
// this one included; returns when all have done it. With several harts
// one SBI remote fence covers them all, the caller's too.
void
flush_tlb_kernel_range(uint64 start, uint64 size)
{
  push_off();
  if(ncpu == 1){
    local_flush_tlb_all();
  } else {
    count_local_flush();          // the fence covers this hart too
    mycpu()->nr_remote_fences++;
    // M-mode delivers the fence to the other harts even while they (or
    // we) have S-mode interrupts off, so waiting here cannot deadlock.
    sbi_remote_sfence_vma(0, start, size);
  }
  pop_off();
}
