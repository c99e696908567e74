# trapentry.S: every trap, from user or kernel mode, enters at trap_entry
# (stvec). There is no trampoline and satp is never written here
# (invariant 5): the kernel half is mapped in every page table, so the
# kernel's code and stacks are always reachable.
#
# sscratch tells where the trap came from: while a task runs in user mode
# it holds the task (struct proc *); in the kernel it is 0. tp holds the
# current task while in the kernel.
#
# Registers are saved in a struct pt_regs on the task's kernel stack. A
# trap from user mode starts with an empty kernel stack, so the user's
# registers always sit at the top of it (task->regs).

#include "kernel/asm-offsets.h"
#include "kernel/memlayout.h"

# Save x1, x3..x31 (not sp, saved by the caller) and the trap CSRs at sp.
.macro SAVE_REGS
  sd x1, 1*8(sp)
  sd x3, 3*8(sp)
  sd x4, 4*8(sp)
  .irp n, 5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  sd x\n, \n*8(sp)
  .endr
  csrr t0, sepc
  sd t0, PT_EPC(sp)
  csrr t0, sstatus
  sd t0, PT_STATUS(sp)
  csrr t0, scause
  sd t0, PT_CAUSE(sp)
  csrr t0, stval
  sd t0, PT_TVAL(sp)
  # A trap during a uaccess copy leaves SUM set; the handler must not run
  # with user memory open to it (sret restores the saved sstatus).
  li t0, 1 << 18
  csrc sstatus, t0
.endm

# Restore sepc, sstatus and every register but tp and sp from sp.
.macro RESTORE_REGS
  ld t0, PT_EPC(sp)
  csrw sepc, t0
  ld t0, PT_STATUS(sp)
  csrw sstatus, t0
  ld x1, 1*8(sp)
  ld x3, 3*8(sp)
  .irp n, 5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  ld x\n, \n*8(sp)
  .endr
.endm

.section .text
.balign 4
.globl trap_entry
trap_entry:
  csrrw tp, sscratch, tp      # user: tp = task; kernel: tp = 0
  bnez tp, .Lfrom_user

.Lfrom_kernel:
  csrrw tp, sscratch, zero    # tp = current task again, sscratch = 0
  # A kernel stack overflow lands in the guard page; saving registers
  # there would fault again forever. Check before pushing the frame.
  csrw sscratch, t0
  ld t0, TASK_KSTACK_BASE(tp)
  addi t0, t0, PT_SIZE
  bltu sp, t0, .Lstack_overflow
  csrrw t0, sscratch, zero
  addi sp, sp, -PT_SIZE
  SAVE_REGS
  addi t0, sp, PT_SIZE
  sd t0, 2*8(sp)              # sp before the trap
  mv a0, sp
  call kernel_trap
.Lkernel_trap_ret:
  RESTORE_REGS
  ld tp, 4*8(sp)
  ld sp, 2*8(sp)
  sret

.Lstack_overflow:
  # (kstack_base is 0 while a hart still runs on its boot stack: no check.)
  mv t0, sp
  la sp, overflow_stack + 4096
  addi sp, sp, -PT_SIZE
  sd t0, 2*8(sp)
  csrrw t0, sscratch, zero
  SAVE_REGS
  mv a0, sp
  call kernel_stack_overflow   # does not return

.Lfrom_user:
.globl trap_entry_from_user   # KPTI=1: kpti_entry.S comes here, on the kernel root
trap_entry_from_user:
  sd sp, TASK_SCRATCH(tp)
  ld sp, TASK_KSTACK_TOP(tp)
  addi sp, sp, -PT_SIZE
  SAVE_REGS
  ld t0, TASK_SCRATCH(tp)
  sd t0, 2*8(sp)              # user sp
  csrrw t0, sscratch, zero    # user tp; sscratch = 0: now in the kernel
  sd t0, 4*8(sp)
  mv a0, sp
  call user_trap
  # fall through: return to user mode with the registers at sp

# Return to user mode. sp = the task's pt_regs, interrupts off, and
# regs->status prepared by user_trap_return() (SPP = user, SPIE = 1).
.globl ret_to_user
ret_to_user:
#ifdef KPTI
  # The kernel stack is not in the user root: move the user's sp and tp to
  # the data page, restore the rest here, and switch roots in kpti_entry.S.
  li t0, KPTI_DATA_VA
  ld t1, 2*8(sp)
  sd t1, KD_USP(t0)
  ld t1, 4*8(sp)
  sd t1, KD_UTP(t0)
  csrw sscratch, t0           # back to "in user mode": the data page
  mv tp, t0
  RESTORE_REGS
  ld sp, KD_USP(tp)
  j kpti_return
#else
  csrw sscratch, tp           # back to "in user mode"
  RESTORE_REGS
  ld tp, 4*8(sp)
  ld sp, 2*8(sp)
  sret
#endif

# void enter_user(struct pt_regs *regs): leave the kernel for good on this
# stack, for a task's first return to user mode.
.globl enter_user
enter_user:
  mv sp, a0
  j ret_to_user

.section .bss
.balign 16
overflow_stack:
  .space 4096

# Where kernel_trap returns to: backtraces cross trap frames there
# (panic.c). Data, not a text label, so that the symbol table does not
# name the rest of trap_entry after it.
.section .rodata
.balign 8
.globl kernel_trap_ret
kernel_trap_ret:
  .dword .Lkernel_trap_ret
