// kptitest: what the kpti lab's grader (grade/grade-kpti.py) reads back
// from a KPTI=1 kernel; works on both builds.
//
//   kptitest calls N    N getpid calls; prints how much the counters that
//                       the trap path moves rose meanwhile (all harts):
//                       "calls N traps T satp S user_runs U flushes F"
//   kptitest pages P    grow by P pages, touch each, then ptdump -u of
//                       this process (run by a child)
//   kptitest peek ADDR  a child loads a byte from ADDR (hex with 0x);
//                       prints "peek ADDR: status S" (-1: it was killed)
#include "kernel/types.h"
#include "kernel/kstat.h"
#include "user/user.h"

static void
calls(int n)
{
  static int what[] = { KSTAT_TRAPS, KSTAT_SATP_WRITES, KSTAT_KPTI_USER_RUNS,
                        KSTAT_KPTI_FLUSHES };
  long before[4], after[4];
  for(int i = 0; i < 4; i++)
    before[i] = kstat(what[i]);
  for(int i = 0; i < n; i++)
    getpid();
  for(int i = 0; i < 4; i++)
    after[i] = kstat(what[i]);
  printf("calls %d traps %ld satp %ld user_runs %ld flushes %ld\n", n,
         after[0] - before[0], after[1] - before[1], after[2] - before[2],
         after[3] - before[3]);
}

static void
pages(int n)
{
  char *p = sbrk(n * 4096);
  if(p == (char *)-1){
    fprintf(2, "kptitest: sbrk of %d pages failed\n", n);
    exit(1);
  }
  for(int i = 0; i < n; i++)
    p[i * 4096] = i;
  char pid[16];
  int me = getpid(), len = 0;
  char digits[16];
  do {
    digits[len++] = '0' + me % 10;
    me /= 10;
  } while(me);
  for(int i = 0; i < len; i++)
    pid[i] = digits[len - 1 - i];
  pid[len] = 0;
  int child = fork();
  if(child == 0){
    char *argv[] = { "ptdump", "-u", pid, 0 };
    exec("ptdump", argv);
    fprintf(2, "kptitest: exec ptdump failed\n");
    exit(1);
  }
  wait(0);
}

static void
peek(char *addr)
{
  volatile char *p = (volatile char *)atou64(addr);
  int st = 0;
  if(fork() == 0){
    char c = *p;
    printf("kptitest: read %d at %s\n", c, addr);
    exit(0);
  }
  wait(&st);
  printf("peek %s: status %d\n", addr, st);
}

int
main(int argc, char *argv[])
{
  if(argc == 3 && strcmp(argv[1], "calls") == 0)
    calls(atoi(argv[2]));
  else if(argc == 3 && strcmp(argv[1], "pages") == 0)
    pages(atoi(argv[2]));
  else if(argc == 3 && strcmp(argv[1], "peek") == 0)
    peek(argv[2]);
  else {
    fprintf(2, "usage: kptitest calls N | pages P | peek ADDR\n");
    exit(1);
  }
  exit(0);
}
