// procinfo.h: one task as reported to user space by the procinfo system
// call (used by ps). Shared by the kernel and user programs.
#ifndef CANOPY_PROCINFO_H
#define CANOPY_PROCINFO_H

#define PI_UNUSED   0
#define PI_SLEEPING 1
#define PI_RUNNABLE 2
#define PI_RUNNING  3
#define PI_ZOMBIE   4

struct procinfo {
  int pid;
  int ppid;          // 0 for kernel threads and init
  int state;         // PI_*
  int hart;          // hart id running it, or last ran on; -1 if never ran
  int kthread;       // 1 for a kernel thread (no user memory)
  uint64 size;       // bytes of user memory (0 for kernel threads)
  char name[16];
};

#endif
