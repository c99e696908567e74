// usertests.c: canopy's own test suite for the system call interface.
//
//   usertests          run every test
//   usertests -q       run only the quick tests
//   usertests NAME...  run the named tests
//
// Each test runs in a child process of its own, so a test that crashes
// fails alone. A test that returns has passed; a test that fails calls
// fail(), which sends a one-line reason up a pipe to the runner and exits
// with status 1. A watchdog process kills a test that hangs. The runner
// prints "test NAME: OK" or "test NAME: FAILED (reason)" for each test and
// finally checks that the run gave back every physical page it took.
//
// User stacks are one page (USERSTACK), so tests keep their buffers in
// static storage, never on the stack.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"
#include "kernel/param.h"
#include "kernel/syscall.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/procinfo.h"
#include "kernel/kstat.h"
#include "user/user.h"

#define QUICKTICKS  6000   // watchdog for a quick test, in uptime() ticks
#define SLOWTICKS  30000   // and for a slow one
#define EXECOK       77    // exit status of a child whose exec failed as hoped

static int reportfd = -1;  // write end of the pipe to the runner

// Report why the running test failed, and end it.
#define fail(...) do { \
    fprintf(reportfd, __VA_ARGS__); \
    exit(1); \
  } while(0)

static char buf[8192];
static char buf2[8192];
static struct procinfo ptable[NPROC];

// ---- helpers -------------------------------------------------------------

static void
loadbyte(uint64 a)
{
  uint64 v;

  asm volatile("lb %0, 0(%1)" : "=r"(v) : "r"(a) : "memory");
  (void)v;
}

static void
storebyte(uint64 a)
{
  asm volatile("sb zero, 0(%0)" : : "r"(a) : "memory");
}

static void
jumpto(uint64 a)
{
  void (*f)(void) = (void (*)(void))launder(a);

  f();
}

// A system call with a raw number and full 64-bit arguments.
static long
rawsyscall(long num, long x0, long x1, long x2)
{
  register long a0 asm("a0") = x0;
  register long a1 asm("a1") = x1;
  register long a2 asm("a2") = x2;
  register long a7 asm("a7") = num;

  asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
  return a0;
}

// Run fn(a) in a child process that then exits 0; return its status.
static int
inchild(void (*fn)(uint64), uint64 a)
{
  int pid;

  pid = fork();
  if(pid < 0)
    fail("fork failed");
  if(pid == 0){
    fn(a);
    exit(0);
  }
  return waitfor(pid);
}

// Fail the test unless fn(a), run in a child, gets the child killed.
static void
expectkilled(char *what, void (*fn)(uint64), uint64 a)
{
  int st;

  st = inchild(fn, a);
  if(st != -1)
    fail("%s %p: expected the process killed (status -1), got status %d",
         what, (void*)a, st);
}

// Create name holding n bytes of buf. Returns 0, or -1 on error.
static int
makefile(char *name, char *data, int n)
{
  int fd;

  fd = open(name, O_CREATE | O_TRUNC | O_RDWR);
  if(fd < 0)
    return -1;
  if(write(fd, data, n) != n){
    close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

// Read everything from fd into p (at most max bytes); return the count.
static int
readall(int fd, char *p, int max)
{
  int n, tot = 0;

  while(tot < max && (n = read(fd, p + tot, max - tot)) > 0)
    tot += n;
  return tot;
}

// The lowest free file descriptor, found without keeping it.
static int
lowestfd(void)
{
  int fd = dup(0);

  if(fd >= 0)
    close(fd);
  return fd;
}

// Path of the echo program on the disk.
static char*
echopath(void)
{
  struct stat st;

  if(stat("/echo", &st) == 0)
    return "/echo";
  return "/bin/echo";
}

// ---- processes -----------------------------------------------------------

// does the status given to exit() reach the parent's wait()?
void
exitwait(void)
{
  static int codes[] = { 0, 7, 255, -3 };
  int pids[4], i, j, pid, st;

  for(i = 0; i < 4; i++){
    pids[i] = fork();
    if(pids[i] < 0)
      fail("fork failed");
    if(pids[i] == 0)
      exit(codes[i]);
  }
  for(i = 0; i < 4; i++){
    pid = wait(&st);
    for(j = 0; j < 4 && pids[j] != pid; j++)
      ;
    if(j == 4)
      fail("wait returned %d, not one of my children", pid);
    if(st != codes[j])
      fail("child exited %d, wait reported %d", codes[j], st);
    pids[j] = -2;
  }
  pid = fork();
  if(pid == 0)
    exit(1);
  if(wait(0) != pid)
    fail("wait(0) did not return the child's pid");
}

// what does wait() do when there are no children?
void
waitnochild(void)
{
  int st = 12345;

  if(wait(&st) != -1)
    fail("wait with no children did not return -1");
  if(wait(0) != -1)
    fail("wait(0) with no children did not return -1");
  if(st != 12345)
    fail("wait with no children wrote a status");
}

// can a process fork and reap many children, one after another and at once?
void
forkmany(void)
{
  int i, pid, n;

  for(i = 0; i < 200; i++){
    pid = fork();
    if(pid < 0)
      fail("fork %d in a row failed", i);
    if(pid == 0)
      exit(i & 0x7f);
    if(waitfor(pid) != (i & 0x7f))
      fail("child %d: wrong exit status", i);
  }
  for(i = 0; i < 20; i++){
    pid = fork();
    if(pid < 0)
      fail("fork of child %d of 20 at once failed", i);
    if(pid == 0){
      pause(1);
      exit(0);
    }
  }
  for(n = 0; wait(0) >= 0; n++)
    ;
  if(n != 20)
    fail("forked 20 children, reaped %d", n);
}

// does fork fail cleanly when the process table is full, and recover?
void
forkfail(void)
{
  int p[2], n, i, pid, st;
  char c;

  if(pipe(p) < 0)
    fail("pipe failed");
  for(n = 0; n < 100; n++){
    pid = fork();
    if(pid < 0)
      break;
    if(pid == 0){
      close(p[1]);
      read(p[0], &c, 1);   // wait for the parent to close the write end
      exit(0);
    }
  }
  close(p[1]);
  for(i = 0; i < n; i++){
    if(wait(&st) < 0)
      fail("forked %d children, wait failed after %d", n, i);
    if(st != 0)
      fail("a blocked child exited with status %d", st);
  }
  if(wait(0) != -1)
    fail("more children than forks");
  if(n == 0)
    fail("not even one fork succeeded");
  pid = fork();
  if(pid < 0)
    fail("fork still fails after the children exited (had %d)", n);
  if(pid == 0)
    exit(3);
  if(waitfor(pid) != 3)
    fail("child after recovery: wrong status");
}

static void
spin(uint64 a)
{
  volatile int x = 0;

  for(;;)
    x++;
}

static void
longsleep(uint64 a)
{
  pause(100000);
}

static void
readforever(uint64 fd)
{
  read((int)fd, buf, 1);
}

// can kill() stop a child that loops, sleeps, or waits on a pipe?
void
killchild(void)
{
  int pid, p[2], st;

  pid = fork();
  if(pid == 0)
    spin(0);
  pause(1);
  if(kill(pid) != 0)
    fail("kill of a looping child did not return 0");
  if((st = waitfor(pid)) != -1)
    fail("killed looping child: status %d, expected -1", st);

  pid = fork();
  if(pid == 0)
    longsleep(0);
  pause(2);
  kill(pid);
  if((st = waitfor(pid)) != -1)
    fail("killed sleeping child: status %d, expected -1", st);

  if(pipe(p) < 0)
    fail("pipe failed");
  pid = fork();
  if(pid == 0)
    readforever(p[0]);
  pause(2);
  kill(pid);
  if((st = waitfor(pid)) != -1)
    fail("killed child blocked on a pipe: status %d, expected -1", st);
  close(p[0]);
  close(p[1]);

  if(kill(-5) != -1 || kill(99999) != -1)
    fail("kill of a pid that does not exist did not return -1");
}

// Fill ptable; return the entry for pid, or 0.
static struct procinfo*
findproc(int pid)
{
  int i, n;

  n = procinfo(ptable, NPROC);
  for(i = 0; i < n; i++)
    if(ptable[i].pid == pid && ptable[i].state != PI_UNUSED)
      return &ptable[i];
  return 0;
}

// does an orphan go to init, and does init reap it when it exits?
void
orphan(void)
{
  int go[2], back[2], child, gpid, i;
  struct procinfo *pi;
  char c = 'g';

  if(pipe(go) < 0 || pipe(back) < 0)
    fail("pipe failed");
  child = fork();
  if(child < 0)
    fail("fork failed");
  if(child == 0){
    gpid = fork();
    if(gpid == 0){
      close(back[1]);
      close(go[1]);
      read(go[0], &c, 1);
      exit(0);
    }
    write(back[1], &gpid, sizeof(gpid));
    exit(0);
  }
  close(back[1]);
  close(go[0]);
  if(waitfor(child) != 0)
    fail("middle child did not exit 0");
  if(read(back[0], &gpid, sizeof(gpid)) != sizeof(gpid) || gpid <= 0)
    fail("middle child could not fork the orphan");
  pi = findproc(gpid);
  if(pi == 0)
    fail("procinfo does not list the orphan %d", gpid);
  if(pi->ppid == child)
    fail("orphan %d still has its dead parent %d", gpid, child);
  if(pi->ppid != 1){
    struct procinfo *parent = findproc(pi->ppid);
    if(parent == 0 || strcmp(parent->name, "init") != 0)
      fail("orphan's new parent %d is not init", pi->ppid);
  }
  if(wait(0) != -1)
    fail("the orphan is my child");
  write(go[1], &c, 1);
  close(go[1]);
  for(i = 0; i < 500; i++){
    if(findproc(gpid) == 0)
      return;
    pause(1);
  }
  fail("orphan %d was never reaped by init", gpid);
}

// do parent and child see different pids, and does fork return the child's?
void
getpiddistinct(void)
{
  int p[2], pid, me, cpid;

  me = getpid();
  if(me <= 0)
    fail("getpid returned %d", me);
  if(pipe(p) < 0)
    fail("pipe failed");
  pid = fork();
  if(pid == 0){
    cpid = getpid();
    write(p[1], &cpid, sizeof(cpid));
    exit(0);
  }
  if(read(p[0], &cpid, sizeof(cpid)) != sizeof(cpid))
    fail("no pid from the child");
  waitfor(pid);
  if(cpid == me)
    fail("child and parent both have pid %d", me);
  if(cpid != pid)
    fail("fork returned %d, child's getpid said %d", pid, cpid);
  if(getpid() != me)
    fail("getpid changed");
}

static int forkvar = 5;

// does a child get its own copy of data and heap?
void
forkcopy(void)
{
  char *heap;
  int pid, st;

  heap = sbrk(PGSIZE);
  if(heap == (char*)-1)
    fail("sbrk failed");
  heap[0] = 'p';
  heap[PGSIZE - 1] = 'q';
  pid = fork();
  if(pid == 0){
    if(forkvar != 5 || heap[0] != 'p' || heap[PGSIZE - 1] != 'q')
      exit(2);
    forkvar = 6;
    heap[0] = 'c';
    exit(0);
  }
  st = waitfor(pid);
  if(st == 2)
    fail("child did not see the parent's data");
  if(st != 0)
    fail("child exited with %d", st);
  if(forkvar != 5 || heap[0] != 'p')
    fail("child's writes showed up in the parent");
}

// Run path with args in a child with stdout on a pipe; collect the output
// in buf and return its length, or -1 if exec failed.
static int
runcapture(char *path, char **args)
{
  int p[2], pid, n, st;

  if(pipe(p) < 0)
    fail("pipe failed");
  pid = fork();
  if(pid < 0)
    fail("fork failed");
  if(pid == 0){
    close(1);
    dup(p[1]);
    close(p[0]);
    close(p[1]);
    exec(path, args);
    exit(EXECOK);
  }
  close(p[1]);
  n = readall(p[0], buf, sizeof(buf) - 1);
  close(p[0]);
  buf[n] = 0;
  st = waitfor(pid);
  if(st == EXECOK)
    return -1;
  if(st != 0)
    fail("%s exited with status %d", path, st);
  return n;
}

// does exec pass its arguments to the new program?
void
execargs(void)
{
  static char *args[] = { "echo", "hello", "canopy", "world", 0 };
  static char *many[MAXARG];
  static char words[MAXARG][4];
  int i, n, spaces;

  n = runcapture(echopath(), args);
  if(n < 0)
    fail("exec %s failed", echopath());
  if(strcmp(buf, "hello canopy world\n") != 0)
    fail("echo hello canopy world printed '%s'", buf);

  // MAXARG - 1 arguments and the terminating null fill argv exactly.
  many[0] = "echo";
  for(i = 1; i < MAXARG - 1; i++){
    words[i][0] = 'a' + i % 26;
    words[i][1] = 0;
    many[i] = words[i];
  }
  many[MAXARG - 1] = 0;
  n = runcapture(echopath(), many);
  if(n < 0)
    fail("exec with %d arguments failed", MAXARG - 1);
  for(i = spaces = 0; i < n; i++)
    if(buf[i] == ' ')
      spaces++;
  if(spaces != MAXARG - 3 || n != 2 * (MAXARG - 2))
    fail("echo of %d words printed %d bytes", MAXARG - 2, n);
}

// does exec of something that is not a program return -1 and go on?
void
execbad(void)
{
  static char *args[] = { "nope", 0 };
  int n;

  if(exec("/utnosuchfile", args) != -1)
    fail("exec of a missing file did not return -1");
  memset(buf, 0x5a, 2000);
  if(makefile("utnotelf", buf, 2000) < 0)
    fail("could not create utnotelf");
  n = exec("utnotelf", args);
  unlink("utnotelf");
  if(n != -1)
    fail("exec of a file that is not ELF did not return -1");
  memcpy(buf, "\177ELF", 4);     // a magic number and junk after it
  if(makefile("utnotelf", buf, 100) < 0)
    fail("could not create utnotelf");
  n = exec("utnotelf", args);
  unlink("utnotelf");
  if(n != -1)
    fail("exec of a truncated ELF header did not return -1");
  if(exec(".", args) != -1)
    fail("exec of a directory did not return -1");
  if(exec("", args) != -1)
    fail("exec of an empty path did not return -1");
}

static int survivor = 1234;

// what if exec is given more arguments than it can take?
void
exectoomanyargs(void)
{
  static char *args[MAXARG + 2];
  static char *big[MAXARG];
  static char bigword[1100];
  int i, n, nbig;

  args[0] = "echo";
  for(i = 1; i < MAXARG + 1; i++)
    args[i] = "x";
  args[MAXARG + 1] = 0;
  n = runcapture(echopath(), args);
  if(n >= 0)
    fail("exec with %d arguments succeeded", MAXARG + 1);

  // Strings that together exceed the user stack.
  memset(bigword, 'b', sizeof(bigword) - 1);
  nbig = USERSTACK * PGSIZE / (sizeof(bigword) - 1) + 2;
  if(nbig > MAXARG - 1)
    nbig = MAXARG - 1;
  big[0] = "echo";
  for(i = 1; i < nbig; i++)
    big[i] = bigword;
  big[nbig] = 0;
  n = runcapture(echopath(), big);
  if(n >= 0)
    fail("exec with %d bytes of arguments succeeded",
         (int)(nbig * sizeof(bigword)));

  // The failed execs above ran in children; try one here too.
  if(exec(echopath(), args) != -1)
    fail("exec with too many arguments did not return -1");
  if(survivor != 1234)
    fail("a failed exec changed my memory");
}

// do sleep and pause wait at least as long as asked, and uptime advance?
void
sleepuptime(void)
{
  int t0, t1;

  t0 = uptime();
  if(t0 < 0)
    fail("uptime returned %d", t0);
  if(sleep(3) != 0)
    fail("sleep(3) did not return 0");
  t1 = uptime();
  if(t1 - t0 < 3)
    fail("sleep(3) returned after %d ticks", t1 - t0);
  t0 = t1;
  if(pause(2) != 0)
    fail("pause(2) did not return 0");
  t1 = uptime();
  if(t1 - t0 < 2)
    fail("pause(2) returned after %d ticks", t1 - t0);
  if(sleep(0) != 0)
    fail("sleep(0) did not return 0");
}

// ---- pipes ---------------------------------------------------------------

// do bytes written to a pipe come out of it unchanged?
void
pipedata(void)
{
  int p[2], n;

  if(pipe(p) != 0)
    fail("pipe failed");
  if(p[0] < 0 || p[1] < 0 || p[0] == p[1])
    fail("pipe gave fds %d and %d", p[0], p[1]);
  if(write(p[1], "hello pipe", 10) != 10)
    fail("write to pipe failed");
  n = read(p[0], buf, sizeof(buf));
  if(n != 10 || memcmp(buf, "hello pipe", 10) != 0)
    fail("read %d bytes back from the pipe", n);
  if(read(p[1], buf, 1) != -1)
    fail("read from the write end did not fail");
  if(write(p[0], "x", 1) != -1)
    fail("write to the read end did not fail");
  close(p[0]);
  close(p[1]);
}

// does a reader see end of file once every writer has closed?
void
pipeeof(void)
{
  int p[2], pid, n;

  if(pipe(p) != 0)
    fail("pipe failed");
  pid = fork();
  if(pid == 0){
    close(p[0]);
    write(p[1], "abc", 3);
    exit(0);
  }
  close(p[1]);
  n = readall(p[0], buf, sizeof(buf));
  if(n != 3 || memcmp(buf, "abc", 3) != 0)
    fail("read %d bytes before EOF, expected 3", n);
  if(read(p[0], buf, 10) != 0)
    fail("read after EOF did not return 0");
  close(p[0]);
  waitfor(pid);
}

#define PIPEBYTES 200000

static int
pipebyte(int i)
{
  return (i * 7 + (i >> 9)) & 0xff;
}

// does a large transfer between processes arrive complete and in order?
void
pipebig(void)
{
  int p[2], pid, i, n, chunk, got, sum, want;

  if(pipe(p) != 0)
    fail("pipe failed");
  pid = fork();
  if(pid == 0){
    close(p[0]);
    for(i = 0; i < PIPEBYTES; i += chunk){
      chunk = 1 + (i % 1499);
      if(chunk > PIPEBYTES - i)
        chunk = PIPEBYTES - i;
      for(n = 0; n < chunk; n++)
        buf[n] = pipebyte(i + n);
      if(write(p[1], buf, chunk) != chunk)
        exit(2);
    }
    exit(0);
  }
  close(p[1]);
  got = sum = want = 0;
  chunk = 1;
  while((n = read(p[0], buf, chunk)) > 0){
    for(i = 0; i < n; i++){
      if((buf[i] & 0xff) != pipebyte(got + i))
        fail("byte %d through the pipe is wrong", got + i);
      sum += buf[i] & 0xff;
    }
    got += n;
    chunk = chunk * 3 % 4099 + 1;
  }
  close(p[0]);
  for(i = 0; i < PIPEBYTES; i++)
    want += pipebyte(i);
  if(waitfor(pid) != 0)
    fail("writer failed");
  if(got != PIPEBYTES)
    fail("received %d bytes, sent %d", got, PIPEBYTES);
  if(sum != want)
    fail("checksum %d, expected %d", sum, want);
}

// what does a write to a pipe with no reader return?
void
pipenoreader(void)
{
  int p[2], pid, st;

  if(pipe(p) != 0)
    fail("pipe failed");
  close(p[0]);
  if(write(p[1], "x", 1) != -1)
    fail("write with the read end closed did not return -1");
  close(p[1]);

  // A writer blocked on a full pipe must wake when the reader goes.
  if(pipe(p) != 0)
    fail("pipe failed");
  pid = fork();
  if(pid == 0){
    close(p[0]);
    exit(write(p[1], buf, sizeof(buf)) == sizeof(buf) ? 1 : 0);
  }
  close(p[1]);
  pause(2);
  close(p[0]);
  st = waitfor(pid);
  if(st == 1)
    fail("a blocked write completed after the reader closed");
  if(st != 0)
    fail("writer exited with status %d", st);
}

// ---- file system ---------------------------------------------------------

// can a file be created, written, read back and removed?
void
filerw(void)
{
  int fd, n, i;

  for(i = 0; i < 3000; i++)
    buf[i] = 'a' + i % 23;
  fd = open("utrw", O_CREATE | O_RDWR);
  if(fd < 0)
    fail("create utrw failed");
  for(i = 0; i < 3000; i += 500)
    if(write(fd, buf + i, 500) != 500)
      fail("write at %d failed", i);
  close(fd);
  fd = open("utrw", O_RDONLY);
  if(fd < 0)
    fail("open utrw failed");
  n = readall(fd, buf2, sizeof(buf2));
  close(fd);
  if(n != 3000 || memcmp(buf, buf2, 3000) != 0)
    fail("read back %d bytes, wrote 3000", n);
  if(unlink("utrw") != 0)
    fail("unlink utrw failed");
  if(open("utrw", O_RDONLY) != -1)
    fail("open after unlink succeeded");
  if(unlink("utrw") != -1)
    fail("second unlink succeeded");
}

// Fill buf with file block i's pattern: its number, then bytes that
// differ from block to block.
static void
blockpattern(char *b, int i)
{
  for(int j = 0; j < BSIZE; j++)
    b[j] = i + j * 3;
  memcpy(b, &i, sizeof(i));
}

// Write nblocks patterned blocks to fd; returns how many went in whole.
static int
writeblocks(int fd, int nblocks)
{
  for(int i = 0; i < nblocks; i++){
    blockpattern(buf, i);
    if(write(fd, buf, BSIZE) != BSIZE)
      return i;
  }
  return nblocks;
}

// Read nblocks blocks back from the start of path and check the pattern.
static void
checkblocks(char *path, int nblocks)
{
  int fd = open(path, O_RDONLY);
  if(fd < 0)
    fail("reopen %s failed", path);
  for(int i = 0; i < nblocks; i++){
    if(readall(fd, buf2, BSIZE) != BSIZE)
      fail("short read at block %d", i);
    blockpattern(buf, i);
    if(memcmp(buf, buf2, BSIZE) != 0)
      fail("block %d reads back wrong", i);
  }
  if(read(fd, buf2, BSIZE) != 0)
    fail("read past the end did not return 0");
  close(fd);
}

#define BIGBLOCKS 1024   // 1 MiB: past the old limit of 12 + 256 blocks

// ptdump of a process while it exits, and while another process takes
// the pages it frees and fills them with words that look like page-table
// entries (valid, pointing at a table at physical address 0). The dump
// must read only tables that are still the victim's: the kernel keeps its
// user half until the dump ends. Before that fix a dump could walk a
// freed table that had become someone's data page: a kernel load page
// fault (found by the fuzzer). The victim touches one page every 2 MB,
// so the dump goes back to its middle-level table between leaf tables;
// it is told to exit just before the dumps start, and they go on until
// it has gone, so some dump spans its exit.
void
ptdump_exiting(void)
{
  int filler = fork();
  if(filler < 0)
    fail("fork failed");
  if(filler == 0){
    for(;;){
      uint64 *m = (uint64 *)sbrk(64 * 4096);
      if(m == (uint64 *)-1)
        exit(1);
      for(int j = 0; j < 64 * 512; j++)
        m[j] = 0x1;
      sbrk(-64 * 4096);
    }
  }
  for(int i = 0; i < 60; i++){
    int up[2], go[2], st;
    if(pipe(up) < 0 || pipe(go) < 0)
      fail("pipe failed");
    int pid = fork();
    if(pid < 0)
      fail("fork failed");
    if(pid == 0){
      char *m = sbrklazy(16 << 20);
      if(m == (char *)-1)
        exit(1);
      for(int j = 0; j < 8; j++)
        m[j << 21] = 1;
      write(up[1], "x", 1);
      read(go[0], buf, 1);
      exit(0);
    }
    close(up[1]);
    close(go[0]);
    if(read(up[0], buf, 1) != 1)
      fail("the victim did not start");
    write(go[1], "x", 1);
    for(int n = 0; n < 100 && ptdump(pid, 0) == 0; n++)
      ;
    close(up[0]);
    close(go[1]);
    if(wait(&st) != pid || st != 0)
      fail("the victim did not exit cleanly");
  }
  kill(filler);
  int st;
  if(wait(&st) != filler)
    fail("the filler was not reaped");
}

// A 1 MiB file reaches well into the double indirect range; it reads
// back, and unlinking it gives back every block it took (data, the
// single indirect, the double indirect and its indirect blocks).
void
bigfile(void)
{
  struct stat st;
  int n, free0 = kstat(KSTAT_FREE_BLOCKS);
  int fd = open("utbig", O_CREATE | O_TRUNC | O_RDWR);

  if(fd < 0)
    fail("create utbig failed");
  if((n = writeblocks(fd, BIGBLOCKS)) != BIGBLOCKS)
    fail("write of block %d failed", n);
  if(fstat(fd, &st) < 0 || st.size != BIGBLOCKS * BSIZE)
    fail("size %d, expected %d", (int)st.size, BIGBLOCKS * BSIZE);
  close(fd);
  // 1024 data blocks, the single indirect, the double indirect and the
  // (1024 - 11 - 256) / 256 rounded up = 3 indirect blocks under it
  if((n = free0 - kstat(KSTAT_FREE_BLOCKS)) != BIGBLOCKS + 5)
    fail("the file took %d blocks, expected %d", n, BIGBLOCKS + 5);
  checkblocks("utbig", BIGBLOCKS);
  if(unlink("utbig") != 0)
    fail("unlink utbig failed");
  if((n = kstat(KSTAT_FREE_BLOCKS)) != free0)
    fail("%d blocks free after unlink, %d before", n, free0);
}

// A new file of path holding nblocks patterned blocks; returns its fd.
static int
makeblocks(char *path, int nblocks)
{
  int n, fd = open(path, O_CREATE | O_TRUNC | O_RDWR);

  if(fd < 0)
    fail("create %s failed", path);
  if((n = writeblocks(fd, nblocks)) != nblocks)
    fail("%s: write of block %d failed", path, n);
  return fd;
}

// With exactly two blocks free, file block NDIRECT + NINDIRECT (the first
// through the double indirect block) needs three: the double indirect,
// an indirect block under it, the data block. The write must fail and
// give the two mapping blocks back (fs.c bwalk), leaving the file as it
// was: no indirect block that maps nothing (fsck would report it).
static void
fulldouble(int fd)
{
  struct stat st;
  int n;

  unlink("utlimd");   // 2 direct blocks: now exactly 2 free
  if((n = kstat(KSTAT_FREE_BLOCKS)) != 2)
    fail("%d blocks free after freeing 2 on a full disk", n);
  if((n = write(fd, buf, BSIZE)) > 0)
    fail("write needing 3 blocks with 2 free returned %d", n);
  if((n = kstat(KSTAT_FREE_BLOCKS)) != 2)
    fail("the failed write left %d blocks free, not 2", n);
  if(fstat(fd, &st) < 0 || st.size != (NDIRECT + NINDIRECT) * BSIZE)
    fail("size %d after the failed write", (int)st.size);
}

// Grow one file until a write fails: at MAXFILE blocks, or (on a disk
// smaller than MAXFILE, as fs.img is) when the disk fills. The failing
// write returns -1 or short, never panics; every whole block written
// reads back, and unlink gives all the space back. Then, on the full
// disk, a write that needs a new double indirect block fails cleanly.
void
filelimit(void)
{
  struct stat st;
  int free0 = kstat(KSTAT_FREE_BLOCKS);
  // every file made first: a directory entry may need a block later
  close(makeblocks("utlimd", 2));
  int fdb = makeblocks("utlimb", NDIRECT + NINDIRECT);
  int fde = makeblocks("utlime", 0);
  int fd = makeblocks("utlim", 0);

  int n = writeblocks(fd, MAXFILE + 1);
  if(n > MAXFILE)
    fail("wrote %d blocks, past MAXFILE", n);
  if(n < MAXFILE && kstat(KSTAT_FREE_BLOCKS) > 2)   // a block may need 2 (an indirect)
    fail("stopped at block %d with %d blocks free", n,
         (int)kstat(KSTAT_FREE_BLOCKS));
  if(fstat(fd, &st) < 0 || st.size < n * BSIZE || st.size >= (n + 1) * BSIZE)
    fail("size %d after %d whole blocks", (int)st.size, n);
  close(fd);
  fd = open("utlim", O_RDONLY);
  if(fd < 0 || read(fd, buf2, BSIZE) != BSIZE)
    fail("cannot read utlim back");
  blockpattern(buf, 0);
  if(memcmp(buf, buf2, BSIZE) != 0)
    fail("block 0 reads back wrong");
  close(fd);
  // use up the last blocks one direct block at a time
  while(kstat(KSTAT_FREE_BLOCKS) > 0)
    if(write(fde, buf, BSIZE) != BSIZE)
      fail("utlime: write failed with %d blocks free",
           (int)kstat(KSTAT_FREE_BLOCKS));
  fulldouble(fdb);
  close(fde);
  close(fdb);
  unlink("utlime");
  unlink("utlimb");
  if(unlink("utlim") != 0)
    fail("unlink utlim failed");
  if((n = kstat(KSTAT_FREE_BLOCKS)) != free0)
    fail("%d blocks free after unlink, %d before", n, free0);
}

#define NMANY 60

// Count the live entries of directory path, "." and ".." excluded.
static int
countentries(char *path)
{
  struct dirent de;
  int fd, n = 0;

  fd = open(path, O_RDONLY);
  if(fd < 0)
    return -1;
  while(read(fd, &de, sizeof(de)) == sizeof(de)){
    if(de.inum == 0)
      continue;
    if(strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
      continue;
    n++;
  }
  close(fd);
  return n;
}

// can a directory hold many files, and be removed once empty?
void
manyfiles(void)
{
  static char name[16];
  int i, n, fd;

  if(mkdir("utmany") != 0)
    fail("mkdir utmany failed");
  strcpy(name, "utmany/f00");
  for(i = 0; i < NMANY; i++){
    name[8] = '0' + i / 10;
    name[9] = '0' + i % 10;
    if(makefile(name, name, 11) != 0)
      fail("create %s failed", name);
  }
  if((n = countentries("utmany")) != NMANY)
    fail("directory lists %d entries, expected %d", n, NMANY);
  if(unlink("utmany") != -1)
    fail("unlink of a non-empty directory succeeded");
  for(i = 0; i < NMANY; i++){
    name[8] = '0' + i / 10;
    name[9] = '0' + i % 10;
    fd = open(name, O_RDONLY);
    if(fd < 0)
      fail("open %s failed", name);
    n = read(fd, buf, sizeof(buf));
    close(fd);
    if(n != 11 || strcmp(buf, name) != 0)
      fail("%s has the wrong contents", name);
    if(unlink(name) != 0)
      fail("unlink %s failed", name);
  }
  if((n = countentries("utmany")) != 0)
    fail("%d entries left after removing all", n);
  if(unlink("utmany") != 0)
    fail("unlink of the empty directory failed");
}

// do mkdir, chdir, "." and ".." and relative paths work together?
void
dirpaths(void)
{
  struct stat top, sub, st;

  if(mkdir("utd") != 0)
    fail("mkdir utd failed");
  if(mkdir("utd") != -1)
    fail("mkdir of an existing name succeeded");
  if(mkdir("utd/a") != 0)
    fail("mkdir utd/a failed");
  if(makefile("utd/a/f", "data", 4) != 0)
    fail("create utd/a/f failed");
  if(stat("utd", &top) < 0 || top.type != T_DIR)
    fail("utd is not a directory");
  if(chdir("utd/a") != 0)
    fail("chdir utd/a failed");
  if(stat("f", &st) < 0 || st.type != T_FILE || st.size != 4)
    fail("f not found in utd/a");
  if(stat("../a/f", &st) < 0 || stat("./../../utd/a/./f", &st) < 0)
    fail("relative paths with .. failed");
  if(stat("..", &sub) < 0 || sub.ino != top.ino)
    fail(".. of utd/a is not utd");
  if(stat("/", &st) < 0 || st.type != T_DIR || st.ino != ROOTINO)
    fail("/ is not the root directory");
  if(stat("/..", &sub) < 0 || sub.ino != ROOTINO)
    fail("/.. is not the root");
  if(chdir("f") != -1)
    fail("chdir to a file succeeded");
  if(chdir("nosuchdir") != -1)
    fail("chdir to a missing directory succeeded");
  if(open("f/x", O_CREATE | O_RDWR) != -1)
    fail("create under a file succeeded");
  if(mkdir("nosuchdir/x") != -1 || open("nosuchdir/x", O_CREATE) != -1)
    fail("create in a missing directory succeeded");
  if(unlink(".") != -1 || unlink("..") != -1)
    fail("unlink of . or .. succeeded");
  if(chdir("../..") != 0)
    fail("chdir ../.. failed");
  if(unlink("utd/a") != -1)
    fail("unlink of a non-empty directory succeeded");
  if(unlink("utd/a/f") != 0 || unlink("utd/a") != 0 || unlink("utd") != 0)
    fail("cleanup failed");
  if(stat("utd", &st) != -1)
    fail("utd still there");
}

// can a file be read after its last name is gone while it is open?
void
unlinkopen(void)
{
  int wfd, rfd, n;
  struct stat st;

  wfd = open("utul", O_CREATE | O_TRUNC | O_RDWR);
  rfd = open("utul", O_RDONLY);
  if(wfd < 0 || rfd < 0)
    fail("open utul failed");
  if(write(wfd, "hello", 5) != 5)
    fail("write failed");
  if(unlink("utul") != 0)
    fail("unlink of an open file failed");
  if(open("utul", O_RDONLY) != -1)
    fail("unlinked name still opens");
  if(fstat(rfd, &st) < 0 || st.nlink != 0)
    fail("nlink of the unlinked file is %d, expected 0", st.nlink);
  n = read(rfd, buf, 100);
  if(n != 5 || memcmp(buf, "hello", 5) != 0)
    fail("read of the unlinked file returned %d", n);
  if(write(wfd, " world", 6) != 6)
    fail("write to the unlinked file failed");
  n = read(rfd, buf, 100);
  if(n != 6 || memcmp(buf, " world", 6) != 0)
    fail("second read returned %d", n);
  close(wfd);
  close(rfd);
  if(makefile("utul", "x", 1) != 0 || unlink("utul") != 0)
    fail("the name could not be reused");
}

// can a removed directory that is still the cwd lead anywhere? Its ".."
// names a directory that is freed by now: lookups and creates through it
// must fail, not reach a free inode.
void
removedcwd(void)
{
  unlink("/utrc/d");    // leftovers of an interrupted run
  unlink("/utrc");
  if(mkdir("/utrc") != 0 || mkdir("/utrc/d") != 0)
    fail("mkdir /utrc/d failed");
  if(chdir("/utrc/d") != 0)
    fail("chdir /utrc/d failed");
  if(unlink("/utrc/d") != 0 || unlink("/utrc") != 0)
    fail("unlink of /utrc/d and /utrc failed");
  if(open("..", O_RDONLY) >= 0)
    fail("open(\"..\") in a removed directory succeeded");
  if(open("../x", O_CREATE | O_RDWR) >= 0)
    fail("creating ../x from a removed directory succeeded");
  if(open("x", O_CREATE | O_RDWR) >= 0)
    fail("creating a file in a removed directory succeeded");
  if(mkdir("sub") == 0)
    fail("mkdir in a removed directory succeeded");
  if(chdir("..") == 0)
    fail("chdir(\"..\") from a removed directory succeeded");
  if(chdir("/") != 0 || open("/utrc", O_RDONLY) >= 0)
    fail("/ is not reachable, or /utrc still exists");
}

// a write whose source faults partway fails, but the bytes copied before
// the fault are in the buffer cache: they must be logged and reach the
// disk, not linger in the cache until the buffer is reused.
void
partialwrite(void)
{
  int fd;
  char *p, c;

  if(makefile("utpw", "A", 1) != 0 || (fd = open("utpw", O_RDWR)) < 0)
    fail("cannot create utpw");
  p = sbrk(0);
  sbrk(PGSIZE - (uint64)p % PGSIZE);
  p = sbrk(0);                          // page-aligned: p is unmapped
  p[-1] = 'X';
  if(write(fd, p - 1, 2) != -1)
    fail("a write from a half-unmapped buffer did not fail");
  close(fd);
  // Push utpw's block out of the cache (NBUF blocks) with other writes,
  // into files of 128 KB that all live until the end (NBUF may be larger
  // than the largest file, and a reused block would stay cached).
  char name[] = "utpw2a";
  int nfiles = (2 * NBUF * BSIZE + 128 * BSIZE - 1) / (128 * BSIZE);
  memset(buf, 'z', sizeof(buf));
  for(int f = 0; f < nfiles; f++){
    name[5] = 'a' + f;
    if((fd = open(name, O_CREATE | O_TRUNC | O_RDWR)) < 0)
      fail("cannot create %s", name);
    for(int i = 0; i * sizeof(buf) < 128 * BSIZE; i++)
      if(write(fd, buf, sizeof(buf)) != sizeof(buf))
        fail("cannot write %s", name);
    close(fd);
  }
  for(int f = 0; f < nfiles; f++){
    name[5] = 'a' + f;
    unlink(name);
  }
  if((fd = open("utpw", O_RDONLY)) < 0 || read(fd, &c, 1) != 1)
    fail("cannot read utpw back");
  close(fd);
  unlink("utpw");
  if(c != 'X')
    fail("utpw holds '%c' after the cache was flushed: the byte copied "
         "before the fault was never logged", c);
}

// does link count names correctly, and refuse what it must?
void
linkcount(void)
{
  int fd;
  struct stat st;

  unlink("utl1");
  unlink("utl2");
  if(makefile("utl1", "linked", 6) != 0)
    fail("create utl1 failed");
  fd = open("utl1", O_RDONLY);
  if(fstat(fd, &st) < 0 || st.nlink != 1)
    fail("new file has nlink %d", st.nlink);
  if(link("utl1", "utl2") != 0)
    fail("link failed");
  if(fstat(fd, &st) < 0 || st.nlink != 2)
    fail("after link nlink is %d, expected 2", st.nlink);
  if(link("utl1", "utl2") != -1)
    fail("link to an existing name succeeded");
  if(link("utnosuch", "utl3") != -1)
    fail("link of a missing file succeeded");
  if(link(".", "utl3") != -1)
    fail("link of a directory succeeded");
  if(link("utl1", "utnosuchdir/x") != -1)
    fail("link into a missing directory succeeded");
  if(unlink("utl1") != 0)
    fail("unlink utl1 failed");
  if(fstat(fd, &st) < 0 || st.nlink != 1)
    fail("after unlink nlink is %d, expected 1", st.nlink);
  close(fd);
  fd = open("utl2", O_RDONLY);
  if(fd < 0 || read(fd, buf, 100) != 6 || memcmp(buf, "linked", 6) != 0)
    fail("the second name does not reach the data");
  close(fd);
  if(unlink("utl2") != 0)
    fail("unlink utl2 failed");
}

// does open refuse to write a directory?
void
opendir(void)
{
  int fd;

  if(open(".", O_RDWR) != -1)
    fail("open . O_RDWR succeeded");
  if(open(".", O_WRONLY) != -1)
    fail("open . O_WRONLY succeeded");
  if(open(".", O_CREATE | O_RDWR) != -1)
    fail("open . O_CREATE succeeded");
  if(mkdir("utod") != 0)
    fail("mkdir failed");
  if(open("utod", O_CREATE | O_RDWR) != -1)
    fail("O_CREATE of an existing directory succeeded");
  if(open("utod", O_WRONLY | O_TRUNC) != -1)
    fail("O_TRUNC of a directory succeeded");
  fd = open("utod", O_RDONLY);
  if(fd < 0)
    fail("open of a directory for reading failed");
  if(write(fd, "x", 1) != -1)
    fail("write to a directory succeeded");
  close(fd);
  if(unlink("utod") != 0)
    fail("unlink utod failed");
}

// does each open mode allow only what it says?
void
openmodes(void)
{
  int fd;

  if(makefile("utom", "abc", 3) != 0)
    fail("create failed");
  fd = open("utom", O_RDONLY);
  if(write(fd, "x", 1) != -1)
    fail("write to an O_RDONLY file succeeded");
  close(fd);
  fd = open("utom", O_WRONLY);
  if(read(fd, buf, 1) != -1)
    fail("read from an O_WRONLY file succeeded");
  close(fd);
  if(open("utnosuch", O_RDONLY) != -1)
    fail("open of a missing file succeeded");
  unlink("utom");
}

// do dup and fork share one file offset?
void
dupoffset(void)
{
  int fd, fd2, pid, n;

  fd = open("utdup", O_CREATE | O_TRUNC | O_RDWR);
  if(fd < 0)
    fail("create failed");
  fd2 = dup(fd);
  if(fd2 < 0 || fd2 == fd)
    fail("dup returned %d", fd2);
  write(fd, "ab", 2);
  write(fd2, "cd", 2);
  pid = fork();
  if(pid == 0){
    write(fd, "ef", 2);
    exit(0);
  }
  waitfor(pid);
  write(fd2, "gh", 2);
  close(fd);
  close(fd2);
  fd = open("utdup", O_RDONLY);
  n = readall(fd, buf, sizeof(buf));
  close(fd);
  unlink("utdup");
  buf[n] = 0;
  if(n != 8 || strcmp(buf, "abcdefgh") != 0)
    fail("file holds '%s', expected abcdefgh", buf);
}

// does O_TRUNC empty a file?
void
truncate(void)
{
  int fd, n;
  struct stat st;

  memset(buf, 't', 2500);
  if(makefile("uttr", buf, 2500) != 0)
    fail("create failed");
  fd = open("uttr", O_WRONLY | O_TRUNC);
  if(fd < 0)
    fail("open O_TRUNC failed");
  if(fstat(fd, &st) < 0 || st.size != 0)
    fail("size after O_TRUNC is %d", (int)st.size);
  write(fd, "xyz", 3);
  close(fd);
  fd = open("uttr", O_RDONLY);
  n = readall(fd, buf, sizeof(buf));
  close(fd);
  if(n != 3 || memcmp(buf, "xyz", 3) != 0)
    fail("read %d bytes after truncate and write of 3", n);
  unlink("uttr");
}

// what does read return at and past the end of a file?
void
readeof(void)
{
  int fd, n;

  if(makefile("uteof", "0123456789", 10) != 0)
    fail("create failed");
  fd = open("uteof", O_RDONLY);
  n = read(fd, buf, 100);
  if(n != 10)
    fail("read of a 10-byte file returned %d", n);
  if((n = read(fd, buf, 100)) != 0)
    fail("read at end of file returned %d", n);
  if((n = read(fd, buf, 100)) != 0)
    fail("second read at end of file returned %d", n);
  close(fd);
  unlink("uteof");
}

// does fstat report type and size as the file grows?
void
fstatsize(void)
{
  int fd, i;
  struct stat st, st2;

  fd = open("utfs", O_CREATE | O_TRUNC | O_RDWR);
  if(fd < 0)
    fail("create failed");
  if(fstat(fd, &st) < 0 || st.type != T_FILE || st.size != 0 || st.nlink != 1)
    fail("new file: type %d size %d nlink %d", st.type, (int)st.size,
         st.nlink);
  for(i = 1; i <= 5; i++){
    write(fd, buf, 700);
    if(fstat(fd, &st) < 0 || st.size != 700 * i)
      fail("size %d after %d bytes", (int)st.size, 700 * i);
  }
  if(stat("utfs", &st2) < 0 || st2.ino != st.ino || st2.size != st.size)
    fail("stat and fstat disagree");
  close(fd);
  unlink("utfs");
  fd = open(".", O_RDONLY);
  if(fstat(fd, &st) < 0 || st.type != T_DIR || st.size == 0)
    fail("directory: type %d size %d", st.type, (int)st.size);
  close(fd);
}

// do files written by several processes at once each come out whole?
void
fourfiles(void)
{
  static char name[] = "utff0";
  int i, j, pid, fd, n, st;

  for(i = 0; i < 4; i++){
    name[4] = '0' + i;
    unlink(name);
    pid = fork();
    if(pid < 0)
      fail("fork failed");
    if(pid == 0){
      fd = open(name, O_CREATE | O_RDWR);
      if(fd < 0)
        exit(2);
      memset(buf, 'A' + i, 500);
      for(j = 0; j < 12; j++)
        if(write(fd, buf, 500) != 500)
          exit(3);
      exit(0);
    }
  }
  for(i = 0; i < 4; i++){
    if(wait(&st) < 0 || st != 0)
      fail("a writer failed with status %d", st);
  }
  for(i = 0; i < 4; i++){
    name[4] = '0' + i;
    fd = open(name, O_RDONLY);
    n = readall(fd, buf, sizeof(buf));
    close(fd);
    if(n != 6000)
      fail("%s has %d bytes, expected 6000", name, n);
    for(j = 0; j < n; j++)
      if(buf[j] != 'A' + i)
        fail("%s byte %d is wrong", name, j);
    unlink(name);
  }
}

// do two processes writing through one shared fd lose no data?
void
sharedfd(void)
{
  int fd, pid, i, n, na, nb;

  fd = open("utshared", O_CREATE | O_TRUNC | O_RDWR);
  if(fd < 0)
    fail("create failed");
  pid = fork();
  memset(buf, pid == 0 ? 'c' : 'p', 10);
  for(i = 0; i < 150; i++){
    if(write(fd, buf, 10) != 10){
      if(pid == 0)
        exit(2);
      fail("write %d failed", i);
    }
  }
  if(pid == 0)
    exit(0);
  if(waitfor(pid) != 0)
    fail("the child's writes failed");
  close(fd);
  fd = open("utshared", O_RDONLY);
  na = nb = 0;
  while((n = read(fd, buf, sizeof(buf))) > 0){
    for(i = 0; i < n; i++){
      if(buf[i] == 'c')
        na++;
      else if(buf[i] == 'p')
        nb++;
    }
  }
  close(fd);
  unlink("utshared");
  if(na != 1500 || nb != 1500)
    fail("found %d child and %d parent bytes, expected 1500 each", na, nb);
}

#define NCONC 4

// does the file system stay consistent under concurrent create and unlink?
void
createdelete(void)
{
  static char name[] = "utcd0";
  static char dname[] = "utcdd0";
  static char fname[] = "utcdd0/f00";
  struct dirent de;
  static int seen[10];
  int k, i, pid, fd, st;

  for(k = 0; k < NCONC; k++){
    pid = fork();
    if(pid < 0)
      fail("fork failed");
    if(pid != 0)
      continue;
    // shared names: create and unlink in turn, out of step with the others
    for(i = 0; i < 80; i++){
      name[4] = '0' + (i * 3 + k) % 10;
      if((i + k) % 2 == 0){
        fd = open(name, O_CREATE | O_RDWR);
        if(fd < 0)
          exit(2);
        write(fd, "z", 1);
        close(fd);
      } else {
        unlink(name);
      }
    }
    // private directory full of files, then emptied
    dname[5] = fname[5] = '0' + k;
    if(mkdir(dname) != 0)
      exit(3);
    for(i = 0; i < 20; i++){
      fname[8] = '0' + i / 10;
      fname[9] = '0' + i % 10;
      if(makefile(fname, fname, 10) != 0)
        exit(4);
    }
    for(i = 0; i < 20; i++){
      fname[8] = '0' + i / 10;
      fname[9] = '0' + i % 10;
      if(unlink(fname) != 0)
        exit(5);
    }
    if(unlink(dname) != 0)
      exit(6);
    exit(0);
  }
  for(k = 0; k < NCONC; k++)
    if(wait(&st) < 0 || st != 0)
      fail("a worker failed with status %d", st);

  // each shared name at most once in the directory, and a file if there
  fd = open(".", O_RDONLY);
  while(read(fd, &de, sizeof(de)) == sizeof(de)){
    if(de.inum == 0 || strncmp(de.name, "utcd", 4) != 0)
      continue;
    if(de.name[4] == 'd')
      fail("directory %s left behind", de.name);
    i = de.name[4] - '0';
    if(i < 0 || i > 9 || de.name[5] != 0)
      fail("unexpected entry %s", de.name);
    if(seen[i]++)
      fail("name %s appears twice", de.name);
  }
  close(fd);
  for(i = 0; i < 10; i++){
    name[4] = '0' + i;
    fd = open(name, O_RDONLY);
    if((fd >= 0) != (seen[i] != 0))
      fail("%s listed %d times but open gave %d", name, seen[i], fd);
    close(fd);
    unlink(name);
  }
  if(makefile("utcdx", "ok", 2) != 0 || unlink("utcdx") != 0)
    fail("the file system does not work after the stress");
}

// ---- memory --------------------------------------------------------------

static int accounted_pages(void);

static void
touchbyte(uint64 a)
{
  *(volatile char*)launder(a) = 1;
}

// can sbrk grow memory, give it back, and fault on what was given back?
void
sbrkgrow(void)
{
  char *a, *b, *c, *top;
  int i, st;

  a = sbrk(0);
  b = sbrk(10 * PGSIZE);
  if(b != a)
    fail("sbrk returned %p, the old break was %p", b, a);
  for(i = 0; i < 10 * PGSIZE; i += PGSIZE / 2)
    b[i] = i / PGSIZE + 1;
  b[10 * PGSIZE - 1] = 99;
  for(i = 0; i < 10 * PGSIZE; i += PGSIZE / 2)
    if(b[i] != i / PGSIZE + 1)
      fail("grown memory lost a write at offset %d", i);
  if(sbrk(0) != a + 10 * PGSIZE)
    fail("break did not move by 10 pages");
  c = sbrk(-10 * PGSIZE);
  if(c != a + 10 * PGSIZE)
    fail("shrinking sbrk returned %p", c);
  if(sbrk(0) != a)
    fail("break did not return to %p", a);

  // small steps, not page multiples
  for(i = 0; i < 100; i++){
    c = sbrk(13);
    if(c != a + 13 * i)
      fail("sbrk(13) step %d returned %p", i, c);
    c[12] = 'k';
  }
  if(sbrk(-1300) == (char*)-1)
    fail("sbrk(-1300) failed");

  // touching memory after it is given back kills the process
  top = sbrk(0);
  if(sbrk(4 * PGSIZE) == (char*)-1)
    fail("sbrk failed");
  top[3 * PGSIZE] = 1;
  sbrk(-4 * PGSIZE);
  if((st = inchild(touchbyte, (uint64)top + 2 * PGSIZE)) != -1)
    fail("writing freed heap: status %d, expected -1", st);
  if((st = inchild(loadbyte, (uint64)top + 3 * PGSIZE)) != -1)
    fail("reading freed heap: status %d, expected -1", st);
}

// does a huge sbrk fail with -1 and leave the process running?
void
sbrkhuge(void)
{
  char *a, *r;

  a = sbrk(0);
  r = sbrk(0x7ffff000);
  if(r != (char*)-1)
    fail("sbrk of 2 GB returned %p", r);
  if(sbrk(0) != a)
    fail("failed sbrk moved the break");
  r = sbrk(1 << 30);
  if(r != (char*)-1)
    fail("sbrk of 1 GB returned %p", r);
  if(sbrk(0) != a)
    fail("failed sbrk moved the break");
  r = sbrk(PGSIZE);
  if(r != a)
    fail("sbrk after a failure returned %p", r);
  r[PGSIZE - 1] = 1;
}

// Does sbrklazy() give address space now and memory only at the first
// touch, through user accesses and system calls alike, and does fork copy
// only the pages that were touched?
void
sbrklazy_touch(void)
{
  char *a, *top;
  int free0, free1, p[2], st, pid;

  free0 = freepages();
  a = sbrklazy(1 << 30);
  if(a == (char*)-1)
    fail("sbrklazy of 1 GB failed");
  if(sbrk(0) != a + (1 << 30))
    fail("sbrklazy did not move the break by 1 GB");
  if(free0 - freepages() > 8)
    fail("sbrklazy of 1 GB took %d pages at once", free0 - freepages());

  // user loads and stores: an untouched page reads as zero
  if(a[0] != 0 || a[(1 << 29) + 5] != 0)
    fail("an untouched lazy page is not zero");
  a[0] = 'a';
  a[(1 << 30) - 1] = 'z';
  if(a[0] != 'a' || a[(1 << 30) - 1] != 'z')
    fail("a lazy page lost a write");

  // system calls: read() into and write() from untouched lazy pages
  if(pipe(p) < 0)
    fail("pipe failed");
  if(write(p[1], "lazy", 4) != 4)
    fail("write to pipe failed");
  if(read(p[0], a + (1 << 28), 4) != 4 || memcmp(a + (1 << 28), "lazy", 4))
    fail("read() into an untouched lazy page failed");
  if(write(p[1], a + (3 << 27), 64) != 64)
    fail("write() from an untouched lazy page failed");
  if(read(p[0], buf, 64) != 64)
    fail("read from pipe failed");
  for(int i = 0; i < 64; i++)
    if(buf[i] != 0)
      fail("write() from an untouched lazy page sent non-zero bytes");
  close(p[0]);
  close(p[1]);

  // fork copies the five touched pages, not the gigabyte
  free1 = accounted_pages();
  int raw1 = freepages();
  pid = fork();
  if(pid < 0)
    fail("fork of a process with a 1 GB lazy heap failed");
  if(pid == 0){
    if(raw1 - freepages() > 64)
      fail("fork took %d pages for five touched ones", raw1 - freepages());
    if(a[0] != 'a' || a[(1 << 30) - 1] != 'z' || a[(1 << 28) + 3] != 'y')
      fail("the child does not see the parent's lazy pages");
    a[12345678] = 'c';   // the child's own first touch
    exit(a[12345678] == 'c' ? 0 : 1);
  }
  if((st = waitfor(pid)) != 0)
    fail("the child's lazy heap: status %d", st);
  if(a[12345678] != 0)
    fail("the child's touch reached the parent");

  // past the break is still a bad address, for the user and the kernel
  top = sbrk(0);
  expectkilled("writing past the lazy break at", touchbyte, (uint64)top);
  if(write(p[1] = open("lazyfile", O_CREATE | O_RDWR), top, 10) != -1)
    fail("write() from past the break did not return -1");
  close(p[1]);
  unlink("lazyfile");

  // shrinking gives the touched pages back, and they are gone (counted
  // as leak checks count, and given time: the children's stacks and a
  // root another hart lazily kept come back asynchronously)
  if(sbrk(-(1 << 30)) != top)
    fail("shrinking the lazy heap failed");
  int kept = 0;
  for(int t = 0; t < 200 && (kept = free1 - accounted_pages()) > 0; t++)
    pause(1);
  if(kept > 0)
    fail("shrinking the lazy heap kept %d pages", kept);
  expectkilled("reading a lazy page given back at", loadbyte, (uint64)a);
}

// Does the heap grow lazily up to xv6's TRAPFRAME and no further, and may
// the very last page be used?
void
sbrklazy_top(void)
{
  char *start, *brk, *last;
  int steps = 0;

  start = sbrk(0);
  while(sbrklazy(1 << 30) != (char*)-1)
    if(++steps > 300)
      fail("sbrklazy grew past 300 GB");
  brk = sbrk(0);
  if((uint64)brk > TRAPFRAME || (uint64)brk + (1 << 30) <= TRAPFRAME)
    fail("sbrklazy stopped at %p, not within 1 GB below %p",
         brk, (void*)TRAPFRAME);
  if(sbrklazy(TRAPFRAME - (uint64)brk) != brk)
    fail("sbrklazy up to TRAPFRAME failed");
  if(sbrklazy(1) != (char*)-1 || sbrk(1) != (char*)-1)
    fail("the break passed TRAPFRAME");
  last = (char*)launder(TRAPFRAME - 1);
  *last = 7;
  if(*last != 7)
    fail("the last heap page lost a write");

  while((uint64)sbrk(0) - (uint64)start >= (1U << 30))
    sbrk(-(1 << 30));
  sbrk(-(int)((uint64)sbrk(0) - (uint64)start));
  if(sbrk(0) != start)
    fail("the break did not come back to %p", start);

  // a shrink below address 0 leaves the break alone (as in xv6)
  if(sbrk(-(int)(uint64)start - PGSIZE) != start || sbrk(0) != start)
    fail("a shrink past address 0 moved the break");
}

// does malloc hand out usable memory, again and again?
void
mallocloop(void)
{
  static char *blocks[64];
  int round, i, j, size;

  for(round = 0; round < 50; round++){
    for(i = 0; i < 64; i++){
      size = 1 + (round * 37 + i * 911) % 6000;
      blocks[i] = malloc(size);
      if(blocks[i] == 0)
        fail("malloc(%d) failed in round %d", size, round);
      memset(blocks[i], i, size);
    }
    for(i = 0; i < 64; i++){
      size = 1 + (round * 37 + i * 911) % 6000;
      for(j = 0; j < size; j += 97)
        if(blocks[i][j] != i)
          fail("block %d was overwritten", i);
      free(blocks[(i * 7) % 64]);
    }
  }
}

struct chunk {
  struct chunk *next;
};

// does running out of memory make malloc and fork fail rather than crash?
void
memexhaust(void)
{
  struct chunk *list = 0, *c;
  int n, pid;
  char *big;

  for(n = 0; n < 4096; n++){
    c = malloc(64 * 1024 - 64);
    if(c == 0)
      break;
    c->next = list;
    list = c;
  }
  if(n == 4096)
    fail("256 MB of malloc did not run out");
  if(n == 0)
    fail("malloc failed at once");
  pid = fork();
  if(pid == 0)
    exit(0);
  if(pid > 0)
    waitfor(pid);
  while(list){
    c = list->next;
    free(list);
    list = c;
  }
  big = malloc(1024 * 1024);
  if(big == 0)
    fail("malloc(1 MB) failed after freeing %d chunks", n);
  memset(big, 1, 1024 * 1024);
}

// The address just below the lowest stack page: the guard page.
static uint64
guardaddr(void)
{
  uint64 top = PGROUNDUP(r_sp());

  return top - USERSTACK * PGSIZE - 8;
}

// does touching the guard page below the stack kill the process?
void
stackguard(void)
{
  int st;
  uint64 g = guardaddr();

  if((st = inchild(loadfrom, g + 8)) != 0)
    fail("reading the bottom of the stack: status %d", st);
  expectkilled("load from the stack guard page", loadfrom, g);
  expectkilled("store to the stack guard page", storeto, g);
}

static int
recurse(int n)
{
  volatile char frame[256];

  frame[0] = n;
  if(n == 0)
    return frame[0];
  return recurse(n - 1) + frame[0];
}

static void
overflow(uint64 depth)
{
  recurse((int)depth);
}

// does a stack overflow kill the process instead of corrupting memory?
void
stackoverflow(void)
{
  expectkilled("recursion to depth", overflow, 100);
}

int main(int argc, char *argv[]);

// may a program read but not write its own text?
void
textwrite(void)
{
  int st;

  if((st = inchild(loadfrom, (uint64)main)) != 0)
    fail("reading main's code: status %d", st);
  if((st = inchild(loadbyte, 0)) != 0)
    fail("reading address 0 (text): status %d", st);
  expectkilled("store to main's code", storeto, (uint64)main);
  expectkilled("store to address", storebyte, 0);
  expectkilled("store to address", storebyte, 8);
}

// ---- the kernel half and other forbidden addresses -----------------------

static uint64 kaddrs[] = {
  KERNBASE,
  KERNBASE + 0x200000,          // the kernel image
  PAGE_OFFSET,
  PAGE_OFFSET + UART0_PA,       // a device
  VMALLOC_START,                // kernel stacks
  0xffffffffffffff00UL,
};
#define NKADDRS (sizeof(kaddrs) / sizeof(kaddrs[0]))

static uint64 holeaddrs[] = {
  MAXVA,                        // 0x0000004000000000
  0x8000000000000000UL,
  0x0000008000000000UL,
  0xffffffbffffff000UL,         // just below PAGE_OFFSET
};
#define NHOLEADDRS (sizeof(holeaddrs) / sizeof(holeaddrs[0]))

// does a load from the kernel half kill the process?
void
kernelload(void)
{
  int i;

  for(i = 0; i < NKADDRS; i++)
    expectkilled("load from", loadfrom, kaddrs[i]);
}

// does a store to the kernel half kill the process?
void
kernelstore(void)
{
  int i;

  for(i = 0; i < NKADDRS; i++)
    expectkilled("store to", storeto, kaddrs[i]);
}

// does a jump into the kernel half kill the process?
void
kerneljump(void)
{
  int i;

  for(i = 0; i < NKADDRS; i++)
    expectkilled("jump to", jumpto, kaddrs[i]);
}

// do loads, stores and jumps to non-canonical addresses kill the process?
void
noncanonical(void)
{
  int i;

  for(i = 0; i < NHOLEADDRS; i++){
    expectkilled("load from", loadfrom, holeaddrs[i]);
    expectkilled("store to", storeto, holeaddrs[i]);
    expectkilled("jump to", jumpto, holeaddrs[i]);
  }
}

// do accesses to unmapped user addresses kill the process?
void
unmappeduser(void)
{
  expectkilled("load from", loadfrom, MAXVA - PGSIZE);
  expectkilled("store to", storeto, MAXVA - 8);
  expectkilled("load from", loadfrom, 0x10000000UL);
  expectkilled("jump to", jumpto, 0x10000000UL);
}

// Pointers no system call may accept, with a length to go with each.
static struct {
  uint64 p;
  int n;
} badptrs[] = {
  { KERNBASE, 16 },
  { KERNBASE + 0x200000, 64 },
  { PAGE_OFFSET, 16 },
  { PAGE_OFFSET + 0x1000, 512 },
  { VMALLOC_START, 16 },
  { VMALLOC_START + 0x3000, 16 },
  { MAXVA, 16 },
  { MAXVA - 1, 2 },             // starts below MAXVA, ends above it
  { MAXVA - 8, 4096 },
  { 0x8000000000000000UL, 16 },
  { 0xffffffffffffffffUL, 1 },
  { 0xffffffffffffffffUL, 16 }, // wraps around to 0
  { 0xffffffffffffff00UL, 0x200 }, // wraps around into user text
  { 0xfffffffffffff000UL, 0x2000 },
};
#define NBADPTRS (sizeof(badptrs) / sizeof(badptrs[0]))

// Does the system still do ordinary work? Fail the test if not.
static void
stillworks(char *after)
{
  int pid, fd;

  if(makefile("utok", "fine", 4) != 0)
    fail("file create fails after %s", after);
  fd = open("utok", O_RDONLY);
  if(read(fd, buf2, 10) != 4 || memcmp(buf2, "fine", 4) != 0)
    fail("file read fails after %s", after);
  close(fd);
  unlink("utok");
  pid = fork();
  if(pid == 0)
    exit(9);
  if(pid < 0 || waitfor(pid) != 9)
    fail("fork and wait fail after %s", after);
}

// does read into a kernel-half, non-canonical or wrapping pointer fail?
void
kptrread(void)
{
  int i, fd, p[2], r;

  memset(buf, 'r', 8192);
  if(makefile("utkr", buf, 8192) != 0)
    fail("create failed");
  for(i = 0; i < NBADPTRS; i++){
    fd = open("utkr", O_RDONLY);
    r = read(fd, (void*)badptrs[i].p, badptrs[i].n);
    close(fd);
    if(r != -1)
      fail("read from a file into %p len %d returned %d",
           (void*)badptrs[i].p, badptrs[i].n, r);
    if(pipe(p) < 0)
      fail("pipe failed");
    write(p[1], buf, 100);      // less than a pipe holds
    r = read(p[0], (void*)badptrs[i].p, badptrs[i].n);
    close(p[0]);
    close(p[1]);
    if(r != -1)
      fail("read from a pipe into %p len %d returned %d",
           (void*)badptrs[i].p, badptrs[i].n, r);
  }
  unlink("utkr");
  stillworks("reads into kernel addresses");
}

// does write from a kernel-half or wrapping pointer fail, leaking nothing?
void
kptrwrite(void)
{
  int i, fd, p[2], r, n;
  struct stat st;

  for(i = 0; i < NBADPTRS; i++){
    fd = open("utkw", O_CREATE | O_TRUNC | O_RDWR);
    r = write(fd, (void*)badptrs[i].p, badptrs[i].n);
    if(fstat(fd, &st) < 0)
      fail("fstat failed");
    close(fd);
    if(r != -1)
      fail("write to a file from %p len %d returned %d",
           (void*)badptrs[i].p, badptrs[i].n, r);
    if(st.size != 0)
      fail("write from %p put %d bytes in the file",
           (void*)badptrs[i].p, (int)st.size);
    if(pipe(p) < 0)
      fail("pipe failed");
    r = write(p[1], (void*)badptrs[i].p, badptrs[i].n);
    write(p[1], "ok", 2);
    close(p[1]);
    n = readall(p[0], buf, sizeof(buf));
    close(p[0]);
    if(r != -1)
      fail("write to a pipe from %p len %d returned %d",
           (void*)badptrs[i].p, badptrs[i].n, r);
    if(n != 2)
      fail("write from %p put %d bytes in the pipe",
           (void*)badptrs[i].p, n - 2);
  }
  unlink("utkw");
  stillworks("writes from kernel addresses");
}

// do fstat, pipe and wait refuse to store through kernel pointers?
void
kptrstore(void)
{
  int i, fd, low, pid, r;

  fd = open(".", O_RDONLY);
  for(i = 0; i < NBADPTRS; i++){
    if(fstat(fd, (struct stat*)badptrs[i].p) != -1)
      fail("fstat into %p did not return -1", (void*)badptrs[i].p);
    low = lowestfd();
    if(pipe((int*)badptrs[i].p) != -1)
      fail("pipe into %p did not return -1", (void*)badptrs[i].p);
    if(lowestfd() != low)
      fail("failed pipe into %p left fds open", (void*)badptrs[i].p);
    if(procinfo((struct procinfo*)badptrs[i].p, 2) != -1)
      fail("procinfo into %p did not return -1", (void*)badptrs[i].p);
    pid = fork();
    if(pid == 0)
      exit(4);
    r = wait((int*)badptrs[i].p);
    if(r != -1)
      fail("wait into %p returned %d", (void*)badptrs[i].p, r);
    wait(0);   // the child, if the failed wait left it
  }
  close(fd);
  stillworks("stores to kernel addresses");
}

// Run exec(path, args) in a child with stdout on a closed pipe; return 1
// if exec returned -1 there.
static int
execfails(char *path, char **args)
{
  int pid, p[2];

  if(pipe(p) < 0)
    fail("pipe failed");
  pid = fork();
  if(pid < 0)
    fail("fork failed");
  if(pid == 0){
    close(1);
    dup(p[1]);
    close(p[0]);
    close(p[1]);
    if(exec(path, args) == -1)
      exit(EXECOK);
    exit(1);
  }
  close(p[0]);
  close(p[1]);
  return waitfor(pid) == EXECOK;
}

// does exec refuse kernel pointers for the path, argv, or an argument?
void
kptrexec(void)
{
  static char *args[4];
  char *echo = echopath();
  int i;

  for(i = 0; i < NBADPTRS; i++){
    args[0] = "echo";
    args[1] = 0;
    if(!execfails((char*)badptrs[i].p, args))
      fail("exec with path %p did not return -1", (void*)badptrs[i].p);
    if(!execfails(echo, (char**)badptrs[i].p))
      fail("exec with argv %p did not return -1", (void*)badptrs[i].p);
    args[1] = (char*)badptrs[i].p;
    args[2] = 0;
    if(!execfails(echo, args))
      fail("exec with argument %p did not return -1", (void*)badptrs[i].p);
  }
  stillworks("exec with kernel pointers");
}

// do the path system calls refuse kernel pointers?
void
kptrpath(void)
{
  int i;
  char *p;

  if(makefile("utkp", "x", 1) != 0)
    fail("create failed");
  for(i = 0; i < NBADPTRS; i++){
    p = (char*)badptrs[i].p;
    if(open(p, O_RDONLY) != -1 || open(p, O_CREATE | O_RDWR) != -1)
      fail("open of path %p did not return -1", p);
    if(mkdir(p) != -1)
      fail("mkdir of path %p did not return -1", p);
    if(mknod(p, 1, 1) != -1)
      fail("mknod of path %p did not return -1", p);
    if(chdir(p) != -1)
      fail("chdir to path %p did not return -1", p);
    if(unlink(p) != -1)
      fail("unlink of path %p did not return -1", p);
    if(link(p, "utkp2") != -1 || link("utkp", p) != -1)
      fail("link with path %p did not return -1", p);
  }
  unlink("utkp2");
  unlink("utkp");
  stillworks("paths at kernel addresses");
}

// what if a path or argument runs into an unmapped page before its NUL?
void
unterminated(void)
{
  static char *args[3];
  static char longpath[MAXPATH + 64];
  char *cur, *s;
  uint64 top;
  int fd;

  cur = sbrk(0);
  top = PGROUNDUP((uint64)cur) + PGSIZE;
  if(sbrk(top - (uint64)cur) == (char*)-1)
    fail("sbrk failed");
  s = (char*)(top - 20);
  memset(s, 'u', 20);            // no NUL before the unmapped page
  fd = open(s, O_CREATE | O_RDWR);
  if(fd != -1){
    unlink("uuuuuuuuuuuuuu");
    fail("create with an unterminated path returned %d", fd);
  }
  if(mkdir(s) != -1 || chdir(s) != -1 || unlink(s) != -1)
    fail("an unterminated path was accepted");
  if(!execfails(s, args))
    fail("exec with an unterminated path did not return -1");
  args[0] = "echo";
  args[1] = s;
  args[2] = 0;
  if(!execfails(echopath(), args))
    fail("exec with an unterminated argument did not return -1");
  // an argv array that runs into the unmapped page
  memset((char*)(top - 16), 0x11, 16);
  if(!execfails(echopath(), (char**)(top - 16)))
    fail("exec with an unterminated argv did not return -1");

  memset(longpath, 'v', sizeof(longpath) - 1);
  fd = open(longpath, O_CREATE | O_RDWR);
  if(fd != -1){
    unlink("vvvvvvvvvvvvvv");
    fail("create with a path longer than MAXPATH returned %d", fd);
  }
}

// ---- robustness ----------------------------------------------------------

// do system calls reject file descriptors that are out of range or closed?
void
badfd(void)
{
  static int bad[] = { -1, NOFILE, NOFILE + 1, 1000, 0x7fffffff, -0x7fffffff };
  struct stat st;
  int i, fd, closed;

  closed = open(".", O_RDONLY);
  close(closed);
  for(i = 0; i <= sizeof(bad) / sizeof(bad[0]); i++){
    fd = i < sizeof(bad) / sizeof(bad[0]) ? bad[i] : closed;
    if(read(fd, buf, 1) != -1)
      fail("read from fd %d did not return -1", fd);
    if(write(fd, "x", 1) != -1)
      fail("write to fd %d did not return -1", fd);
    if(fstat(fd, &st) != -1)
      fail("fstat of fd %d did not return -1", fd);
    if(dup(fd) != -1)
      fail("dup of fd %d did not return -1", fd);
    if(close(fd) != -1)
      fail("close of fd %d did not return -1", fd);
  }
}

// do negative lengths fail instead of turning into huge ones?
void
neglen(void)
{
  int fd, p[2], r;

  memset(buf, 'n', 100);
  if(makefile("utneg", buf, 100) != 0)
    fail("create failed");
  fd = open("utneg", O_RDWR);
  if((r = read(fd, buf2, -1)) != -1)
    fail("read with length -1 returned %d", r);
  if((r = write(fd, buf, -100)) != -1)
    fail("write with length -100 returned %d", r);
  if((r = read(fd, buf2, -2147483647 - 1)) != -1)
    fail("read with length INT_MIN returned %d", r);
  close(fd);
  unlink("utneg");
  if(pipe(p) < 0)
    fail("pipe failed");
  write(p[1], "abc", 3);
  if((r = read(p[0], buf2, -1)) != -1)
    fail("read from a pipe with length -1 returned %d", r);
  if((r = write(p[1], buf, -1)) != -1)
    fail("write to a pipe with length -1 returned %d", r);
  close(p[0]);
  close(p[1]);
  if(sbrk(0) == (char*)-1)
    fail("sbrk(0) failed");
}

// what does closing a descriptor twice do?
void
closetwice(void)
{
  int fd;

  fd = open(".", O_RDONLY);
  if(fd < 0)
    fail("open failed");
  if(close(fd) != 0)
    fail("first close failed");
  if(close(fd) != -1)
    fail("second close of fd %d did not return -1", fd);
}

// does a process run out of descriptors at NOFILE, and get them back?
void
fdlimit(void)
{
  static int fds[NOFILE + 5];
  int fd, last = -1, n = 0, i;

  for(i = 0; i < NOFILE + 5; i++){
    fd = open(".", O_RDONLY);
    if(fd < 0)
      break;
    fds[n++] = last = fd;
  }
  if(fd >= 0)
    fail("opened %d files without running out (NOFILE %d)", n, NOFILE);
  if(last != NOFILE - 1)
    fail("the last fd was %d, expected %d", last, NOFILE - 1);
  if(dup(0) != -1)
    fail("dup succeeded with no free fd");
  if(pipe((int*)buf2) != -1)
    fail("pipe succeeded with no free fd");
  for(i = 0; i < n; i++)
    close(fds[i]);
  fd = open(".", O_RDONLY);
  if(fd < 0)
    fail("open fails after closing the descriptors");
  close(fd);
}

// what does an unknown system call number do?
void
badsyscall(void)
{
  static long nums[] = { 999, 0, -1, 1000000, SYS_kstat + 100,
                         0x100000000L + SYS_getpid };
  long r;
  int i;

  for(i = 0; i < sizeof(nums) / sizeof(nums[0]); i++){
    r = rawsyscall(nums[i], 1, 2, 3);
    if(r != -1)
      fail("system call %ld returned %ld", nums[i], r);
  }
  if(rawsyscall(SYS_getpid, 0, 0, 0) != getpid())
    fail("getpid through a raw ecall disagrees");
}

// do traps leave satp alone? (no trampoline: the kernel half is in every
// page table, so entering and leaving the kernel needs no switch.) Other
// processes' switches may write satp meanwhile, and a loaded host gives
// the loop more timer interrupts and preemptions than an idle one: the
// bound allows two writes per context switch counted in the window, plus
// what a spin just as long without system calls saw. One write per call
// would add 5000 on top, one per 500 calls still 10. On KPTI=1 every trap
// from user mode (the calls and any timer interrupts) adds exactly two.
static long
rdtime(void)
{
  long t;
  asm volatile("rdtime %0" : "=r"(t));
  return t;
}

void
trapnosatp(void)
{
  int i, n = 5000;
  long t0, spent, traps, satp, switches, others, allowed;

  t0 = rdtime();
  traps = kstat(KSTAT_TRAPS);
  switches = kstat(KSTAT_SWITCHES);
  satp = kstat(KSTAT_SATP_WRITES);
  for(i = 0; i < n; i++)
    getpid();
  satp = kstat(KSTAT_SATP_WRITES) - satp;
  switches = kstat(KSTAT_SWITCHES) - switches;
  traps = kstat(KSTAT_TRAPS) - traps;
  spent = rdtime() - t0;
  if(traps < n)
    fail("%ld traps counted for %d system calls", traps, n);
  others = kstat(KSTAT_SATP_WRITES);
  for(t0 = rdtime(); rdtime() - t0 < spent; )
    ;
  others = kstat(KSTAT_SATP_WRITES) - others;
  allowed = 2 * switches + others + 10;
  if(kstat(KSTAT_KPTI) == 1){
    // KPTI=1: each trap goes to the kernel root and back, two writes
    if(satp < 2 * n || satp > 2 * traps + allowed)
      fail("KPTI: %ld satp writes during %d system calls (%ld traps, %ld "
           "switches), want 2 per trap (+%ld)", satp, n, traps, switches,
           allowed);
    return;
  }
  if(satp > allowed)
    fail("%ld satp writes during %d system calls, %ld switches, %ld while "
         "spinning as long without any: the trap path writes satp", satp, n,
         switches, others);
}

// does kstat give each hart's own count, adding up to the total, and
// refuse harts and counters that have no per-hart count?
void
kstatharts(void)
{
  int nharts = kstat(KSTAT_NCPU), c, h;
  long before, sum, after, one;
  static int per_hart[] = { KSTAT_SATP_WRITES, KSTAT_LAZY_SWITCHES,
    KSTAT_VMALLOC_SYNCS, KSTAT_SWITCHES, KSTAT_TRAPS, KSTAT_TLB_FLUSHES,
    KSTAT_UNFLUSHED_SYNCS, KSTAT_IDLE_MM_DROPS, KSTAT_TEMPLATE_SATP,
    KSTAT_REMOTE_FENCES };

  for(c = 0; c < sizeof(per_hart) / sizeof(per_hart[0]); c++){
    // the counters only grow, so the sum read between two totals lies
    // between them
    before = kstat(per_hart[c]);
    sum = 0;
    for(h = 0; h < nharts; h++){
      if((one = kstat(per_hart[c] + KSTAT_HART(h))) < 0)
        fail("counter %d of hart %d: %ld", per_hart[c], h, one);
      sum += one;
    }
    after = kstat(per_hart[c]);
    if(sum < before || sum > after)
      fail("counter %d: harts add up to %ld, total went %ld..%ld",
           per_hart[c], sum, before, after);
    if(kstat(per_hart[c] + KSTAT_HART(nharts)) != -1)
      fail("counter %d of hart %d (no such hart) is not -1",
           per_hart[c], nharts);
  }
  if(kstat(KSTAT_TRAPS + KSTAT_HART(0)) <= 0)
    fail("hart 0 took no traps");
  if(kstat(KSTAT_FREEPAGES + KSTAT_HART(0)) != -1 || kstat(-1) != -1 ||
     kstat(KSTAT_TRAPS + KSTAT_HART(-2)) != -1)
    fail("kstat accepted a counter that has no per-hart count");
}

// do harts give back the roots of exited processes when they go idle, so
// that no page stays with a process that is gone while the machine rests?
void
idlegivesback(void)
{
  int i, pid;

  for(i = 0; i < 20; i++){
    if((pid = fork()) < 0)
      fail("fork failed");
    if(pid == 0)
      exit(0);
    if(waitfor(pid) != 0)
      fail("child exited with a non-zero status");
  }
  // Sleeping lets this hart go idle too; every hart ticks at 100 Hz.
  for(i = 0; i < 50 && kstat(KSTAT_LAZY_ROOTS) != 0; i++)
    pause(1);
  if(kstat(KSTAT_LAZY_ROOTS) != 0)
    fail("%ld roots of exited processes still kept after 50 idle ticks",
         kstat(KSTAT_LAZY_ROOTS));
}

// ---- the runner ----------------------------------------------------------

// can user mode read the cycle and instret counters (scounteren)? A read
// the kernel did not allow traps as an illegal instruction and kills the
// test. A loop of n iterations retires at least n instructions; QEMU
// without -icount backs both counters with the host's clock, which
// advances at least as fast.
void
usercounters(void)
{
  long c0, c1, i0, i1, n = 100000;

  asm volatile("rdcycle %0" : "=r"(c0));
  asm volatile("rdinstret %0" : "=r"(i0));
  for(volatile long k = 0; k < n; k++)
    ;
  asm volatile("rdinstret %0" : "=r"(i1));
  asm volatile("rdcycle %0" : "=r"(c1));
  if(i1 - i0 < n)
    fail("instret advanced %ld over a %ld-iteration loop", i1 - i0, n);
  if(c1 <= c0)
    fail("cycle did not advance (%ld then %ld)", c0, c1);
}

struct test {
  void (*fn)(void);
  char *name;
  int slow;
};

static struct test tests[] = {
  { exitwait, "exitwait", 0 },
  { waitnochild, "waitnochild", 0 },
  { forkmany, "forkmany", 0 },
  { forkfail, "forkfail", 0 },
  { killchild, "killchild", 0 },
  { orphan, "orphan", 0 },
  { getpiddistinct, "getpiddistinct", 0 },
  { forkcopy, "forkcopy", 0 },
  { execargs, "execargs", 0 },
  { execbad, "execbad", 0 },
  { exectoomanyargs, "exectoomanyargs", 0 },
  { sleepuptime, "sleepuptime", 0 },
  { pipedata, "pipedata", 0 },
  { pipeeof, "pipeeof", 0 },
  { pipebig, "pipebig", 0 },
  { pipenoreader, "pipenoreader", 0 },
  { filerw, "filerw", 0 },
  { bigfile, "bigfile", 0 },
  { filelimit, "filelimit", 1 },
  { manyfiles, "manyfiles", 0 },
  { dirpaths, "dirpaths", 0 },
  { unlinkopen, "unlinkopen", 0 },
  { linkcount, "linkcount", 0 },
  { removedcwd, "removedcwd", 0 },
  { partialwrite, "partialwrite", 0 },
  { opendir, "opendir", 0 },
  { openmodes, "openmodes", 0 },
  { dupoffset, "dupoffset", 0 },
  { truncate, "truncate", 0 },
  { readeof, "readeof", 0 },
  { fstatsize, "fstatsize", 0 },
  { fourfiles, "fourfiles", 0 },
  { sharedfd, "sharedfd", 0 },
  { createdelete, "createdelete", 1 },
  { sbrkgrow, "sbrkgrow", 0 },
  { sbrkhuge, "sbrkhuge", 0 },
  { sbrklazy_touch, "sbrklazy_touch", 0 },
  { ptdump_exiting, "ptdump_exiting", 0 },
  { sbrklazy_top, "sbrklazy_top", 0 },
  { mallocloop, "mallocloop", 0 },
  { memexhaust, "memexhaust", 1 },
  { stackguard, "stackguard", 0 },
  { stackoverflow, "stackoverflow", 0 },
  { textwrite, "textwrite", 0 },
  { kernelload, "kernelload", 0 },
  { kernelstore, "kernelstore", 0 },
  { kerneljump, "kerneljump", 0 },
  { noncanonical, "noncanonical", 0 },
  { unmappeduser, "unmappeduser", 0 },
  { kptrread, "kptrread", 0 },
  { kptrwrite, "kptrwrite", 0 },
  { kptrstore, "kptrstore", 0 },
  { kptrexec, "kptrexec", 0 },
  { kptrpath, "kptrpath", 0 },
  { unterminated, "unterminated", 0 },
  { badfd, "badfd", 0 },
  { neglen, "neglen", 0 },
  { closetwice, "closetwice", 0 },
  { fdlimit, "fdlimit", 0 },
  { badsyscall, "badsyscall", 0 },
  { trapnosatp, "trapnosatp", 0 },
  { usercounters, "usercounters", 0 },
  { kstatharts, "kstatharts", 0 },
  { idlegivesback, "idlegivesback", 0 },
  { 0, 0, 0 },
};

static char msg[512];

// Print the verdict on test t from the child's status and message.
static int
verdict(struct test *t, int st, int timedout, int rfd)
{
  char *name = t->name;
  int n;

  if(timedout){
    printf("test %s: FAILED (did not finish within %d ticks)\n", name,
           t->slow ? SLOWTICKS : QUICKTICKS);
    return 0;
  }
  if(st == 0){
    printf("test %s: OK\n", name);
    return 1;
  }
  if(st == 1){
    // fail() wrote a message before it exited, so this read cannot block.
    n = read(rfd, msg, sizeof(msg) - 1);
    if(n < 0)
      n = 0;
    msg[n] = 0;
    while(n > 0 && msg[n - 1] == '\n')
      msg[--n] = 0;
    printf("test %s: FAILED (%s)\n", name, msg);
  } else if(st == -1){
    printf("test %s: FAILED (the test process was killed, status -1)\n",
           name);
  } else {
    printf("test %s: FAILED (the test process exited with status %d)\n",
           name, st);
  }
  return 0;
}

// Run test t in a child, with a watchdog child that kills it if it hangs.
// Returns 1 if it passed.
static int
runtest(struct test *t)
{
  int p[2], pid, wd, who, s, st = 0, ok;
  int gotpid = 0, gotwd = 0, timedout = 0;

  if(pipe(p) < 0){
    printf("test %s: FAILED (usertests could not make a pipe)\n", t->name);
    return 0;
  }
  pid = fork();
  if(pid < 0){
    printf("test %s: FAILED (usertests could not fork)\n", t->name);
    close(p[0]);
    close(p[1]);
    return 0;
  }
  if(pid == 0){
    close(p[0]);
    reportfd = p[1];
    t->fn();
    exit(0);
  }
  close(p[1]);
  wd = fork();
  if(wd == 0){
    close(p[0]);
    sleep(t->slow ? SLOWTICKS : QUICKTICKS);
    kill(pid);
    exit(0);
  }
  if(wd < 0)
    gotwd = 1;     // run without a watchdog
  while(!gotpid || !gotwd){
    who = wait(&s);
    if(who < 0)
      break;
    if(who == pid){
      gotpid = 1;
      st = s;
      if(!gotwd)
        kill(wd);
    } else if(who == wd){
      // The watchdog exits 0 only when it fired; killed early it gives -1.
      gotwd = 1;
      if(s == 0)
        timedout = 1;
    }
  }
  ok = verdict(t, st, timedout, p[0]);
  close(p[0]);
  return ok;
}

// Free pages as leak checks count them (kobj_read, user/lib/testlib.c):
// with the roots that harts keep only because they lazily borrowed an
// exited process's address space, the stacks being freed and the
// vmalloc area's page-table pages.
static int
accounted_pages(void)
{
  long v[NKOBJ], prev = -1;

  // An idle hart may free such a root between two reads: read until two
  // agree.
  for(int i = 0; i < 10; i++){
    kobj_read(v);
    if(v[KOBJ_FREE] == prev)
      break;
    prev = v[KOBJ_FREE];
  }
  return v[KOBJ_FREE];
}

// Wait for every child, then compare the free page count with before.
static int
checkfree(int before)
{
  int after = -1, i;

  while(wait(0) >= 0)
    ;
  for(i = 0; i < 300; i++){
    after = accounted_pages();
    if(after == before)
      break;
    pause(1);
  }
  if(before < 0 || after != before){
    printf("test freepages_restored: FAILED (%d free pages before the "
           "run, %d after: %d lost)\n", before, after, before - after);
    return 0;
  }
  printf("test freepages_restored: OK\n");
  return 1;
}

static int
wanted(struct test *t, int quick, int argc, char **argv)
{
  int i, named = 0;

  for(i = 1; i < argc; i++){
    if(strcmp(argv[i], "-q") == 0)
      continue;
    named = 1;
    if(strcmp(argv[i], t->name) == 0)
      return 1;
  }
  if(named)
    return 0;
  return !(quick && t->slow);
}

int
main(int argc, char *argv[])
{
  struct test *t;
  int quick = 0, i, before, nrun = 0, nfail = 0;

  for(i = 1; i < argc; i++){
    if(strcmp(argv[i], "-q") == 0){
      quick = 1;
      continue;
    }
    for(t = tests; t->name && strcmp(t->name, argv[i]) != 0; t++)
      ;
    if(t->name == 0 && strcmp(argv[i], "freepages_restored") != 0){
      fprintf(2, "usage: usertests [-q] [test...]; no test %s\n", argv[i]);
      exit(1);
    }
  }
  printf("usertests starting\n");
  before = accounted_pages();
  for(t = tests; t->name; t++){
    if(!wanted(t, quick, argc, argv))
      continue;
    nrun++;
    if(!runtest(t))
      nfail++;
  }
  nrun++;
  if(!checkfree(before))
    nfail++;
  if(nfail){
    printf("SOME TESTS FAILED (%d of %d)\n", nfail, nrun);
    exit(1);
  }
  printf("ALL TESTS PASSED\n");
  exit(0);
}
