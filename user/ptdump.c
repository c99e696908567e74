// ptdump: print a process's page table (default: this one); with -k,
// kernel_pagetable; with -d VA, a specimen root holding a user page at
// VA and kernel entries of every kind (shared, not yet synced, differing);
// with -u [pid], a KPTI=1 kernel's user root of the process.
// The kernel prints it on the console; the format is described in
// docs/ptdump.md.
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  int pid = getpid();
  uint64 va = 0;
  if(argc > 1 && strcmp(argv[1], "-k") == 0)
    pid = -1;
  else if(argc > 2 && strcmp(argv[1], "-d") == 0){
    pid = -2;
    va = atou64(argv[2]);
  } else if(argc > 1 && strcmp(argv[1], "-u") == 0){
    va = 1;                       // the user root (KPTI=1)
    if(argc > 2)
      pid = atoi(argv[2]);
  } else if(argc > 1)
    pid = atoi(argv[1]);
  if(ptdump(pid, va) < 0){
    if(pid == -2)
      fprintf(2, "ptdump: %s is not a user address (or no memory)\n", argv[2]);
    else
      fprintf(2, "ptdump: no process %s with user memory\n", argv[1]);
    exit(1);
  }
  exit(0);
}
