// spinlock.h: mutual exclusion between harts. Holding a spinlock keeps
// interrupts off on this hart (see push_off in spinlock.c).
#ifndef CANOPY_SPINLOCK_H
#define CANOPY_SPINLOCK_H

struct spinlock {
  uint locked;        // 0 = free, 1 = held
  char *name;         // for panic messages
  struct cpu *cpu;    // the hart holding the lock
};

#endif
