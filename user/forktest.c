// forktest: does fork fail cleanly when the process table is full, and
// can the parent then wait for every child it made?
#include "kernel/types.h"
#include "kernel/param.h"
#include "user/user.h"

#define MAXFORKS 1000       // more than NPROC: fork must fail before this
#define MINFORKS (NPROC / 4) // fewer than this means something is wrong

int
main(void)
{
  int n, pid;

  printf("fork test\n");
  for(n = 0; n < MAXFORKS; n++){
    pid = fork();
    if(pid < 0)
      break;
    if(pid == 0)
      exit(0);
  }
  if(n == MAXFORKS){
    printf("forktest: fork did not fail after %d forks\n", MAXFORKS);
    exit(1);
  }
  if(n < MINFORKS){
    printf("forktest: only %d forks succeeded, expected %d\n", n, MINFORKS);
    exit(1);
  }
  for(; n > 0; n--){
    if(wait(0) < 0){
      printf("forktest: wait stopped early, %d children left\n", n);
      exit(1);
    }
  }
  if(wait(0) != -1){
    printf("forktest: wait got a child that was never forked\n");
    exit(1);
  }
  printf("fork test OK\n");
  return 0;
}
