# kpti_entry.S: with KPTI=1, the only kernel code mapped in a user root (one
# page, section .text.kpti; kernel/kpti.c). stvec points here.
#
# In user mode sscratch holds KPTI_DATA_VA, the mm's data page (struct
# kpti_data), which both of the mm's roots map. Entry parks t0 there, loads
# the kernel root's satp from it, and only then goes on to trapentry.S,
# which then sees what a trap from user mode without KPTI leaves: tp = the
# task, sscratch = the user's tp. Exit (ret_to_user in trapentry.S) restores the
# user registers on the kernel root and comes here to switch to the user
# root as the very last step. Each switch flushes only when ASIDs are off.
# These are the KPTI=1 exceptions to invariants 5 and 6: traps write satp.
# Each sfence is counted in the data page (nflush), read into kstat's
# kpti_flushes by kpti_prepare_return.

#include "kernel/asm-offsets.h"

#ifdef KPTI
.section .text.kpti, "ax"
.balign 4096
.globl kpti_text_start
kpti_text_start:

.globl kpti_trap_entry
kpti_trap_entry:
  csrrw tp, sscratch, tp      # user: tp = the data page; kernel: tp = 0
  bnez tp, 1f
  csrrw tp, sscratch, tp      # from the kernel: put both back
  j trap_entry                # (the kernel root is in satp already)
1:
# LAB kpti BEGIN
  sd t0, KD_T0(tp)
  ld t0, KD_KSATP(tp)
  csrw satp, t0               # KPTI: to the kernel root
  ld t0, KD_FLUSH(tp)
  beqz t0, 2f
  sfence.vma zero, zero
  ld t0, KD_NFLUSH(tp)        # count the sfence (kstat kpti_flushes)
  addi t0, t0, 1
  sd t0, KD_NFLUSH(tp)
2:
  ld t0, KD_T0(tp)
# LAB kpti STARTER
  #> # Your code here: switch to the kernel root (labs/kpti/README.md).
  #> # tp = the data page, every other register is the user's.
# LAB kpti END
  ld tp, KD_TASK(tp)          # sscratch still holds the user's tp
  j trap_entry_from_user

# Called by ret_to_user with every register the user's but tp (= the data
# page) and on the kernel root. Switch to the user root and return.
.globl kpti_return
kpti_return:
# LAB kpti BEGIN
  sd t0, KD_T0(tp)
  ld t0, KD_USATP(tp)
  csrw satp, t0               # KPTI: to the user root
  ld t0, KD_FLUSH(tp)
  beqz t0, 3f
  sfence.vma zero, zero
  ld t0, KD_NFLUSH(tp)        # count the sfence (kstat kpti_flushes)
  addi t0, t0, 1
  sd t0, KD_NFLUSH(tp)
3:
  ld t0, KD_T0(tp)
# LAB kpti STARTER
  #> # Your code here: switch to the user root (labs/kpti/README.md).
  #> # tp = the data page, every other register is the user's.
# LAB kpti END
  ld tp, KD_UTP(tp)
  sret

.balign 4096
.globl kpti_text_end
kpti_text_end:
#endif
