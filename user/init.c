// init: the first user process. Opens the console as fds 0, 1 and 2,
// then keeps a shell running and reaps orphaned processes.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

#define CONSOLE 1   // major device number of the console

static char *argv[] = { "sh", 0 };

// Open the console as fd 0 (making the device file if it is missing)
// and duplicate it to fds 1 and 2.
static void
openconsole(void)
{
  if(open("console", O_RDWR) < 0){
    mknod("console", CONSOLE, 0);
    if(open("console", O_RDWR) < 0)
      exit(1);   // nowhere to even print an error
  }
  dup(0);
  dup(0);
}

// Start a shell. Returns its pid.
static int
startsh(void)
{
  int pid;

  printf("init: starting sh\n");
  pid = fork();
  if(pid < 0){
    printf("init: fork failed\n");
    exit(1);
  }
  if(pid == 0){
    exec("sh", argv);
    printf("init: exec sh failed\n");
    exit(127);
  }
  return pid;
}

int
main(void)
{
  int pid, wpid, status;

  openconsole();
  for(;;){
    pid = startsh();
    // Wait for the shell; any other process that exits here is an
    // orphan that was handed to init, and waiting reaps it.
    while((wpid = wait(&status)) != pid){
      if(wpid < 0){
        printf("init: wait failed\n");
        exit(1);
      }
    }
    if(status == 127)
      sleep(100);  // do not spin if sh cannot be run at all
  }
}
