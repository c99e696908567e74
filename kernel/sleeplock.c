// sleeplock.c: locks that may be held for a long time (across disk I/O).
// A waiter sleeps instead of spinning; holders may sleep too.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/lockdep.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

void
initsleeplock(struct sleeplock *lk, char *name)
{
  initlock(&lk->lk, "sleep lock");
  lk->name = name;
  lk->locked = 0;
  lk->pid = 0;
#ifdef DEBUG
  lk->class = 0;
#endif
}

// The lockdep_sleep_* calls are the lock checker's (lockdep.c), empty
// without -DDEBUG.
void
acquiresleep(struct sleeplock *lk)
{
  lockdep_sleep_before_acquire(lk, (uint64)__builtin_return_address(0));
  acquire(&lk->lk);
  while(lk->locked)
    sleep(lk, &lk->lk);
  lk->locked = 1;
  lk->pid = myproc()->pid;
  lockdep_sleep_acquired(lk, (uint64)__builtin_frame_address(0));
  release(&lk->lk);
}

void
releasesleep(struct sleeplock *lk)
{
  acquire(&lk->lk);
  lockdep_sleep_releasing(lk);
  lk->locked = 0;
  lk->pid = 0;
  wakeup(lk);
  release(&lk->lk);
}

// Does the current task hold lk?
int
holdingsleep(struct sleeplock *lk)
{
  acquire(&lk->lk);
  int r = lk->locked && lk->pid == myproc()->pid;
  release(&lk->lk);
  return r;
}
