// grow: grow this process by N pages (sbrk), touch each one, print
// "grow: pid P, N pages added" and sleep, so that its page table can be
// inspected with ptdump P (the ptwalk lab's grader does). Runs until
// killed, or for at most a minute.
#include "kernel/types.h"
#include "user/user.h"

#define PGSIZE 4096

int
main(int argc, char *argv[])
{
  int n = argc > 1 ? atoi(argv[1]) : 1;
  if(n < 0 || n > 4096){
    fprintf(2, "usage: grow [pages, 0-4096]\n");
    exit(1);
  }
  char *p = sbrk(n * PGSIZE);
  if(p == SBRK_ERROR){
    fprintf(2, "grow: sbrk(%d pages) failed\n", n);
    exit(1);
  }
  for(int i = 0; i < n; i++)
    p[i * PGSIZE] = i;
  printf("grow: pid %d, %d pages added\n", getpid(), n);
  for(int i = 0; i < 60; i++)
    sleep(100);
  exit(0);
}
