// sectests: isolation between user programs and the kernel
// (docs/security.md lists each property and the test here or in
// usertests that checks it).
//
//   sectests          run every test: "test NAME: OK" or
//                     "test NAME: FAILED (why)", then ALL TESTS PASSED or
//                     SOME TESTS FAILED
//   sectests NAME     run one test
//   sectests -fresh   (internal) the exec'd half of execfresh
//
// Each test runs in a child process, with a watchdog that kills it after
// LIMIT ticks. A test fails by calling fail(), which prints the verdict
// and exits 1.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/procinfo.h"
#include "kernel/elf.h"
#include "user/user.h"

#define LIMIT 3000

static char *testname;
static char buf[8192];

static void
fail(const char *fmt, ...)
{
  // printf has no va_list form: print the fixed parts, then the message
  // with up to two arguments.
  __builtin_va_list ap;
  __builtin_va_start(ap, fmt);
  uint64 a = __builtin_va_arg(ap, uint64);
  uint64 b = __builtin_va_arg(ap, uint64);
  uint64 c = __builtin_va_arg(ap, uint64);
  __builtin_va_end(ap);
  printf("test %s: FAILED (", testname);
  printf(fmt, a, b, c);
  printf(")\n");
  exit(1);
}

// ---- helpers ---------------------------------------------------------------

static void
jumpto(uint64 a)
{
  ((void (*)(void))launder(a))();
}

// Status of fn(a) run in a child that then exits 0.
static int
inchild(void (*fn)(uint64), uint64 a)
{
  int pid = fork();
  if(pid < 0)
    fail("fork failed");
  if(pid == 0){
    fn(a);
    exit(0);
  }
  return waitfor(pid);
}

// Addresses that no user access and no system call may reach: the kernel
// half (direct map, kernel image, devices, kernel stacks, vmalloc, the
// unused top), the hole between the halves, and the last bytes of the
// address space, from which a length wraps to 0.
static uint64 badptrs[] = {
  PAGE_OFFSET, KERNBASE, KERNBASE + 0x200000, KERNBASE + 0x201000,
  PAGE_OFFSET + UART0_PA, VMALLOC_START, VMALLOC_START + 0x1000,
  VMALLOC_START + 0x4000, VMALLOC_STACKS_END + 0x1000,
  0xffffffe000000000UL, 0xffffffff80000000UL, 0xfffffffffffff000UL,
  MAXVA, MAXVA - 8, 0x0000008000000000UL, 0x8000000000000000UL,
  0xffffffbffffff000UL, 0xffffffffffffffffUL, 0xfffffffffffffff8UL,
};
#define NBAD (sizeof(badptrs) / sizeof(badptrs[0]))

// ---- the kernel half is out of reach ---------------------------------------

// Loads and stores anywhere in each of the 256 GiB-sized root entries of
// the kernel half, and fetches from every eighth, kill the process.
static void
kernelsweep(void)
{
  for(uint64 e = 256; e < 512; e++){
    uint64 base = 0xffffffc000000000UL + (e - 256) * (1UL << 30);
    uint64 a = base + ((e * 0x9E3779B1UL) % (1UL << 30) & ~7UL);
    if(inchild(loadfrom, a) != -1)
      fail("load from %p was not killed", a);
    if(inchild(storeto, a) != -1)
      fail("store to %p was not killed", a);
    if(e % 8 == 0 && inchild(jumpto, a) != -1)
      fail("jump to %p was not killed", a);
  }
}

// ---- no system call touches kernel memory on the caller's behalf -------------

static int
readall(int fd, char *p, int max)
{
  int n = 0, r;
  while(n < max && (r = read(fd, p + n, max - n)) > 0)
    n += r;
  return n;
}

// read into bad pointers fails and consumes nothing: the bytes are still
// in the pipe and the file offset has not moved.
static void
kptrread(void)
{
  int p[2];
  for(int i = 0; i < NBAD; i++){
    for(int len = 1; len <= 4096; len *= 64){
      if(pipe(p) < 0)
        fail("pipe");
      write(p[1], "abcdefgh", 8);
      if(read(p[0], (void *)badptrs[i], len) != -1)
        fail("read(pipe, %p, %d) did not fail", badptrs[i], len);
      close(p[1]);
      if(readall(p[0], buf, 100) != 8 || memcmp(buf, "abcdefgh", 8) != 0)
        fail("failed read into %p consumed pipe data", badptrs[i]);
      close(p[0]);
      int fd = open("/README", O_RDONLY);
      if(read(fd, (void *)badptrs[i], len) != -1)
        fail("read(file, %p, %d) did not fail", badptrs[i], len);
      char c;
      int fd2 = open("/README", O_RDONLY);
      char d;
      if(read(fd, &c, 1) != 1 || read(fd2, &d, 1) != 1 || c != d)
        fail("failed read into %p moved the file offset", badptrs[i]);
      close(fd);
      close(fd2);
    }
  }
}

// write from bad pointers fails and delivers nothing.
static void
kptrwrite(void)
{
  int p[2];
  struct stat st;
  for(int i = 0; i < NBAD; i++){
    if(pipe(p) < 0)
      fail("pipe");
    if(write(p[1], (void *)badptrs[i], 64) != -1)
      fail("write(pipe, %p) did not fail", badptrs[i]);
    close(p[1]);
    if(readall(p[0], buf, 100) != 0)
      fail("write from %p put bytes in a pipe", badptrs[i]);
    close(p[0]);
    int fd = open("skw", O_CREATE | O_TRUNC | O_RDWR);
    if(write(fd, (void *)badptrs[i], 512) != -1)
      fail("write(file, %p) did not fail", badptrs[i]);
    if(fstat(fd, &st) < 0 || st.size != 0)
      fail("write from %p put bytes in a file", badptrs[i]);
    close(fd);
    // the console too: a bad buffer is -1, nothing printed
    if(write(1, (void *)badptrs[i], 64) != -1)
      fail("write(console, %p) did not fail", badptrs[i]);
  }
  unlink("skw");
}

// Calls that store through a pointer: pipe, fstat, wait, procinfo.
static void
kptrstore(void)
{
  int fd = open(".", O_RDONLY);
  for(int i = 0; i < NBAD; i++){
    uint64 a = badptrs[i];
    if(pipe((int *)a) != -1)
      fail("pipe(%p) did not fail", a);
    if(fstat(fd, (struct stat *)a) != -1)
      fail("fstat(%p) did not fail", a);
    if(procinfo((struct procinfo *)a, 1) != -1 || procinfo((struct procinfo *)a, 64) != -1)
      fail("procinfo(%p) did not fail", a);
    int pid = fork();
    if(pid == 0)
      exit(3);
    if(wait((int *)a) != -1)
      fail("wait(%p) did not fail", a);
    if(waitfor(pid) != 3)
      fail("the child of a failed wait was lost");
  }
  // procinfo whose table would run past MAXVA
  if(procinfo((struct procinfo *)(MAXVA - sizeof(struct procinfo)), 64) != -1)
    fail("procinfo ending past MAXVA did not fail");
  close(fd);
  if(fd < 0)
    fail("open .");
}

// Every path argument, exec's argv and its strings, and ktest's name.
static void
kptrpath(void)
{
  for(int i = 0; i < NBAD; i++){
    char *a = (char *)badptrs[i];
    if(open(a, O_RDONLY) != -1 || open(a, O_CREATE | O_RDWR) != -1)
      fail("open(%p) did not fail", a);
    if(mkdir(a) != -1 || chdir(a) != -1 || unlink(a) != -1 || mknod(a, 1, 1) != -1)
      fail("mkdir/chdir/unlink/mknod(%p) did not fail", a);
    if(link(a, "skl") != -1 || link("/README", a) != -1)
      fail("link with %p did not fail", a);
    if(ktest(a) != -1)
      fail("ktest(%p) did not fail", a);
    char *argv[3] = { "echo", 0, 0 };
    if(exec(a, argv) != -1)
      fail("exec(%p, ...) did not fail", a);
    if(exec("/echo", (char **)a) != -1)
      fail("exec(echo, %p) did not fail", a);
    argv[1] = a;
    if(exec("/echo", argv) != -1)
      fail("exec(echo, {echo, %p}) did not fail", a);
  }
  unlink("skl");
}

// ---- fresh memory carries no old data --------------------------------------

#define FILLSZ (2 * 1024 * 1024)

// Dirty many pages, then free them: a child fills memory and exits.
static void
dirty_pages(void)
{
  int pid = fork();
  if(pid == 0){
    char *p = sbrk(FILLSZ);
    if(p != SBRK_ERROR)
      memset(p, 0x5a, FILLSZ);
    exit(0);
  }
  waitfor(pid);
}

static void
check_zero(char *p, int n, char *what)
{
  for(int i = 0; i < n; i++)
    if(p[i] != 0)
      fail("%s: byte %d of fresh memory is %x", what, i, (uint64)(uchar)p[i]);
}

// Pages from sbrk and sbrklazy, and pages regrown after a shrink, are
// zero, even right after other processes freed dirty pages.
static void
sbrkfresh(void)
{
  dirty_pages();
  char *p = sbrk(FILLSZ);
  if(p == SBRK_ERROR)
    fail("sbrk");
  check_zero(p, FILLSZ, "sbrk");
  memset(p, 0x77, FILLSZ);
  sbrk(-FILLSZ);
  dirty_pages();
  p = sbrklazy(FILLSZ);
  if(p == SBRK_ERROR)
    fail("sbrklazy");
  check_zero(p, FILLSZ, "sbrklazy");
  memset(p, 0x66, FILLSZ);
  sbrk(-FILLSZ);
  p = sbrk(FILLSZ);
  check_zero(p, FILLSZ, "sbrk after a shrink");
  sbrk(-FILLSZ);
}

static char bigbss[65536];

// The exec'd half of execfresh: bss and the unused part of the stack page
// are zero. Exit status: 0 if so.
static int
fresh_child(void)
{
  for(int i = 0; i < sizeof(bigbss); i++)
    if(bigbss[i])
      return 2;
  uint64 sp = (uint64)&sp;
  uint64 bottom = PGROUNDDOWN(sp);
  for(uint64 a = bottom; a < sp - 512; a += 8)
    if(*(uint64 *)a)
      return 3;
  return 0;
}

// A new program's bss and stack are zero after others freed dirty pages.
static void
execfresh(void)
{
  dirty_pages();
  int pid = fork();
  if(pid == 0){
    char *argv[] = { "sectests", "-fresh", 0 };
    exec("/sectests", argv);
    exit(99);
  }
  int st = waitfor(pid);
  if(st != 0)
    fail("the exec'd program found old data (status %d: 2 bss, 3 stack, 99 no exec)", st);
}

// The body of the program that execregs writes: OR every register but
// zero, sp, a0 (argc) and a1 (argv) into a2, and exit with it.
extern char regs_code[], regs_code_end[];
asm(".globl regs_code\n.globl regs_code_end\nregs_code:\n"
    "or a2, a2, ra\n or a2, a2, gp\n or a2, a2, tp\n or a2, a2, t0\n"
    "or a2, a2, t1\n or a2, a2, t2\n or a2, a2, s0\n or a2, a2, s1\n"
    "or a2, a2, a3\n or a2, a2, a4\n or a2, a2, a5\n or a2, a2, a6\n"
    "or a2, a2, a7\n or a2, a2, s2\n or a2, a2, s3\n or a2, a2, s4\n"
    "or a2, a2, s5\n or a2, a2, s6\n or a2, a2, s7\n or a2, a2, s8\n"
    "or a2, a2, s9\n or a2, a2, s10\n or a2, a2, s11\n or a2, a2, t3\n"
    "or a2, a2, t4\n or a2, a2, t5\n or a2, a2, t6\n"
    "snez a0, a2\n li a7, 2\n ecall\n"
    "regs_code_end:\n");

// Exec a tiny ELF program that exits 1 if any register but sp, a0 and a1
// is nonzero at its first instruction. The parent sets its own
// registers to nonzero values just before exec.
static void
execregs(void)
{
  struct {
    struct elfhdr eh;
    struct proghdr ph;
    char code[256];
  } img;
  memset(&img, 0, sizeof(img));
  int n = regs_code_end - regs_code;
  img.eh.magic = ELF_MAGIC;
  img.eh.elf[0] = ELFCLASS64;
  img.eh.elf[1] = 1;
  img.eh.elf[2] = 1;
  img.eh.type = ET_EXEC;
  img.eh.machine = EM_RISCV;
  img.eh.version = 1;
  img.eh.entry = 0;
  img.eh.phoff = sizeof(img.eh);
  img.eh.ehsize = sizeof(img.eh);
  img.eh.phentsize = sizeof(img.ph);
  img.eh.phnum = 1;
  img.ph.type = PT_LOAD;
  img.ph.flags = PF_R | PF_X;
  img.ph.off = 0;
  img.ph.vaddr = 0;
  img.ph.filesz = sizeof(img);
  img.ph.memsz = sizeof(img);
  img.ph.align = PGSIZE;
  img.eh.entry = (uint64)img.code - (uint64)&img;
  memmove(img.code, regs_code, n);
  int fd = open("skregs", O_CREATE | O_TRUNC | O_RDWR);
  if(fd < 0 || write(fd, &img, sizeof(img)) != sizeof(img))
    fail("cannot write the program");
  close(fd);
  int pid = fork();
  if(pid == 0){
    char *argv[] = { "skregs", 0 };
    // Nonzero registers going into exec: the new program must not see them.
    asm volatile("li t0, -1\n li t1, -1\n li t2, -1\n li s1, -1\n li a3, -1\n"
                 "li a4, -1\n li a5, -1\n li a6, -1\n li t3, -1\n li t4, -1\n"
                 "li t5, -1\n li t6, -1\n li s2, -1\n li s3, -1\n li s4, -1\n"
                 "li s5, -1\n li s6, -1\n li s7, -1\n li s8, -1\n li s9, -1\n"
                 "li s10, -1\n li s11, -1\n"
                 ::: "t0", "t1", "t2", "s1", "a3", "a4", "a5", "a6", "t3", "t4",
                 "t5", "t6", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
                 "s10", "s11");
    exec("skregs", argv);
    exit(99);
  }
  int st = waitfor(pid);
  unlink("skregs");
  if(st != 0)
    fail("exec'd program saw nonzero registers (status %d; 99: exec failed)", st);
}

// procinfo copies out whole structs: the padding after kthread and the
// bytes after each name's NUL are zero, not old kernel data.
static void
procinfopad(void)
{
  static struct procinfo t[NPROC];
  for(int round = 0; round < 20; round++){
    dirty_pages();
    memset(t, 0xee, sizeof(t));
    int n = procinfo(t, NPROC);
    if(n <= 0)
      fail("procinfo returned %d", n);
    for(int i = 0; i < n; i++){
      uchar *p = (uchar *)&t[i];
      for(int b = __builtin_offsetof(struct procinfo, kthread) + sizeof(int);
          b < __builtin_offsetof(struct procinfo, size); b++)
        if(p[b] != 0)
          fail("padding byte %d of entry %d is %x", b, i, (uint64)p[b]);
      int len = strlen(t[i].name);
      for(int b = len; b < sizeof(t[i].name); b++)
        if(t[i].name[b] != 0)
          fail("byte %d of name %s (entry %d) is not zero", b, (uint64)t[i].name, i);
    }
  }
}

// fstat copies out a whole struct stat: the padding before size is zero.
static void
fstatpad(void)
{
  struct stat st;
  int fd = open("/README", O_RDONLY);
  for(int round = 0; round < 20; round++){
    memset(&st, 0xee, sizeof(st));
    // Calls that use a lot of kernel stack first, to leave data on it.
    int p[2];
    pipe(p);
    write(p[1], buf, 100);
    close(p[0]);
    close(p[1]);
    if(fstat(fd, &st) < 0)
      fail("fstat");
    uchar *b = (uchar *)&st;
    for(int i = __builtin_offsetof(struct stat, nlink) + sizeof(short);
        i < __builtin_offsetof(struct stat, size); i++)
      if(b[i] != 0)
        fail("padding byte %d of struct stat is %x", i, (uint64)b[i]);
  }
  close(fd);
}

// ---- the runner ------------------------------------------------------------

struct test {
  void (*fn)(void);
  char *name;
} tests[] = {
  { kernelsweep, "kernelsweep" },
  { kptrread, "kptrread" },
  { kptrwrite, "kptrwrite" },
  { kptrstore, "kptrstore" },
  { kptrpath, "kptrpath" },
  { sbrkfresh, "sbrkfresh" },
  { execfresh, "execfresh" },
  { execregs, "execregs" },
  { procinfopad, "procinfopad" },
  { fstatpad, "fstatpad" },
  { 0, 0 },
};

static int
runtest(struct test *t)
{
  testname = t->name;
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
  if(st == 0){
    printf("test %s: OK\n", t->name);
    return 1;
  }
  if(st != 1)
    printf("test %s: FAILED (the test process ended with status %d)\n", t->name, st);
  return 0;
}

int
main(int argc, char *argv[])
{
  if(argc == 2 && strcmp(argv[1], "-fresh") == 0)
    exit(fresh_child());
  int ok = 1, ran = 0;
  for(struct test *t = tests; t->fn; t++){
    if(argc == 2 && strcmp(argv[1], t->name) != 0)
      continue;
    ran++;
    ok &= runtest(t);
  }
  if(ran == 0){
    fprintf(2, "usage: sectests [name]\n");
    exit(1);
  }
  printf(ok ? "ALL TESTS PASSED\n" : "SOME TESTS FAILED\n");
  exit(ok ? 0 : 1);
}
