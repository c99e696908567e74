// syscall.c: system call dispatch. The number is in a7, arguments in
// a0-a5 of the saved user registers, the result goes back in a0.
// Handlers are named sys_<name>; an unknown number returns -1. No call
// may return with sstatus.SUM set (checked after each one).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/syscall.h"
#include "kernel/defs.h"

// Fetch the uint64 at user address addr. Returns 0 or -1.
int
fetchaddr(uint64 addr, uint64 *ip)
{
  return copyin(ip, addr, sizeof(*ip));
}

// Fetch the NUL-terminated string at user address addr into buf.
// Returns its length, or -1.
int
fetchstr(uint64 addr, char *buf, int max)
{
  if(copyinstr(buf, addr, max) < 0)
    return -1;
  return strlen(buf);
}

static uint64
argraw(int n)
{
  struct pt_regs *r = myproc()->regs;
  switch(n){
  case 0: return r->a0;
  case 1: return r->a1;
  case 2: return r->a2;
  case 3: return r->a3;
  case 4: return r->a4;
  case 5: return r->a5;
  }
  panic("argraw: argument %d", n);
}

// The n-th argument as an int.
void
argint(int n, int *ip)
{
  *ip = argraw(n);
}

// The n-th argument as a user address; not checked here, copyin and
// copyout do that.
void
argaddr(int n, uint64 *ip)
{
  *ip = argraw(n);
}

// The n-th argument as a string, copied into buf. Returns its length or -1.
int
argstr(int n, char *buf, int max)
{
  uint64 addr;
  argaddr(n, &addr);
  return fetchstr(addr, buf, max);
}

#define SYSCALLS(X) \
  X(fork) X(exit) X(wait) X(pipe) X(read) X(kill) X(exec) X(fstat) X(chdir) \
  X(dup) X(getpid) X(sbrk) X(sleep) X(uptime) X(open) X(write) X(mknod) \
  X(unlink) X(link) X(mkdir) X(close) X(poweroff) X(procinfo) X(freepages) \
  X(ptdump) X(kstat) X(ktest) X(crash) X(sbrklazy)

#define DECLARE(name) uint64 sys_##name(void);
SYSCALLS(DECLARE)

#define ENTRY(name) [SYS_##name] sys_##name,
static uint64 (*syscalls[])(void) = { SYSCALLS(ENTRY) };

void
syscall(struct pt_regs *regs)
{
  uint64 num = regs->a7;
  if(num < NELEM(syscalls) && syscalls[num])
    regs->a0 = syscalls[num]();
  else
    regs->a0 = -1;
  // sstatus.SUM lets the kernel touch user pages; only uaccess.c may set
  // it, for one copy. Left set, a stray kernel pointer into user memory
  // would go unnoticed (docs/security.md).
  if(r_sstatus() & SSTATUS_SUM)
    panic("syscall %d returned with sstatus.SUM set", (int)num);
}
