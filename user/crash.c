// crash: make the kernel panic on purpose, to see (and practise reading)
// a kernel panic. Works only on a kernel built with
// make KCFLAGS=-DFAULT_INJECT; see kernel/faultinject.c and
// docs/debugging.md.
//
//   crash 0   the kernel reads an unmapped address (default)
//   crash 1   the kernel overflows its stack
//   crash 2   a page-table root entry is corrupted; the fault handler panics
//   crash 3   the kernel deadlocks (no panic: it stops answering, unless
//             the kernel is also built with -DDEBUG: its lock checker
//             panics after a few seconds)
//   crash 4   two locks taken in both orders (-DDEBUG: a lock-order panic)
//   crash 5   a lock held 2.5 s (-DDEBUG: a warning; crash returns)
//   crash 6   two sleep locks taken in both orders (-DDEBUG: a panic)
//   crash 7   a sleep lock taken under a spinlock (-DDEBUG: a panic)
//   crash 8   back to user space holding a sleep lock (-DDEBUG: a panic)
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  int how = argc > 1 ? atoi(argv[1]) : 0;
  if(how < 0 || how > 8){
    fprintf(2, "usage: crash [0-8]\n");
    exit(1);
  }
  int r = crash(how);
  // A FAULT_INJECT kernel never comes back from crash(0) to (3); from 4
  // to 8 it returns 0 when it was built without -DDEBUG (no checker).
  if(r < 0){
    printf("crash: kernel built without FAULT_INJECT\n");
    exit(1);
  }
  printf("crash %d: returned\n", how);
  exit(0);
}
