// stress: the concurrency stress run (make stress, tests/stress.py;
// docs/robustness.md).
//
//   stress SECS [NWORKERS]
//
// Runs NWORKERS (default 10) processes for SECS seconds, each looping on
// one kind of work: fork+exec+exit, fork trees, pipe ping-pong with a
// data check, file create/write/read/unlink with a data check, sbrk
// grow/shrink, and in-kernel self-tests that create and switch kernel
// threads and make lazy vmalloc syncs. Then it reaps everything and waits
// (up to 20 s, polling) for the free pages (as kobj_read counts them) and
// the number of tasks to come back to where they were before (at least as
// many free pages: the baseline is taken after a warm-up round, so
// first-use allocations are in it); it prints "stress: OK" or
// "stress: FAIL ..." and the per-worker iteration counts.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/fcntl.h"
#include "kernel/procinfo.h"
#include "kernel/kstat.h"
#include "user/user.h"

#define NKINDS 6
static const char *kinds[NKINDS] = {
  "forkexec", "forktree", "pipe", "file", "sbrk", "kthread",
};
static char buf[8192], back[8192];

// The free pages as leak checks count them (kobj_read in testlib.c).
static int
leakfree(void)
{
  long v[NKOBJ];
  kobj_read(v);
  return v[KOBJ_FREE];
}
static struct procinfo pinfo[NPROC];

static int
ntasks(void)
{
  return procinfo(pinfo, NPROC);
}

static void
die(const char *what)
{
  printf("stress: FAIL %s (pid %d)\n", what, getpid());
  exit(2);
}

static void
forkexec(void)
{
  char *argv[] = { "stress", "nop", 0 };
  int pid = fork();
  if(pid < 0)
    die("fork");
  if(pid == 0){
    exec("stress", argv);
    die("exec");
  }
  int st;
  if(wait(&st) != pid || st != 0)
    die("forkexec wait");
}

// A process forks two children, each forks one, all exit.
static void
forktree(void)
{
  for(int i = 0; i < 2; i++){
    int pid = fork();
    if(pid < 0)
      die("fork");
    if(pid == 0){
      int g = fork();
      if(g == 0)
        exit(0);
      if(g > 0)
        wait(0);
      exit(0);
    }
  }
  for(int i = 0; i < 2; i++)
    if(wait(0) < 0)
      die("forktree wait");
}

static void
pingpong(int id)
{
  int to[2], from[2];
  if(pipe(to) < 0 || pipe(from) < 0)
    die("pipe");
  int pid = fork();
  if(pid < 0)
    die("fork");
  if(pid == 0){
    close(to[1]);
    close(from[0]);
    int n;
    while((n = read(to[0], back, sizeof(back))) > 0)
      if(write(from[1], back, n) != n)
        die("pipe echo");
    exit(0);
  }
  close(to[0]);
  close(from[1]);
  for(int round = 0; round < 8; round++){
    int len = 1 + (round * 997 + id) % 4096;
    for(int i = 0; i < len; i++)
      buf[i] = i * 7 + round + id;
    if(write(to[1], buf, len) != len)
      die("pipe write");
    int got = 0;
    while(got < len){
      int n = read(from[0], back + got, len - got);
      if(n <= 0)
        die("pipe read");
      got += n;
    }
    if(memcmp(buf, back, len) != 0)
      die("pipe data");
  }
  close(to[1]);
  close(from[0]);
  wait(0);
}

static void
fileio(int id, int iter)
{
  char name[16] = "stressf00";
  name[7] = '0' + id / 10;
  name[8] = '0' + id % 10;
  int len = 1024 + (iter * 1531) % 7000;
  for(int i = 0; i < len; i++)
    buf[i] = i + iter + id;
  int fd = open(name, O_CREATE | O_RDWR | O_TRUNC);
  if(fd < 0)
    die("create");
  if(write(fd, buf, len) != len)
    die("file write");
  close(fd);
  fd = open(name, O_RDONLY);
  if(fd < 0 || read(fd, back, sizeof(back)) != len)
    die("file read");
  close(fd);
  if(memcmp(buf, back, len) != 0)
    die("file data");
  if(unlink(name) < 0)
    die("unlink");
}

static void
sbrkwork(int iter)
{
  int n = 4096 * (1 + iter % 16);
  char *p = sbrk(n);
  if(p == (char *)-1)
    die("sbrk");
  for(int i = 0; i < n; i += 4096)
    p[i] = i;
  if(sbrk(-n) == (char *)-1)
    die("sbrk shrink");
}

// Kernel threads created, switched to and stopped; lazy syncs of fresh
// vmalloc areas; both self-tests must pass under load. (Not
// kthread_switch_no_satp_write: it counts satp writes that the other
// harts make too.)
static void
kthreadwork(int iter)
{
  static char *tests[] = { "kthread_create_stop", "vmalloc_lazy_sync" };
  if(ktest(tests[iter % 2]) != 0)
    die("a kernel self-test");
}

static void
worker(int id, int kind, int end, int quiet)
{
  int iter = 0;
  do {
    switch(kind){
    case 0: forkexec(); break;
    case 1: forktree(); break;
    case 2: pingpong(id); break;
    case 3: fileio(id, iter); break;
    case 4: sbrkwork(iter); break;
    case 5: kthreadwork(iter); break;
    }
    iter++;
  } while(uptime() < end);
  if(!quiet)
    printf("stress: worker %d %s: %d iterations\n", id, kinds[kind], iter);
  exit(0);
}

// Run nworkers workers for secs seconds and reap them; returns how many
// failed. quiet: no per-worker lines.
static int
round(int nworkers, int secs, int quiet)
{
  int end = uptime() + secs * 100;   // 100 ticks a second (trap.c)
  for(int i = 0; i < nworkers; i++){
    int pid = fork();
    if(pid < 0)
      die("fork worker");
    if(pid == 0)
      worker(i, i % NKINDS, end, quiet);
  }
  int bad = 0, st;
  for(int i = 0; i < nworkers; i++){
    if(wait(&st) < 0)
      die("wait worker");
    if(st != 0)
      bad++;
  }
  return bad;
}

int
main(int argc, char *argv[])
{
  if(argc >= 2 && strcmp(argv[1], "nop") == 0)
    exit(0);
  if(argc < 2){
    fprintf(2, "usage: stress SECS [NWORKERS]\n");
    exit(1);
  }
  int secs = atoi(argv[1]);
  int nworkers = argc > 2 ? atoi(argv[2]) : 10;
  // Warm up: one second of the same mix, so that what the kernel keeps
  // after first use at this concurrency (page-table pages of the vmalloc
  // area for that many kernel stacks, say) is in the baseline and only
  // a real leak shows.
  if(round(nworkers, 1, 1) != 0)
    die("warm-up round");
  // The baseline: once the warm-up's pages are back (no lazy roots left,
  // two readings a tick apart agree).
  int free0 = leakfree(), tasks0 = ntasks();
  for(int i = 0; i < 200; i++){
    sleep(1);
    int f = leakfree(), t = ntasks();
    if(f == free0 && t == tasks0 && kstat(KSTAT_LAZY_ROOTS) == 0)
      break;
    free0 = f;
    tasks0 = t;
  }
  int pt0 = kstat(KSTAT_KERNEL_PT_PAGES);
  printf("stress: %d workers for %d s; %d free pages, %d tasks\n",
         nworkers, secs, free0, tasks0);
  int bad = round(nworkers, secs, 0);
  // Exited tasks' pages come back as harts go idle: poll, do not sleep
  // a fixed time.
  int free1 = leakfree(), tasks1 = ntasks();
  for(int i = 0; i < 2000 && (free1 < free0 || tasks1 != tasks0); i++){
    sleep(1);
    free1 = leakfree();
    tasks1 = ntasks();
  }
  printf("stress: after: %d free pages (before %d), %d tasks (before %d), "
         "%d lazy roots, %d vmalloc page-table pages (before %d)\n",
         free1, free0, tasks1, tasks0, (int)kstat(KSTAT_LAZY_ROOTS),
         (int)kstat(KSTAT_KERNEL_PT_PAGES), pt0);
  if(bad)
    printf("stress: FAIL %d workers failed\n", bad);
  else if(free1 < free0 || tasks1 != tasks0)
    printf("stress: FAIL counts not back at baseline\n");
  else
    printf("stress: OK\n");
  exit(0);
}
