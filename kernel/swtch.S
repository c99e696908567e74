# swtch.S: void swtch(struct context *old, struct context *new)
# Save the callee-saved registers of the running task in old and load
# new's. tp is part of the context, so the new task becomes current.
# Returns in the new task, at new->ra.

#include "kernel/asm-offsets.h"

.section .text
.globl swtch
swtch:
  sd ra, CTX_RA(a0)
  sd sp, CTX_SP(a0)
  sd tp, CTX_TP(a0)
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
  sd s\n, CTX_S0+\n*8(a0)
  .endr

  ld ra, CTX_RA(a1)
  ld sp, CTX_SP(a1)
  ld tp, CTX_TP(a1)
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
  ld s\n, CTX_S0+\n*8(a1)
  .endr
  ret
