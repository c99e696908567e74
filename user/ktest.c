// ktest: run the kernel's self-tests (kernel/ktest/). With no argument
// all of them, otherwise the ones named. Each prints "ktest NAME: OK" or
// "ktest NAME: FAIL (...)"; the exit status is the number of failures.
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  int failed = 0;
  if(argc < 2){
    failed = ktest("");
  } else {
    for(int i = 1; i < argc; i++){
      int r = ktest(argv[i]);
      if(r < 0)
        fprintf(2, "ktest: no test called %s\n", argv[i]);
      failed += r < 0 ? 1 : r;
    }
  }
  printf("ktest: %d failed\n", failed);
  exit(failed);
}
