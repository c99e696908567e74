// crash: make the kernel panic on purpose, to see (and practise reading)
// a kernel panic. Works only on a kernel built with
// make KCFLAGS=-DFAULT_INJECT; see kernel/faultinject.c and
// docs/debugging.md.
//
//   crash 0   the kernel reads an unmapped address (default)
//   crash 1   the kernel overflows its stack
//   crash 2   a page-table root entry is corrupted; the fault handler panics
//   crash 3   the kernel deadlocks (no panic: it stops answering)
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  int how = argc > 1 ? atoi(argv[1]) : 0;
  if(how < 0 || how > 3){
    fprintf(2, "usage: crash [0|1|2|3]\n");
    exit(1);
  }
  crash(how);
  // A FAULT_INJECT kernel never comes back from crash(0) to (3).
  printf("crash: kernel built without FAULT_INJECT\n");
  exit(1);
}
