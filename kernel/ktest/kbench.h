// kbench.h: the kernel's timing loops, run with ktest("bench_...") by
// user/bench.c (make bench). Each loop does KBENCH_OPS operations, so the
// caller divides its time by that. Shared by the kernel and user programs.
#ifndef CANOPY_KBENCH_H
#define CANOPY_KBENCH_H

#define KBENCH_OPS 1000

#endif
