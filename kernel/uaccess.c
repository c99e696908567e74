// uaccess.c: copying between kernel memory and the current task's user
// memory (invariant 7).
//
// Every routine first checks that the whole user range lies below MAXVA
// without wrapping, so a user can never make the kernel read or write
// kernel memory. It then sets sstatus.SUM (supervisor may touch U pages)
// just for the copy. A page fault inside the copy (unmapped or read-only
// user page) is fixed up through the exception table and the routine
// returns -1 instead of panicking.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

long __copy_user(void *dst, const void *src, uint64 n);
long __strncpy_from_user(char *dst, const char *src, uint64 max);

struct exception_entry {
  uint64 insn;    // address of a user-access instruction
  uint64 fixup;   // where to resume if it faults
};
extern struct exception_entry __ex_table_start[], __ex_table_end[];

// Does [va, va+len) lie entirely in the user half?
static int
user_range_ok(uint64 va, uint64 len)
{
  return va < MAXVA && len <= MAXVA - va;
}

static void user_access_begin(void) { csr_set(sstatus, SSTATUS_SUM); }
static void user_access_end(void)   { csr_clear(sstatus, SSTATUS_SUM); }

// Copy len bytes from kernel src to user dstva. Returns 0 or -1.
int
copyout(uint64 dstva, const void *src, uint64 len)
{
  if(!user_range_ok(dstva, len))
    return -1;
  user_access_begin();
  long r = __copy_user((void *)dstva, src, len);
  user_access_end();
  return r;
}

// Copy len bytes from user srcva to kernel dst. Returns 0 or -1.
int
copyin(void *dst, uint64 srcva, uint64 len)
{
  if(!user_range_ok(srcva, len))
    return -1;
  user_access_begin();
  long r = __copy_user(dst, (const void *)srcva, len);
  user_access_end();
  return r;
}

// Copy a NUL-terminated string of at most max bytes (NUL included) from
// user srcva to dst. Returns 0, or -1 if it faults, runs past MAXVA or
// is too long.
int
copyinstr(char *dst, uint64 srcva, uint64 max)
{
  if(srcva >= MAXVA || max == 0)
    return -1;
  if(max > MAXVA - srcva)
    max = MAXVA - srcva;
  user_access_begin();
  long r = __strncpy_from_user(dst, (const char *)srcva, max);
  user_access_end();
  return r < 0 ? -1 : 0;
}

// Copy to a user address (user_dst != 0) or a kernel address.
int
either_copyout(int user_dst, uint64 dst, void *src, uint64 len)
{
  if(user_dst)
    return copyout(dst, src, len);
  memmove((void *)dst, src, len);
  return 0;
}

// Copy from a user address (user_src != 0) or a kernel address.
int
either_copyin(void *dst, int user_src, uint64 src, uint64 len)
{
  if(user_src)
    return copyin(dst, src, len);
  memmove(dst, (void *)src, len);
  return 0;
}

// The exception-table entry of the user-access instruction at pc, or 0.
static struct exception_entry *
search_exception_table(uint64 pc)
{
  for(struct exception_entry *e = __ex_table_start; e < __ex_table_end; e++)
    if(e->insn == pc)
      return e;
  return 0;
}

// Did this kernel-mode fault happen in a user-access instruction (copyin,
// copyout, copyinstr)?
int
in_uaccess(struct pt_regs *regs)
{
  return search_exception_table(regs->epc) != 0;
}

// A kernel-mode fault at regs->epc: if it is a user-access instruction,
// resume at its fixup and return 1; otherwise return 0.
int
fixup_exception(struct pt_regs *regs)
{
  struct exception_entry *e = search_exception_table(regs->epc);
  if(e == 0)
    return 0;
  regs->epc = e->fixup;
  return 1;
}
