// sleeplock.h: a lock held across sleeps (disk I/O); waiters sleep.
#ifndef CANOPY_SLEEPLOCK_H
#define CANOPY_SLEEPLOCK_H

struct sleeplock {
  uint locked;         // is the lock held?
  struct spinlock lk;  // protects this sleep lock
  char *name;
  int pid;             // process holding the lock
#ifdef DEBUG
  int class;           // lockdep.c: 1 + its sleep class; 0 until first taken
#endif
};

#endif
