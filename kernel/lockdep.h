// lockdep.h: the lock checker of -DDEBUG kernels (lockdep.c), called from
// acquire() and release(). Without DEBUG every hook is an empty inline
// function and spinlocks cost what they always did.
#ifndef CANOPY_LOCKDEP_H
#define CANOPY_LOCKDEP_H

struct spinlock;

#ifdef DEBUG
void lockdep_before_acquire(struct spinlock *lk, uint64 site);
void lockdep_spinning(struct spinlock *lk, uint64 spins);
void lockdep_acquired(struct spinlock *lk, uint64 fp);
uint64 lockdep_releasing(struct spinlock *lk);
void lockdep_report_long_hold(void);
#else
static inline void lockdep_before_acquire(struct spinlock *lk, uint64 site) { }
static inline void lockdep_spinning(struct spinlock *lk, uint64 spins) { }
static inline void lockdep_acquired(struct spinlock *lk, uint64 fp) { }
static inline uint64 lockdep_releasing(struct spinlock *lk) { return 0; }
static inline void lockdep_report_long_hold(void) { }
#endif

#endif
