// ptdump: print a process's page table (default: this one); with -k,
// kernel_pagetable; with -d VA, a specimen root holding a user page at
// VA and kernel entries of every kind (shared, not yet synced, differing);
// with -u [pid], a KPTI=1 kernel's user root of the process.
// The kernel prints it on the console; the format is described in
// docs/ptdump.md.
#include "kernel/types.h"
#include "user/user.h"

// A number in decimal or, with 0x, hexadecimal.
static uint64
number(const char *s)
{
  uint64 n = 0;
  if(s[0] == '0' && s[1] == 'x'){
    for(s += 2; *s; s++)
      n = n * 16 + (*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
    return n;
  }
  for(; *s >= '0' && *s <= '9'; s++)
    n = n * 10 + *s - '0';
  return n;
}

int
main(int argc, char *argv[])
{
  int pid = getpid();
  uint64 va = 0;
  if(argc > 1 && strcmp(argv[1], "-k") == 0)
    pid = -1;
  else if(argc > 2 && strcmp(argv[1], "-d") == 0){
    pid = -2;
    va = number(argv[2]);
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
