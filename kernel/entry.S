# entry.S: the first instructions of every hart.
#
# OpenSBI enters in S mode with the MMU off: a0 = hart id, a1 = the device
# tree's physical address for the boot hart, or the opaque value given to
# SBI hart_start (the cpu index) for a secondary hart. QEMU jumps to the
# lowest load address, so _start must be the first byte of .text.
#
# The code here runs at physical addresses although it is linked in the
# direct map. It only uses pc-relative addressing (la is auipc-based with
# -mcmodel=medany) until the MMU is on and it has jumped to its link address.

#include "kernel/memlayout.h"
#include "kernel/asm-offsets.h"

.section .text.entry
.globl _start
_start:
  # Only one hart should come here, but OpenSBI v1.1 on a busy host has
  # been seen to send a second one (with the device tree in a1), which
  # then booted the kernel again on the same boot stack. The first hart to
  # swap boot_lottery from 0 wins; a later one hands itself back to SBI
  # (HSM hart_stop), and start_secondaries() starts it again properly.
  la t0, boot_lottery
  li t1, 1
  amoswap.w t1, t1, (t0)
  bnez t1, .Llost_lottery
  mv s0, a0               # hart id
  mv s1, a1               # device tree
  li s2, 0                # the boot hart is cpu 0
  j common_start
.Llost_lottery:
  li a7, 0x48534D         # SBI extension HSM
  li a6, 1                # hart_stop: does not return if it succeeds
  ecall
  j .Llost_lottery

.globl secondary_start
secondary_start:
  mv s0, a0               # hart id
  li s1, 0
  mv s2, a1               # cpu index, passed through hart_start
  
common_start:
  csrw sie, zero
  csrw sscratch, zero     # 0 means "in the kernel" to trap_entry
  # Turn on paging with early_pgd: it maps RAM both at its physical
  # address (so the next instruction can be fetched) and in the direct map.
  la t0, early_pgd
  srli t0, t0, 12
  li t1, 8 << 60          # Sv39
  or t0, t0, t1
  sfence.vma
  csrw satp, t0           # boot: the first satp write; later ones go through load_mm
  sfence.vma
  # Jump to the link (direct-map) address of the code below.
  la t0, .Lhigh_addr
  ld t0, 0(t0)
  jr t0
.Lhigh:
  # Now running in the direct map; la gives virtual addresses.
  la sp, boot_stacks
  addi t0, s2, 1
  li t1, BOOT_STACK_SIZE
  mul t0, t0, t1
  add sp, sp, t0
  mv a0, s0
  mv a1, s1
  mv a2, s2
  bnez s2, 1f
  call start_kernel
  j .
1:
  call start_secondary
  j .

.balign 8
.Lhigh_addr:
  .dword .Lhigh

.section .data
.balign 4
boot_lottery:
  .word 0

# early_pgd: 1 GiB leaf mappings, RWX, global. Entry 2 maps physical
# 0x80000000 at itself; entries 256-259 map physical 0-4 GiB at PAGE_OFFSET.
# mm_borrow_init() leaves it for init_mm's root, whose kernel half is the
# template's (kvminit: 4 KiB, W^X mappings).
#define GIGA_LEAF(gib) ((((gib) << 30) >> 12) << 10 | 0xef)
.section .data.pgd
.balign 4096
.globl early_pgd
early_pgd:
  .dword 0, 0
  .dword GIGA_LEAF(2)
  .fill 253, 8, 0
  .dword GIGA_LEAF(0), GIGA_LEAF(1), GIGA_LEAF(2), GIGA_LEAF(3)
  .fill 252, 8, 0

.section .bss
.balign 16
.globl boot_stacks
boot_stacks:
  .space BOOT_STACK_SIZE * 8
