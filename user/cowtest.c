// cowtest: checks of copy-on-write fork (docs/cow.md). Each check prints
// "cowtest NAME: ok" or "cowtest NAME: FAILED ..." (and the program exits
// 1); the last line is "cowtest: all passed".
//
//   cowtest            every check
//   cowtest NAME...    only these (big, many, same-page, pipe, file, lazy,
//                      text, exhaust, leak)
//   cowtest -t TOKEN   the grader's run (grade/grade-cow.py): one fork of
//                      a 2 MiB region marked with TOKEN, printing what each
//                      side saw and the counters ("cowtest grade: ...")
//
// "big" forks a process holding more than half of free memory, which a
// fork that copies every page cannot do. The checks run in a child;
// "leak", after it has exited: free pages (plus roots kept by lazy
// borrowers) and shared pages must be back where they were before.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/kstat.h"
#include "user/user.h"

#define PGSIZE 4096

static char buf[3 * PGSIZE];   // bss: shared copy-on-write by every fork
static int word = 1;           // data: the same
static const char *cur;        // the check running

static void
fail(const char *why)
{
  printf("cowtest %s: FAILED %s\n", cur, why);
  exit(1);
}

// Free pages as leak checks count them (kobj_read, user/lib/testlib.c).
static long
pages_free(void)
{
  long v[NKOBJ];
  kobj_read(v);
  return v[KOBJ_FREE];
}

// Wait for one child; return its exit status, failing if there is none.
static int
reap(void)
{
  int st = 0;
  if(wait(&st) < 0)
    fail("wait found no child");
  return st;
}

// The size of the big region: two thirds of free memory, so that a fork
// copying it cannot succeed.
static int
big_size(void)
{
  return (int)(pages_free() * 2 / 3) * PGSIZE;
}

// Grow by n bytes and write every page with a pattern of its index.
static char *
grow_filled(int n)
{
  char *p = sbrk(n);
  if(p == SBRK_ERROR)
    fail("sbrk of the big region failed");
  for(int off = 0; off < n; off += PGSIZE)
    *(int *)(p + off) = off / PGSIZE;
  return p;
}

// Fork a process holding two thirds of memory, several times over; each
// child writes a few pages (copies) and checks the others.
static void
test_big(void)
{
  int n = big_size();
  char *p = grow_filled(n);
  for(int round = 0; round < 4; round++){
    int pid = fork();
    if(pid < 0)
      fail("fork of a process holding 2/3 of memory failed");
    if(pid == 0){
      for(int off = 0; off < n; off += 64 * PGSIZE)
        *(int *)(p + off) = -1;
      for(int off = PGSIZE; off < n; off += 64 * PGSIZE)
        if(*(int *)(p + off) != off / PGSIZE)
          exit(2);
      exit(0);
    }
    if(reap() != 0)
      fail("a child saw wrong data in the shared region");
  }
  for(int off = 0; off < n; off += PGSIZE)
    if(*(int *)(p + off) != off / PGSIZE)
      fail("a child's write reached the parent");
  sbrk(-n);
}

// Three children of a big process at once, each writing its own marks.
static void
test_many(void)
{
  int n = big_size();
  char *p = grow_filled(n);
  int fds[2];
  if(pipe(fds) < 0)
    fail("pipe");
  for(int c = 0; c < 3; c++){
    int pid = fork();
    if(pid < 0)
      fail("fork failed");
    if(pid == 0){
      char go;
      for(int off = c * PGSIZE; off < n; off += 32 * PGSIZE)
        *(int *)(p + off) = 1000 + c;
      if(read(fds[0], &go, 1) != 1)   // wait until all three have written
        exit(3);
      for(int off = c * PGSIZE; off < n; off += 32 * PGSIZE)
        if(*(int *)(p + off) != 1000 + c)
          exit(4);
      for(int off = 3 * PGSIZE; off < n; off += 32 * PGSIZE)
        if(*(int *)(p + off) != off / PGSIZE)
          exit(5);
      exit(0);
    }
  }
  if(write(fds[1], "xyz", 3) != 3)
    fail("pipe write");
  for(int c = 0; c < 3; c++)
    if(reap() != 0)
      fail("a child saw another's writes or the parent's data changed");
  close(fds[0]);
  close(fds[1]);
  for(int off = 0; off < n; off += 32 * PGSIZE)
    if(*(int *)(p + off) != off / PGSIZE)
      fail("a child's write reached the parent");
  sbrk(-n);
}

// Parent and child write the same word of a shared page.
static void
test_same_page(void)
{
  int c2p[2], p2c[2];
  char x;
  word = 1;
  if(pipe(c2p) < 0 || pipe(p2c) < 0)
    fail("pipe");
  int pid = fork();
  if(pid < 0)
    fail("fork");
  if(pid == 0){
    word = 2;
    write(c2p[1], "c", 1);
    read(p2c[0], &x, 1);    // the parent has written its value
    exit(word == 2 ? 0 : 6);
  }
  read(c2p[0], &x, 1);      // the child has written its value
  if(word != 1)
    fail("the child's store reached the parent");
  word = 3;
  write(p2c[1], "p", 1);
  if(reap() != 0)
    fail("the parent's store reached the child");
  if(word != 3)
    fail("the parent lost its own store");
  close(c2p[0]); close(c2p[1]); close(p2c[0]); close(p2c[1]);
}

// The kernel writes into a shared page: copyout from a pipe (pipe) or
// from a file (file). The child reads into buf; the parent's buf must
// not change.
static void
read_into_shared(int from_file)
{
  static const char msg[] = "copy-on-write through copyout";
  int fds[2] = { -1, -1 }, fd = -1;
  memset(buf, 'a', sizeof(buf));
  if(from_file){
    fd = open("cowtest.tmp", O_CREATE | O_WRONLY | O_TRUNC);
    if(fd < 0 || write(fd, msg, sizeof(msg)) != sizeof(msg))
      fail("could not write cowtest.tmp");
    close(fd);
  } else if(pipe(fds) < 0){
    fail("pipe");
  }
  int pid = fork();
  if(pid < 0)
    fail("fork");
  if(pid == 0){
    char *dst = buf + PGSIZE + 100;   // inside a page nobody wrote since fork
    int n;
    if(from_file){
      fd = open("cowtest.tmp", O_RDONLY);
      n = read(fd, dst, sizeof(msg));
    } else {
      close(fds[1]);
      n = read(fds[0], dst, sizeof(msg));
    }
    if(n != sizeof(msg))
      exit(7);   // read() failed: copyout did not break the sharing
    exit(strcmp(dst, msg) == 0 ? 0 : 8);
  }
  if(!from_file){
    close(fds[0]);
    if(write(fds[1], msg, sizeof(msg)) != sizeof(msg))
      fail("pipe write");
    close(fds[1]);
  }
  int st = reap();
  if(st == 7)
    fail("read() into a shared page returned an error");
  if(st != 0)
    fail("read() into a shared page gave wrong data");
  for(int i = 0; i < sizeof(buf); i++)
    if(buf[i] != 'a')
      fail("the child's read() reached the parent's page");
  if(from_file)
    unlink("cowtest.tmp");
}

static void test_pipe(void) { read_into_shared(0); }
static void test_file(void) { read_into_shared(1); }

// sbrklazy pages: the touched ones are shared, the others stay lazy in
// both processes.
static void
test_lazy(void)
{
  int n = 64 * PGSIZE;
  char *p = sbrklazy(n);
  if(p == SBRK_ERROR)
    fail("sbrklazy");
  for(int off = 0; off < n; off += 2 * PGSIZE)
    p[off] = 'p';
  int pid = fork();
  if(pid < 0)
    fail("fork");
  if(pid == 0){
    for(int off = 0; off < n; off += PGSIZE){
      char want = (off / PGSIZE) % 2 ? 0 : 'p';
      if(p[off] != want)
        exit(9);
      p[off] = 'c';
    }
    exit(0);
  }
  if(reap() != 0)
    fail("the child saw wrong data in a lazily grown heap");
  for(int off = 0; off < n; off += PGSIZE){
    char want = (off / PGSIZE) % 2 ? 0 : 'p';
    if(p[off] != want)
      fail("the child's writes reached the parent's lazy heap");
  }
  sbrk(-n);
}

// Pages the user could never write (text) stay read-only after fork: a
// store there kills the child, it does not get a private copy.
static void
test_text(void)
{
  int pid = fork();
  if(pid < 0)
    fail("fork");
  if(pid == 0){
    printf("cowtest text: a store to text, the child must be killed:\n");
    *(volatile char *)test_text = 0;
    exit(0);
  }
  if(reap() != -1)
    fail("a store to read-only text was allowed after fork");
}

// Memory runs out while a child must copy: read() into a shared page
// fails with -1, a store to one kills the child (status -1); the parent
// and the kernel go on. Both processes write their stacks before memory
// runs out, so that only the shared region still needs copies.
static void
test_exhaust(void)
{
  int n = 256 * PGSIZE;
  char *p = grow_filled(n);
  int go[2], ready[2], data[2];
  if(pipe(go) < 0 || pipe(ready) < 0 || pipe(data) < 0)
    fail("pipe");
  write(data[1], "0123456789abcdef0123456789abcdef", 32);
  int pid = fork();
  if(pid < 0)
    fail("fork");
  if(pid == 0){
    volatile char x = 0;           // a store to the child's stack
    write(ready[1], (char *)&x, 1);
    if(read(go[0], (char *)&x, 1) != 1)   // memory is exhausted now
      exit(10);
    // A page or two may be left that sbrk could not use (it needed a
    // page-table page as well): some read must still fail.
    int failed = 0;
    for(int i = 0; i < 8 && !failed; i++)
      failed = read(data[0], p + (8 + i) * PGSIZE, 4) == -1;
    if(!failed)
      exit(11);
    for(int off = 0; off < n; off += PGSIZE)
      p[off] = 'c';                // the copies cannot all succeed
    exit(12);
  }
  volatile char y = 0;             // a store to the parent's stack
  if(read(ready[0], (char *)&y, 1) != 1)
    fail("the child did not start");
  int eaten = 0;                   // eat every free page, big steps first
  for(int step = 1 << 20; step >= PGSIZE; step /= 16)
    while(sbrk(step) != SBRK_ERROR)
      eaten += step;
  write(go[1], "g", 1);
  int st = reap();
  sbrk(-eaten);
  if(st == 11)
    fail("read() into a shared page did not fail with memory exhausted");
  if(st != -1)
    fail("the child was not killed when its copy found no memory");
  for(int off = 0; off < n; off += PGSIZE)
    if(*(int *)(p + off) != off / PGSIZE)
      fail("the parent's data changed");
  close(go[0]); close(go[1]); close(ready[0]); close(ready[1]);
  close(data[0]); close(data[1]);
  sbrk(-n);
}

// The grader's run. The parent marks every page of a region with tok and
// forks; the child reports how many pages are shared, whether a write()
// from shared pages made copies (it must not), whether the parent's store
// after fork reached it, and what a read() from a pipe put into a shared
// page (tok, if copyout broke the sharing). The parent then reports
// whether the child's store reached it, whether its region is intact, and
// what its stores to pages that only it maps now cost (faults that take
// the page back, no copies).
static void
grade_run(const char *tok)
{
  enum { R = 512 };
  int len = strlen(tok) + 1;
  if(len > 64)
    fail("token too long");
  char *p = sbrk(R * PGSIZE);
  if(p == SBRK_ERROR)
    fail("sbrk");
  for(int i = 0; i < R; i++){
    *(int *)(p + i * PGSIZE) = i;
    memmove(p + i * PGSIZE + 8, tok, len);
  }
  int p2c[2], data[2];
  if(pipe(p2c) < 0 || pipe(data) < 0)
    fail("pipe");
  long f0 = kstat(KSTAT_FREEPAGES), s0 = kstat(KSTAT_SHARED_PAGES);
  long c0 = kstat(KSTAT_COW_COPIES);
  p[3 * PGSIZE + 4] = 1;   // a fresh writable TLB entry for page 3
  int pid = fork();
  if(pid < 0)
    fail("fork");
  if(pid == 0){
    long s1 = kstat(KSTAT_SHARED_PAGES), f1 = kstat(KSTAT_FREEPAGES);
    long cr0 = kstat(KSTAT_COW_COPIES);
    for(int i = 0; i < 16; i++)      // the kernel reads shared pages
      write(data[1], p + (16 + i) * PGSIZE + 8, 4);
    long cr1 = kstat(KSTAT_COW_COPIES);
    char x;
    read(p2c[0], &x, 1);             // the parent has stored into page 3
    int hidden = strcmp(p + 3 * PGSIZE + 8, tok) == 0;
    memmove(p + 4 * PGSIZE + 8, "child", 6);
    int n = read(p2c[0], p + 5 * PGSIZE + 8, len);
    printf("cowtest grade: child shared %d of %d pages after fork, "
           "fork used %d pages\n", (int)(s1 - s0), R, (int)(f0 - f1));
    printf("cowtest grade: copies on read %d\n", (int)(cr1 - cr0));
    printf("cowtest grade: parent store hidden from child: %s\n", hidden ? "yes" : "no");
    printf("cowtest grade: child read %s\n", n == len ? p + 5 * PGSIZE + 8 : "(failed)");
    exit(0);
  }
  memmove(p + 3 * PGSIZE + 8, "parent", 7);
  write(p2c[1], "x", 1);
  write(p2c[1], tok, len);
  if(reap() != 0)
    fail("the child failed");
  int intact = 1;
  for(int i = 0; i < R; i++)
    if(i != 3 && (*(int *)(p + i * PGSIZE) != i || strcmp(p + i * PGSIZE + 8, tok) != 0))
      intact = 0;
  long c1 = kstat(KSTAT_COW_COPIES), fa1 = kstat(KSTAT_COW_FAULTS);
  for(int i = 0; i < 8; i++)        // the child is gone: no copy needed
    p[(64 + i) * PGSIZE + 4] = 1;
  long c2 = kstat(KSTAT_COW_COPIES), fa2 = kstat(KSTAT_COW_FAULTS);
  printf("cowtest grade: child store hidden from parent: %s\n",
         strcmp(p + 4 * PGSIZE + 8, tok) == 0 ? "yes" : "no");
  printf("cowtest grade: parent kept %s\n", intact ? p + 8 : "(damaged)");
  printf("cowtest grade: copies %d\n", (int)(c1 - c0));
  printf("cowtest grade: after the child exited, 8 stores made %d faults, %d copies\n",
         (int)(fa2 - fa1), (int)(c2 - c1));
  close(p2c[0]); close(p2c[1]); close(data[0]); close(data[1]);
  sbrk(-R * PGSIZE);
}

static struct {
  const char *name;
  void (*fn)(void);
} tests[] = {
  { "big", test_big },
  { "many", test_many },
  { "same-page", test_same_page },
  { "pipe", test_pipe },
  { "file", test_file },
  { "lazy", test_lazy },
  { "text", test_text },
  { "exhaust", test_exhaust },
};

static int
wanted(int argc, char **argv, const char *name)
{
  if(argc < 2)
    return 1;
  for(int i = 1; i < argc; i++)
    if(strcmp(argv[i], name) == 0)
      return 1;
  return 0;
}

// Run the chosen checks in a child, so that everything it mapped (page
// tables included) is gone when it has exited.
int
main(int argc, char **argv)
{
  if(argc == 3 && strcmp(argv[1], "-t") == 0){
    cur = "grade";
    grade_run(argv[2]);
    exit(0);
  }
  long free0 = pages_free(), shared0 = kstat(KSTAT_SHARED_PAGES);
  long copies0 = kstat(KSTAT_COW_COPIES);
  int pid = fork();
  if(pid < 0){
    printf("cowtest: fork failed\n");
    exit(1);
  }
  if(pid == 0){
    for(int i = 0; i < sizeof(tests) / sizeof(tests[0]); i++){
      if(!wanted(argc, argv, tests[i].name))
        continue;
      cur = tests[i].name;
      tests[i].fn();
      printf("cowtest %s: ok\n", cur);
    }
    exit(0);
  }
  cur = "main";
  if(reap() != 0)
    exit(1);
  if(wanted(argc, argv, "leak")){
    cur = "leak";
    long f = 0, s = 0;
    for(int tries = 0; tries < 50; tries++){   // a lazy root may go late
      f = pages_free();
      s = kstat(KSTAT_SHARED_PAGES);
      if(f == free0 && s == shared0)
        break;
      pause(1);
    }
    if(f != free0){
      printf("cowtest leak: free pages %d before, %d after\n", (int)free0, (int)f);
      fail("pages were lost");
    }
    if(s != shared0){
      printf("cowtest leak: shared pages %d before, %d after\n", (int)shared0, (int)s);
      fail("pages stayed shared");
    }
    printf("cowtest leak: ok (%d free pages, %d copies made)\n", (int)f,
           (int)(kstat(KSTAT_COW_COPIES) - copies0));
  }
  printf("cowtest: all passed\n");
  exit(0);
}
