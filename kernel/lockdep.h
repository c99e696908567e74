// lockdep.h: the lock checker of -DDEBUG kernels (lockdep.c), called from
// acquire() and release(), acquiresleep() and releasesleep(), and before
// a task returns to user space or exits. Without DEBUG every hook is an empty inline
// function and spinlocks cost what they always did.
#ifndef CANOPY_LOCKDEP_H
#define CANOPY_LOCKDEP_H

struct spinlock;
struct sleeplock;

#ifdef DEBUG
void lockdep_before_acquire(struct spinlock *lk, uint64 site);
void lockdep_spinning(struct spinlock *lk, uint64 spins);
void lockdep_acquired(struct spinlock *lk, uint64 fp);
uint64 lockdep_releasing(struct spinlock *lk);
void lockdep_report_long_hold(void);
void lockdep_sleep_before_acquire(struct sleeplock *lk, uint64 site);
void lockdep_sleep_acquired(struct sleeplock *lk, uint64 fp);
void lockdep_sleep_releasing(struct sleeplock *lk);
void lockdep_sleep_none_held(const char *when);
#else
static inline void lockdep_before_acquire(struct spinlock *lk, uint64 site) { }
static inline void lockdep_spinning(struct spinlock *lk, uint64 spins) { }
static inline void lockdep_acquired(struct spinlock *lk, uint64 fp) { }
static inline uint64 lockdep_releasing(struct spinlock *lk) { return 0; }
static inline void lockdep_report_long_hold(void) { }
static inline void lockdep_sleep_before_acquire(struct sleeplock *lk, uint64 site) { }
static inline void lockdep_sleep_acquired(struct sleeplock *lk, uint64 fp) { }
static inline void lockdep_sleep_releasing(struct sleeplock *lk) { }
static inline void lockdep_sleep_none_held(const char *when) { }
#endif

#endif
