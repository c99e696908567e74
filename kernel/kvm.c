// kvm.c: kernel_pagetable, the template of every kernel half.
//
// kernel_pagetable maps the direct map (devices, the kernel image with
// W^X, the rest of RAM) at boot, and gains vmalloc mappings later
// (vmalloc.c). Every mm's root copies its entries 256-511 (mm.c),
// init_mm's too. No hart ever runs on it: it is only the template
// (invariants 1 and 2 of docs/design.md); harts go from early_pgd
// straight to init_mm's root (mm_borrow_init).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

pagetable_t kernel_pagetable;

extern char _kernel_start[], _etext[], _erodata[], _kernel_end[];

// Map a physical range into the direct map with kernel-only, global
// leaves (invariant 4: G, never U).
static void
kvm_map_direct(uint64 pa_start, uint64 pa_end, int perm)
{
  uint64 va = (uint64)__va(PGROUNDDOWN(pa_start));
  uint64 size = PGROUNDUP(pa_end) - PGROUNDDOWN(pa_start);
  if(mappages(kernel_pagetable, va, size, PGROUNDDOWN(pa_start), perm | PTE_KERNEL_G) < 0)
    panic("kvm_map_direct: out of memory");
}

// Build kernel_pagetable. Runs once, on the boot hart, before any other
// hart or task exists.
void
kvminit(void)
{
  kernel_pagetable = kalloc();
  memset(kernel_pagetable, 0, PGSIZE);

  kvm_map_direct(RTC_PA, RTC_PA + PGSIZE, PTE_R | PTE_W);
  kvm_map_direct(PLIC_PA, PLIC_PA + PLIC_SIZE, PTE_R | PTE_W);
  kvm_map_direct(UART0_PA, UART0_PA + PGSIZE, PTE_R | PTE_W);
  kvm_map_direct(VIRTIO0_PA, VIRTIO0_PA + VIRTIO_COUNT * VIRTIO_STRIDE,
                 PTE_R | PTE_W);

  // The kernel image, W^X: text R-X, rodata (and the symbol table) R--,
  // data and bss RW-. OpenSBI's memory below the image is not mapped.
  kvm_map_direct(__pa(_kernel_start), __pa(_etext), PTE_R | PTE_X);
  kvm_map_direct(__pa(_etext), __pa(_erodata), PTE_R);
  kvm_map_direct(__pa(_erodata), __pa(_kernel_end), PTE_R | PTE_W);
  // The rest of RAM: page tables, pages for users, buffers.
  kvm_map_direct(__pa(_kernel_end), ram_end, PTE_R | PTE_W);
}
