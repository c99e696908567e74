// zombie: leave a child exited but not yet waited for (a zombie) for a
// few ticks, then exit so that init inherits and reaps it.
#include "kernel/types.h"
#include "user/user.h"

int
main(void)
{
  int pid = fork();

  if(pid < 0){
    fprintf(2, "zombie: fork failed\n");
    return 1;
  }
  if(pid > 0)
    sleep(5);
  return 0;
}
