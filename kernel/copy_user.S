# copy_user.S: the only instructions that touch user memory. Each load or
# store of a user address is listed in __ex_table with a fixup address: a
# page fault there makes the trap handler resume at the fixup, which
# returns -1 (uaccess.c, fixup_exception). sstatus.SUM is set by the
# caller around these calls.

# Record that a fault at label `insn` continues at `fixup`.
.macro EX insn, fixup
  .pushsection __ex_table, "a"
  .balign 8
  .dword \insn, \fixup
  .popsection
.endm

.section .text

# long __copy_user(void *dst, const void *src, uint64 n)
# Returns 0, or -1 if a user access faulted.
.globl __copy_user
__copy_user:
  beqz a2, 3f
  or t0, a0, a1
  or t0, t0, a2
  andi t0, t0, 7
  bnez t0, 2f
1:                         # 8 bytes at a time when everything is aligned
  .Lld8: ld t1, 0(a1)
  EX .Lld8, .Lfault
  .Lsd8: sd t1, 0(a0)
  EX .Lsd8, .Lfault
  addi a0, a0, 8
  addi a1, a1, 8
  addi a2, a2, -8
  bnez a2, 1b
  j 3f
2:                         # otherwise byte by byte
  .Llb: lb t1, 0(a1)
  EX .Llb, .Lfault
  .Lsb: sb t1, 0(a0)
  EX .Lsb, .Lfault
  addi a0, a0, 1
  addi a1, a1, 1
  addi a2, a2, -1
  bnez a2, 2b
3:
  li a0, 0
  ret

# long __strncpy_from_user(char *dst, const char *src, uint64 max)
# Copies up to and including the NUL. Returns the string's length, -1 if a
# user access faulted, -2 if no NUL came within max bytes.
.globl __strncpy_from_user
__strncpy_from_user:
  li t2, 0
1:
  beq t2, a2, 2f
  add t3, a1, t2
  .Lstr: lbu t1, 0(t3)
  EX .Lstr, .Lfault
  add t3, a0, t2
  sb t1, 0(t3)
  beqz t1, 3f
  addi t2, t2, 1
  j 1b
2:
  li a0, -2
  ret
3:
  mv a0, t2
  ret

.Lfault:
  li a0, -1
  ret
