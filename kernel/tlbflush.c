// tlbflush.c: flushing TLBs, counted (Linux's arch/riscv/mm/tlbflush.c).
//
// Every flush the mm code does goes through these functions, so each hart
// counts its flushes (kstat tlb_flushes). The count lets the kernel check
// a rule that QEMU cannot show: after copying a root entry into a root a
// hart may already be walking, that hart must flush before it relies on
// the entry. The privileged spec lets a hart cache a failed walk, so on
// real hardware the retried access may fault again; QEMU caches only
// successful walks, so there the bug is silent. vmalloc_check_flushed()
// (vmalloc.c) compares the counts around the sync code instead.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// Flush this hart's whole TLB.
void
local_flush_tlb_all(void)
{
  mycpu()->nr_tlb_flushes++;
  sfence_vma();
}

// Flush this hart's translations of the page holding va.
void
local_flush_tlb_page(uint64 va)
{
  mycpu()->nr_tlb_flushes++;
  sfence_vma_addr(va);
}

// Flush [start, start + size) of the kernel half from every hart's TLB,
// this one included; returns when all have done it. With several harts
// one SBI remote fence covers them all, the caller's too.
void
flush_tlb_kernel_range(uint64 start, uint64 size)
{
  if(ncpu == 1){
    push_off();
    local_flush_tlb_all();
    pop_off();
    return;
  }
  sbi_remote_sfence_vma(0, start, size);
}
