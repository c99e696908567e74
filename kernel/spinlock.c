// spinlock.c: spinning mutual exclusion between harts.
//
// A hart holding a spinlock has interrupts off, so an interrupt handler
// can never spin on a lock its own hart holds. push_off/pop_off nest: the
// interrupt state before the outermost push_off is restored by the
// matching outermost pop_off.
//
// In -DDEBUG kernels every acquire and release also goes through the lock
// checker (lockdep.c): lock order, locks held too long, harts stuck
// spinning. The hooks are empty otherwise.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/lockdep.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

void
initlock(struct spinlock *lk, char *name)
{
  memset(lk, 0, sizeof(*lk));
  lk->name = name;
}

// Call this in every loop that busy-waits for another hart, every so
// often; interrupts may be on or off. It does this hart's pending TLB
// shootdowns (tlbflush.c: the sender may be the hart we wait for), then
// ends this hart's turn on QEMU. QEMU 7.2 under -icount runs the harts in
// turn on one host thread, each up to the next timer deadline, and a
// hart ends its turn early only in wfi: the harts after it get what is
// left. A hart that spins without wfi leaves them nothing, so a spinner
// waiting for a later hart waited for ever (the boot hart in start_hart,
// hart 0 on disk.lock held by hart 1). Setting SSIP first makes an
// enabled interrupt pending, so wfi returns at once (it does even with
// SIE clear) and never sleeps; the trap it causes later does nothing.
// Before trap_init_hart has enabled SSIE it only serves: wfi could sleep.
void
spin_relax(void)
{
  tlb_shootdown_serve();
  if((csr_read(sie) & SIE_SSIE) == 0)
    return;
  csr_set(sip, SIP_SSIP);
  asm volatile("wfi");
}

// Spin until the lock is ours. Panics on a second acquire by this hart
// (it would spin forever).
void
acquire(struct spinlock *lk)
{
  push_off();
  if(holding(lk))
    panic("acquire: %s already held by this hart", lk->name);
  lockdep_before_acquire(lk, (uint64)__builtin_return_address(0));
  uint64 spins = 0;
  while(__sync_lock_test_and_set(&lk->locked, 1) != 0){
    if(++spins % 1024 == 0)
      spin_relax();   // lets the holder run under QEMU -icount
    lockdep_spinning(lk, spins);
  }
  // Loads and stores of the critical section stay after this point.
  __sync_synchronize();
  lk->cpu = mycpu();
  lockdep_acquired(lk, (uint64)__builtin_frame_address(0));
}

void
release(struct spinlock *lk)
{
  if(!holding(lk))
    panic("release: %s not held by this hart", lk->name);
  uint64 held_too_long = lockdep_releasing(lk);
  lk->cpu = 0;
  __sync_synchronize();
  __sync_lock_release(&lk->locked);
  if(held_too_long)
    lockdep_report_long_hold();   // interrupts still off: same hart
  pop_off();
}

// Does this hart hold the lock? Interrupts must be off.
int
holding(struct spinlock *lk)
{
  return lk->locked && lk->cpu == mycpu();
}

void
push_off(void)
{
  int old = intr_get();
  intr_off();
  struct cpu *c = mycpu();
  if(c->noff == 0)
    c->intena = old;
  c->noff++;
}

void
pop_off(void)
{
  struct cpu *c = mycpu();
  if(intr_get())
    panic("pop_off: interrupts are on");
  if(c->noff < 1)
    panic("pop_off: not pushed");
  c->noff--;
  if(c->noff == 0 && c->intena)
    intr_on();
}
