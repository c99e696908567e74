// spinlock.h: mutual exclusion between harts. Holding a spinlock keeps
// interrupts off on this hart (see push_off in spinlock.c).
#ifndef CANOPY_SPINLOCK_H
#define CANOPY_SPINLOCK_H

#define LOCKDEP_SITES 4   // return addresses kept of where a lock was taken

struct spinlock {
  uint locked;        // 0 = free, 1 = held
  char *name;         // for panic messages
  struct cpu *cpu;    // the hart holding the lock
#ifdef DEBUG
  // lockdep.c's view of the lock (-DDEBUG kernels only)
  int class;          // 1 + its class's index; 0 until first acquired
  uint64 t_acquired;  // r_time() when the holder got it
  uint64 site[LOCKDEP_SITES];  // the holder's call chain at acquire
#endif
};

#endif
