// exhaust: running out of every kernel resource (issue 15, part 3).
//
//   exhaust           run every test: "test NAME: OK" or
//                     "test NAME: FAILED (why)", then ALL TESTS PASSED or
//                     SOME TESTS FAILED
//   exhaust NAME      run one test
//
// Each test drives the kernel out of one resource and checks that the
// system call that found none failed with -1 (or, for a page fault with
// no page to give, that the process was killed), then that once the test
// is over every kernel count (free pages, mms, tasks, open files,
// inodes, vmalloc areas; kernel/kstat.h) is back at its value before the
// test, and that fork, exec and the file system still work.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/kstat.h"
#include "kernel/fs.h"
#include "user/user.h"

#define LIMIT 6000      // ticks a test may take

static char *testname;

static void
fail(const char *fmt, ...)
{
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  uint64 a = __builtin_va_arg(ap, uint64);
  uint64 b = __builtin_va_arg(ap, uint64);
  __builtin_va_end(ap);
  printf("test %s: FAILED (", testname);
  printf(fmt, a, b);
  printf(")\n");
  exit(1);
}

// ---- memory ------------------------------------------------------------------

// A child that takes memory until only about `left` pages are free, then
// waits for a byte on its pipe to exit. Returns its pid; *ctl is the pipe.
static int
eater(int left, int *ctl)
{
  int p[2], q[2];
  if(pipe(p) < 0 || pipe(q) < 0)
    fail("pipe");
  int pid = fork();
  if(pid < 0)
    fail("fork of the eater");
  if(pid == 0){
    close(p[1]);
    close(q[0]);
    int chunk = 256 * PGSIZE;
    while(freepages() > left + 300 && sbrk(chunk) != SBRK_ERROR)
      ;
    while(freepages() > left && sbrk(PGSIZE) != SBRK_ERROR)
      ;
    write(q[1], "r", 1);
    char c;
    read(p[0], &c, 1);
    exit(0);
  }
  close(p[0]);
  close(q[1]);
  char c;
  if(read(q[0], &c, 1) != 1)
    fail("the eater died");
  close(q[0]);
  *ctl = p[1];
  return pid;
}

static void
eater_done(int pid, int ctl)
{
  write(ctl, "x", 1);
  close(ctl);
  waitfor(pid);
}

// With `left` pages free, fork, exec, pipe, sbrk and open each either
// work or fail with -1.
static void
oomlevel(int left)
{
  int ctl, e = eater(left, &ctl);
  int pid = fork();
  if(pid == 0){
    char *argv[] = { "echo", "-n", "", 0 };
    close(1);                     // quiet, but exec must still load
    exec("/echo", argv);
    exit(77);                     // exec failed: -1 is allowed
  }
  if(pid > 0){
    int st = waitfor(pid);
    if(st != 0 && st != 77 && st != -1)
      fail("the forked child ended with %d", st);
  } else if(pid != -1){
    fail("fork returned %d", pid);
  }
  int p[2];
  int r = pipe(p);
  if(r == 0){
    close(p[0]);
    close(p[1]);
  } else if(r != -1){
    fail("pipe returned %d", r);
  }
  char *s = sbrk(8 * PGSIZE);
  if(s != SBRK_ERROR)
    sbrk(-8 * PGSIZE);
  int fd = open("/README", O_RDONLY);
  if(fd >= 0)
    close(fd);
  eater_done(e, ctl);
}

// Write to the stack (one page, USERSTACK) below the caller's frame, so
// that it is no longer shared copy-on-write with a child: later stores
// there then need no free page.
static void __attribute__((noinline))
unshare_stack(void)
{
  volatile char buf[256];
  buf[0] = buf[255] = 1;
}

// With 0, 1, 2, ... 40 pages left, fork, exec, pipe, sbrk and open each
// either work or fail with -1: every allocation in them meets an empty
// free list at some level. With copy-on-write fork a store may need a
// free page too, and a process that cannot get one is killed (-1): so
// each level runs in a prober child forked while memory is plentiful,
// whose eater starts only once this process has made its own stack
// private again; the prober ending with -1 is a correct outcome.
static void
oomlevels(void)
{
  int plenty = freepages();
  for(int left = 0; left <= 40; left++){
    int go[2];
    if(pipe(go) < 0)
      fail("pipe");
    int prober = fork();
    if(prober < 0)
      fail("fork of the prober");
    if(prober == 0){
      char c;
      close(go[1]);
      read(go[0], &c, 1);
      close(go[0]);
      oomlevel(left);
      exit(0);
    }
    close(go[0]);
    unshare_stack();
    write(go[1], "g", 1);
    close(go[1]);
    int st = waitfor(prober);
    if(st != 0 && st != -1)
      fail("the prober at %d pages left ended with %d", left, st);
    // A killed prober's eater sees its pipe close and exits, and init
    // reaps it: wait (up to 30 s) until its memory is back.
    for(int t = 0; freepages() < plenty - 64 && t < 300; t++)
      sleep(10);
  }
}

// sbrk beyond memory fails with -1; sbrklazy's pages, touched when
// none is left, get the process killed.
static void
oomsbrk(void)
{
  char *p = sbrk(0x7fffffff);
  if(p != SBRK_ERROR)
    fail("sbrk of 2 GiB succeeded on a small machine");
  int pid = fork();
  if(pid == 0){
    int step = 1 << 21;             // one page-table page per 2 MiB, too
    for(;;){
      char *q = sbrklazy(step);
      if(q == SBRK_ERROR)
        exit(5);                    // out of room before out of pages
      q[0] = 1;
      q[step - 1] = 1;
    }
  }
  int st = waitfor(pid);
  if(st != -1 && st != 5)
    fail("touching lazy pages with no memory ended with %d, not killed", st);
}

// ---- tasks, fds, files, inodes, blocks -----------------------------------------

// fork until the table is full: -1, and all of them reaped afterwards.
static void
tasklimit(void)
{
  int n = 0, pids[NPROC];
  for(;;){
    int pid = fork();
    if(pid == 0){
      sleep(1000);
      exit(0);
    }
    if(pid < 0)
      break;
    pids[n++] = pid;
    if(n == NPROC)
      fail("%d forks succeeded with a %d-slot table", n, NPROC);
  }
  for(int i = 0; i < n; i++)
    kill(pids[i]);
  for(int i = 0; i < n; i++)
    waitfor(pids[i]);
  if(n < NPROC / 2)
    fail("only %d forks before the table was full", n);
}

// One process: NOFILE fds, then -1 from open, dup and pipe.
static void
fdlimit(void)
{
  int n = 0;
  while(open("/README", O_RDONLY) >= 0)
    n++;
  if(n + 3 != NOFILE)
    fail("%d opens with 3 fds in use, NOFILE is %d", n, NOFILE);
  int p[2];
  if(dup(0) != -1 || pipe(p) != -1)
    fail("dup or pipe with no free fd did not return -1");
}

// Children holding NOFILE files each fill the system's file table:
// open and pipe then return -1.
static void
filetable(void)
{
  int ctl[2], rdy[2];
  pipe(ctl);
  pipe(rdy);
  int kids = NFILE / (NOFILE - 5) + 2, pids[16];
  for(int i = 0; i < kids; i++){
    pids[i] = fork();
    if(pids[i] == 0){
      close(ctl[1]);
      while(open("/README", O_RDONLY) >= 0)
        ;
      write(rdy[1], "r", 1);
      char c;
      read(ctl[0], &c, 1);
      exit(0);
    }
  }
  char c;
  for(int i = 0; i < kids; i++)
    read(rdy[0], &c, 1);
  int fd = open("/README", O_RDONLY), p[2];
  int r = pipe(p);
  close(ctl[1]);
  for(int i = 0; i < kids; i++)
    waitfor(pids[i]);
  if(fd != -1 || r != -1)
    fail("open %d, pipe %d with the file table full", fd, r);
  close(ctl[0]);
  close(rdy[0]);
  close(rdy[1]);
}

// Create files until the disk has no free inode: open(O_CREATE) -1; all
// removed afterwards.
static void
inodes(void)
{
  char name[16];
  int n = 0;
  mkdir("exi");
  for(;; n++){
    name[0] = 'e';
    name[1] = 'a' + n / 26 / 26 % 26;
    name[2] = 'a' + n / 26 % 26;
    name[3] = 'a' + n % 26;
    name[4] = 0;
    char path[24] = "exi/";
    strcpy(path + 4, name);
    int fd = open(path, O_CREATE | O_RDWR);
    if(fd < 0)
      break;
    close(fd);
    if(n > 1000)
      fail("1000 files created on a 200-inode disk");
  }
  for(int i = 0; i < n; i++){
    char path[24] = "exi/e";
    path[5] = 'a' + i / 26 / 26 % 26;
    path[6] = 'a' + i / 26 % 26;
    path[7] = 'a' + i % 26;
    path[8] = 0;
    if(unlink(path) < 0)
      fail("unlink %s", (uint64)path);
  }
  unlink("exi");
  if(n < 10)
    fail("only %d files created", n);
}

// Write until the disk is full: a short write or -1, never a panic; the
// space comes back on unlink.
static void
diskfull(void)
{
  static char block[BSIZE * 8];
  memset(block, 'd', sizeof(block));
  int nfiles = 0, full = 0;
  char name[8] = "exd0";
  // A file holds at most MAXFILE blocks: several files fill the disk.
  while(!full && nfiles < 10){
    name[3] = '0' + nfiles++;
    int fd = open(name, O_CREATE | O_RDWR);
    if(fd < 0)
      break;
    for(;;){
      int r = write(fd, block, sizeof(block));
      if(r != sizeof(block)){
        full = r >= -1;
        break;
      }
    }
    close(fd);
  }
  for(int i = 0; i < nfiles; i++){
    name[3] = '0' + i;
    unlink(name);
  }
  if(!full)
    fail("the disk never filled");
  // and it has room again
  int fd = open("exd0", O_CREATE | O_RDWR);
  if(fd < 0 || write(fd, block, sizeof(block)) != sizeof(block))
    fail("no room after removing the files");
  close(fd);
  unlink("exd0");
}

// ---- exec and path limits ------------------------------------------------------

static int
execstatus(char **argv)
{
  int pid = fork();
  if(pid == 0){
    close(1);
    exec("/echo", argv);
    exit(77);
  }
  return waitfor(pid);
}

// MAXARG-1 arguments (argv[0] included; the array's NULL makes MAXARG)
// exec; MAXARG return -1; so does a set of strings larger than the
// stack page.
static void
execargs(void)
{
  static char *argv[MAXARG + 2];
  for(int i = 0; i < MAXARG - 1; i++)
    argv[i] = "x";
  argv[MAXARG - 1] = 0;
  if(execstatus(argv) != 0)
    fail("exec with MAXARG-1 (%d) arguments failed", MAXARG - 1);
  argv[MAXARG - 1] = "x";
  argv[MAXARG] = 0;
  if(execstatus(argv) != 77)
    fail("exec with MAXARG (%d) arguments did not return -1", MAXARG);
  static char big[PGSIZE / 4];
  memset(big, 'b', sizeof(big) - 1);
  for(int i = 0; i < 5; i++)
    argv[i] = big;
  argv[5] = 0;
  if(execstatus(argv) != 77)
    fail("exec with %d bytes of arguments did not return -1", 5 * sizeof(big));
}

// Paths of MAXPATH-1 characters work, MAXPATH do not; names of DIRSIZ
// characters are kept whole.
static void
pathlimits(void)
{
  char path[MAXPATH + 8];
  memset(path, 0, sizeof(path));
  // "./././...name": MAXPATH-1 characters naming file exp
  int n = MAXPATH - 1 - 3;
  for(int i = 0; i < n; i += 2){
    path[i] = '.';
    path[i + 1] = '/';
  }
  if(n % 2)
    path[n - 1] = '/';
  strcpy(path + n, "exp");
  if(strlen(path) != MAXPATH - 1)
    fail("built a path of %d", strlen(path));
  int fd = open(path, O_CREATE | O_RDWR);
  if(fd < 0)
    fail("open of a %d-character path failed", MAXPATH - 1);
  close(fd);
  memmove(path + 1, path, strlen(path) + 1);
  path[0] = '/';                       // now MAXPATH long, the same file
  if(open(path, O_RDONLY) != -1)
    fail("open of a %d-character path did not return -1", MAXPATH);
  if(unlink("exp") < 0)
    fail("unlink exp");
  char name[DIRSIZ + 1];
  memset(name, 'n', DIRSIZ);
  name[DIRSIZ] = 0;
  fd = open(name, O_CREATE | O_RDWR);
  if(fd < 0)
    fail("a %d-character name", DIRSIZ);
  close(fd);
  struct stat st;
  if(stat(name, &st) < 0)
    fail("stat of the %d-character name", DIRSIZ);
  if(unlink(name) < 0)
    fail("unlink of the %d-character name", DIRSIZ);
}

// ---- the runner --------------------------------------------------------------

// Wait (up to 500 ticks) for the kernel objects to be back at base; the
// name of the first one that is not, or 0.
static const char *
leaked(long *base, long *now)
{
  int start = uptime();
  for(;;){
    kobj_read(now);
    int i = kobj_differs(base, now);
    if(i < 0)
      return 0;
    if(uptime() - start > 500)
      return kobj_names[i];
    sleep(2);
  }
}

// Read the kernel objects into base once two reads 2 ticks apart agree
// (up to 100 ticks): the last test's watchdog may still be exiting on
// another hart, its stack between the shootdown and the free.
static void
kobj_settle(long *base)
{
  long again[NKOBJ];
  kobj_read(base);
  for(int start = uptime(); uptime() - start < 100; ){
    sleep(2);
    kobj_read(again);
    if(kobj_differs(base, again) < 0)
      return;
    memmove(base, again, sizeof(again));
  }
}

// fork, exec and a file still work.
static int
stillworks(void)
{
  int fd = open("exok", O_CREATE | O_RDWR);
  if(fd < 0 || write(fd, "ok", 2) != 2)
    return 0;
  close(fd);
  unlink("exok");
  char *argv[] = { "echo", "-n", "", 0 };
  return execstatus(argv) == 0;
}

struct test {
  void (*fn)(void);
  char *name;
} tests[] = {
  { oomlevels, "oomlevels" },
  { oomsbrk, "oomsbrk" },
  { tasklimit, "tasklimit" },
  { fdlimit, "fdlimit" },
  { filetable, "filetable" },
  { inodes, "inodes" },
  { diskfull, "diskfull" },
  { execargs, "execargs" },
  { pathlimits, "pathlimits" },
  { 0, 0 },
};

static int
runtest(struct test *t)
{
  long base[NKOBJ], now[NKOBJ];
  testname = t->name;
  kobj_settle(base);
  int pid = fork();
  if(pid == 0){
    t->fn();
    exit(0);
  }
  int wd = fork();
  if(wd == 0){
    sleep(LIMIT);
    kill(pid);
    exit(0);
  }
  int st = waitfor(pid);
  kill(wd);
  waitfor(wd);
  if(st != 0){
    if(st != 1)
      printf("test %s: FAILED (the test process ended with status %d)\n", t->name, st);
    return 0;
  }
  const char *what = leaked(base, now);
  if(what){
    printf("test %s: FAILED (%s leaked:", t->name, what);
    for(int i = 0; i < NKOBJ; i++)
      printf(" %s %ld->%ld", kobj_names[i], base[i], now[i]);
    printf(")\n");
    return 0;
  }
  if(!stillworks()){
    printf("test %s: FAILED (fork, exec or files fail afterwards)\n", t->name);
    return 0;
  }
  printf("test %s: OK\n", t->name);
  return 1;
}

int
main(int argc, char *argv[])
{
  int ok = 1, ran = 0;
  for(struct test *t = tests; t->fn; t++){
    if(argc == 2 && strcmp(argv[1], t->name) != 0)
      continue;
    ran++;
    ok &= runtest(t);
  }
  if(ran == 0){
    fprintf(2, "usage: exhaust [name]\n");
    exit(1);
  }
  printf(ok ? "ALL TESTS PASSED\n" : "SOME TESTS FAILED\n");
  exit(ok ? 0 : 1);
}
