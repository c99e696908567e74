// memlayout.h: the physical and virtual memory layout, in one place.
//
// Virtual address space (Sv39, 39-bit sign-extended addresses):
//
//   0xffffffffffffffff +--------------------------+
//                      | unused (root 384-511)    |
//   0xffffffe000000000 +--------------------------+ VMALLOC_END
//                      | vmalloc area, 64 GiB     |  kernel stacks (with
//                      | (root entries 320-383)   |  guard pages), buffers
//   0xffffffd000000000 +--------------------------+ VMALLOC_START
//                      | direct map, 64 GiB       |  VA = PA + PAGE_OFFSET:
//                      | (root entries 256-319)   |  devices, RAM, kernel
//   0xffffffc000000000 +--------------------------+ PAGE_OFFSET
//                      | non-canonical hole       |
//   0x0000004000000000 +--------------------------+ MAXVA
//                      | 2 pages never mapped     |
//   0x0000003fffffe000 +--------------------------+ USER_TOP
//                      | user: text, data, guard, |
//                      | stack, heap (sbrk)       |
//   0x0000000000000000 +--------------------------+
//
// Physical memory on QEMU virt (docs/design.md, "Memory layout"):
//   0x00101000 goldfish RTC, 0x0c000000 PLIC, 0x10000000 UART,
//   0x10001000 + n*0x1000 virtio-mmio, 0x80000000 RAM (OpenSBI first),
//   0x80200000 the kernel image.
#ifndef CANOPY_MEMLAYOUT_H
#define CANOPY_MEMLAYOUT_H

// The user heap ends at USER_TOP at most. The two pages above it stay
// unmapped: xv6 keeps its trampoline and trapframe there, and xv6 programs
// (usertests' lazy_sbrk) expect sbrk to stop at TRAPFRAME. canopy has
// neither page; TRAPFRAME is only that limit under xv6's name.
#define USER_TOP       (MAXVA - 2 * PGSIZE)
#define TRAPFRAME      USER_TOP

#define TIMEBASE_HZ    10000000   // QEMU virt's time CSR frequency

#define PAGE_OFFSET    0xffffffc000000000UL
#define VMALLOC_START  0xffffffd000000000UL
#define VMALLOC_END    0xffffffe000000000UL

#define KERNEL_PGD_FIRST   256  // first root entry of the kernel half
// The KPTI=1 build maps each mm's data page here (root entry 384, otherwise
// unused), in both of the mm's roots (kernel/kpti.c).
#ifdef __ASSEMBLER__
#define KPTI_DATA_VA   0xffffffe000000000
#else
#define KPTI_DATA_VA   0xffffffe000000000UL
#endif
#define VMALLOC_PGD_FIRST  320  // root entries of the vmalloc area
#define VMALLOC_PGD_LAST   383

// The vmalloc area is used in 1 GiB regions (one root entry each):
//   root 320       kernel stacks of user tasks and idle tasks
//   root 321-382   vmalloc(): kernel threads' stacks and other buffers
//   root 383       reserved for the kernel self-tests (kernel/ktest/)
#define VMALLOC_REGION_SIZE  (1UL << 30)
#define VMALLOC_STACKS_END   (VMALLOC_START + VMALLOC_REGION_SIZE)
#define VMALLOC_KTEST_START  (VMALLOC_END - VMALLOC_REGION_SIZE)

// Kernel stacks (kstack.c): each task's, in the vmalloc area with a guard
// page below; and each hart's boot stack (entry.S, in .bss), used until
// its idle task runs.
#define KSTACK_PAGES     4
#define KSTACK_SIZE      (KSTACK_PAGES * 4096)
#define BOOT_STACK_SIZE  8192

#define RAM_BASE        0x80000000UL  // physical start of RAM
#define KERNEL_LOAD_PA  0x80200000UL  // where OpenSBI jumps to

// Direct-map address of the start of RAM (xv6's name).
#define KERNBASE (PAGE_OFFSET + RAM_BASE)

// Device physical addresses
#define UART0_PA      0x10000000UL
#define UART0_IRQ     10
#define VIRTIO0_PA    0x10001000UL
#define VIRTIO_STRIDE 0x1000UL
#define VIRTIO_COUNT  8
#define VIRTIO0_IRQ   1
#define PLIC_PA       0x0c000000UL
#define PLIC_SIZE     0x400000UL
#define RTC_PA        0x00101000UL

#ifndef __ASSEMBLER__
// Translation between physical addresses and their direct-map addresses.
#define __va(pa) ((void *)((uint64)(pa) + PAGE_OFFSET))
#define __pa(va) ((uint64)(va) - PAGE_OFFSET)
#endif

// Device registers as the kernel sees them, through the direct map.
#define UART0   (PAGE_OFFSET + UART0_PA)
#define VIRTIO0 (PAGE_OFFSET + VIRTIO0_PA)
#define PLIC    (PAGE_OFFSET + PLIC_PA)
#define RTC     (PAGE_OFFSET + RTC_PA)

#endif
