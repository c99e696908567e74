// ptdump: print a process's page table (default: this one) or, with -k,
// kernel_pagetable. The kernel prints it on the console; the format is
// described in docs/ptdump.md.
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  int pid = getpid();
  if(argc > 1 && strcmp(argv[1], "-k") == 0)
    pid = -1;
  else if(argc > 1)
    pid = atoi(argv[1]);
  if(ptdump(pid) < 0){
    fprintf(2, "ptdump: no process %s with user memory\n", argv[1]);
    exit(1);
  }
  exit(0);
}
