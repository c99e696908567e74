// fuzz: random system calls, to show that nothing a user program asks
// can panic, hang or leak the kernel (docs/security.md, tests/fuzz.py).
//
//   fuzz [-v] [-p P] SEED N   the master: runs about N calls in P worker
//                             processes at a time (default 4), then checks
//                             that every kernel object count is back
//   fuzz -w ...               a worker started by exec (internal)
//   fuzz -r FILE...           replay the calls logged in the FILEs, in one
//                             process
//   fuzz -x                   exit 0 at once (what a replayed exec runs)
//
// The master works in the scratch directory fz. It forks a watchdog that
// kills any task newer than itself that has lived more than LIFE ticks (a
// worker reading an empty pipe of its own, sleeping for years, ...), then
// forks workers, each with its own generator seeded from SEED and its
// generation number. A worker issues calls over every system call number,
// assigned or not, with arguments of a random class: small numbers,
// boundaries, kernel-half, non-canonical, misaligned, unmapped and
// wrapping pointers, lengths near 2^64, real and bogus fds and pids. It
// forks (the child goes on with a new generator), execs fuzz again, kills
// and waits. When all the budget is spent the master kills what is left,
// waits until the task table is back to where it started, and compares
// free pages (lazily kept roots counted as free), mms, tasks, open files,
// inodes and vmalloc areas with their values at the start.
//
// With -v each worker writes one line per call on the console before it
// makes it: "F tag num a0 a1 a2 a3 a4 a5 fill", all hex. tests/fuzz.py
// turns the lines of one tag into a file for -r, which makes exactly
// those calls again (same arguments, same buffer contents), so the
// harness can shrink a failing sequence by replaying parts of it.
//
// What the fuzzer will not do, because it would end the test rather
// than find a bug: poweroff, crash and ktest are never called; kill never
// names the master, the watchdog, the shell or init; mknod never makes a
// console; fd 15 (the log) is never passed to a call; exit always exits
// with a status the master can count; path strings it builds are
// relative, without "..", so the file system calls stay inside fz.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/syscall.h"
#include "kernel/kstat.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/procinfo.h"
#include "user/user.h"

#define LIFE      100      // ticks a fuzz task may live before the watchdog kills it
#define LOGFD     15       // the console, for -v lines
#define MAXNUM    600      // numbers go up to here (the last assigned is ~30)
#define BUFSZ     8192
#define MAXREPLAY 20000

// ---- the generator ---------------------------------------------------------

static uint64 rng;

// xorshift64*: fast, and the same sequence for the same seed everywhere.
static uint64
next(void)
{
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545F4914F6CDD1DUL;
}

// Mix a seed with a number (splitmix64), never 0.
static uint64
mix(uint64 seed, uint64 n)
{
  uint64 z = seed + 0x9E3779B97F4A7C15UL * (n + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
  z ^= z >> 31;
  return z ? z : 1;
}

static uint64
below(uint64 n)
{
  return next() % n;
}

// ---- state of a worker -------------------------------------------------------

static char buf[BUFSZ];       // what valid pointers point into
static int protect;           // pids up to this one are never killed
static int verbose;
static uint64 tag;            // names this worker's lines in the log
static int kids[16];          // pids of children, for kill and wait
static int nkids;
static int replaying;
static int progress_fd = -1;  // replay: where the replayer reports progress

static uint64 boundaries[] = {
  0, 1, 2, 7, 8, 0x7fffffff, 0x80000000UL, 0xffffffffUL, 0x100000000UL,
  0x7fffffffffffffffUL, 0x8000000000000000UL, 0xffffffffffffffffUL,
  0xfffffffffffffffeUL, 0xfffffffffffff000UL, MAXVA, MAXVA - 1, MAXVA - 8,
  MAXVA - PGSIZE, MAXVA - 2 * PGSIZE, PGSIZE, PGSIZE - 1, 4096 * 1024,
};
#define NBOUNDARIES (sizeof(boundaries) / sizeof(boundaries[0]))

static uint64 kernelbases[] = {
  PAGE_OFFSET, KERNBASE, KERNBASE + 0x200000, PAGE_OFFSET + 0x10000000UL,
  VMALLOC_START, VMALLOC_START + 0x1000000UL, 0xffffffe000000000UL,
  0xffffffff80000000UL,
};
#define NKERNELBASES (sizeof(kernelbases) / sizeof(kernelbases[0]))

// Argument kinds, for the calls we know.
enum { A_ANY, A_INT, A_FD, A_PTR, A_LEN, A_PATH, A_PID, A_ARGV };

// One row per assigned number: the kinds of a0..a2.
static char kinds[][3] = {
  [SYS_fork]  = { A_ANY, A_ANY, A_ANY },
  [SYS_exit]  = { A_INT },
  [SYS_wait]  = { A_PTR },
  [SYS_pipe]  = { A_PTR },
  [SYS_read]  = { A_FD, A_PTR, A_LEN },
  [SYS_kill]  = { A_PID },
  [SYS_exec]  = { A_PATH, A_ARGV },
  [SYS_fstat] = { A_FD, A_PTR },
  [SYS_chdir] = { A_PATH },
  [SYS_dup]   = { A_FD },
  [SYS_sbrk]  = { A_LEN },
  [SYS_sleep] = { A_INT },
  [SYS_open]  = { A_PATH, A_INT },
  [SYS_write] = { A_FD, A_PTR, A_LEN },
  [SYS_mknod] = { A_PATH, A_INT, A_INT },
  [SYS_unlink] = { A_PATH },
  [SYS_link]  = { A_PATH, A_PATH },
  [SYS_mkdir] = { A_PATH },
  [SYS_close] = { A_FD },
  [SYS_procinfo] = { A_PTR, A_INT },
  [SYS_ptdump] = { A_PID },
  [SYS_kstat] = { A_INT },
  [SYS_sbrklazy] = { A_LEN },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

// A pointer-sized argument of a random class.
static uint64
anyarg(void)
{
  switch(below(12)){
  case 0: return below(40) - 4;
  case 1: return next();
  case 2: return boundaries[below(NBOUNDARIES)];
  case 3: return kernelbases[below(NKERNELBASES)] + (below(4) ? below(0x10000) : next() % (1UL << 30));
  case 4: return MAXVA + next() % (PAGE_OFFSET - MAXVA);        // non-canonical
  case 5: return (uint64)buf + below(BUFSZ);                    // valid, misaligned
  case 6: return (uint64)buf + BUFSZ - below(64);               // runs off the end
  case 7: return 0x10000000UL + below(1UL << 30);               // unmapped user
  case 8: return -below(0x2000);                                // wraps past 2^64
  case 9: return (uint64)sbrk(0) - below(0x3000);               // near the break
  case 10: return -(uint64)below(16);                           // lengths near 2^64
  default: return below(0x20000);                               // low user memory
  }
}

static uint64
argof(int kind)
{
  if(below(5) == 0)
    return anyarg();
  switch(kind){
  case A_INT: return below(12) - 2;
  case A_FD:  return below(4) ? below(LOGFD) : anyarg();
  case A_PTR: return below(3) ? (uint64)buf + below(BUFSZ / 2) : anyarg();
  case A_LEN: return below(2) ? below(600) : anyarg();
  case A_PATH: return (uint64)buf + 64 * below(4);
  case A_PID: {
    int r = below(4);
    if(r == 0 && nkids > 0)
      return kids[below(nkids)];
    if(r == 1)
      return getpid();
    return getpid() + below(40) - 20;   // siblings, parents, strangers
  }
  case A_ARGV: return (uint64)buf + 1024;
  }
  return anyarg();
}

// Fill buf for one call from fill: path strings at buf+0, 64, 128, 192,
// an argv array at buf+1024 pointing into the strings at buf+2048, and
// random bytes after 4096. Replaying with the same fill gives the same
// contents.
static void
fillbuf(uint32 fill)
{
  static const char *names[] = { "a", "b", "c", "a/b", "b/c", "a/b/c", ".", "",
                                 "d/", "in", "out", "x", "aa", "c/./a" };
  uint64 save = rng;
  rng = mix(fill, 7);
  for(int s = 0; s < 4; s++){
    char *p = buf + 64 * s;
    int kind = below(8);
    if(kind == 0){              // long: up to past MAXPATH and DIRSIZ
      int n = below(MAXPATH + 20);
      for(int i = 0; i < n && i < 63; i++)
        p[i] = "abc/"[below(4)];
      p[n < 63 ? n : 63] = 0;
      if(p[0] == '/')
        p[0] = 'a';
    } else if(kind == 1){       // not terminated within 64 bytes
      memset(p, 'q', 64);
    } else {
      strcpy(p, names[below(sizeof(names) / sizeof(names[0]))]);
    }
  }
  // Sometimes a real exec: /fuzz -w <seed> <budget> <protect> <verbose>,
  // or /fuzz -x when replaying.
  char *sp = buf + 2048;
  uint64 *argv = (uint64 *)(buf + 1024);
  if(below(3) == 0){
    strcpy(buf, "/fuzz");
    strcpy(sp, "fuzz");
    strcpy(sp + 16, replaying ? "-x" : "-w");
    uint64 s = next();
    for(int i = 0; i < 8; i++)
      sp[32 + i] = 'a' + ((s >> (4 * i)) & 15);
    sp[40] = 0;
    sp[48] = '0' + below(10); sp[49] = '0'; sp[50] = 0;
    int pr = protect;
    char *q = sp + 64 + 10;
    *q = 0;
    do { *--q = '0' + pr % 10; pr /= 10; } while(pr);
    strcpy(sp + 80, verbose ? "v" : "q");
    argv[0] = (uint64)sp; argv[1] = (uint64)(sp + 16); argv[2] = (uint64)(sp + 32);
    argv[3] = (uint64)(sp + 48); argv[4] = (uint64)q; argv[5] = (uint64)(sp + 80);
    argv[6] = 0;
  } else {
    int n = below(MAXARG + 3);
    for(int i = 0; i < n; i++)
      argv[i] = below(6) ? (uint64)(sp + 8 * below(64)) : anyarg();
    argv[n] = below(8) ? 0 : next();
    for(int i = 0; i < 512; i++)
      sp[i] = below(4) ? 'a' + below(26) : 0;
  }
  for(int i = 4096; i < BUFSZ; i += 8)
    *(uint64 *)(buf + i) = next();
  rng = save;
}

// ---- one call ----------------------------------------------------------------

static long
rawcall(uint64 num, uint64 *a)
{
  register uint64 a0 asm("a0") = a[0];
  register uint64 a1 asm("a1") = a[1];
  register uint64 a2 asm("a2") = a[2];
  register uint64 a3 asm("a3") = a[3];
  register uint64 a4 asm("a4") = a[4];
  register uint64 a5 asm("a5") = a[5];
  register uint64 a7 asm("a7") = num;
  asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4),
               "r"(a5), "r"(a7) : "memory");
  return a0;
}

// Change a call that would end the test rather than test the kernel.
// Applied when generating and again when replaying (it is idempotent).
// Returns 0 if the call must not be made at all.
static int
tame(uint64 num, uint64 *a)
{
  if(num == SYS_poweroff || num == SYS_crash || num == SYS_ktest)
    return 0;
  if(num == SYS_kill && (int)a[0] >= 1 && (int)a[0] <= protect)
    a[0] = -(uint64)(int)a[0];
  if(num == SYS_exit)
    a[0] = -2;                  // status -2: "exited on purpose"
  if(num == SYS_mknod && (short)a[1] == 1)
    a[1] = 9;                   // no console device in fz
  if((num == SYS_read || num == SYS_write || num == SYS_close ||
      num == SYS_dup || num == SYS_fstat) &&
     ((int)a[0] == LOGFD || (int)a[0] == progress_fd))
    a[0] = LOGFD + 100;
  return 1;
}

static char *
hex(char *p, uint64 v)
{
  char tmp[16];
  int n = 0;
  do { tmp[n++] = "0123456789abcdef"[v & 15]; v >>= 4; } while(v);
  while(n > 0)
    *p++ = tmp[--n];
  *p++ = ' ';
  return p;
}

// Write the -v line for a call in one write, so lines of different
// workers do not mix.
static void
logcall(uint64 num, uint64 *a, uint32 fill)
{
  char line[200], *p = line;
  *p++ = 'F'; *p++ = ' ';
  p = hex(p, tag);
  p = hex(p, num);
  for(int i = 0; i < 6; i++)
    p = hex(p, a[i]);
  p = hex(p, fill);
  p[-1] = '\n';
  write(LOGFD, line, p - line);
}

// Make one call; in a forked child, set it up as a new worker.
// Returns the result.
static long
docall(uint64 num, uint64 *a, uint32 fill)
{
  fillbuf(fill);
  if(verbose)
    logcall(num, a, fill);
  long r = rawcall(num, a);
  if(num == SYS_fork && r == 0){
    if(replaying)
      exit(0);
    rng = mix(rng, 0xf0c);
    tag = mix(tag, getpid()) & 0xffffffff;
    nkids = 0;
  } else if(num == SYS_fork && r > 0 && nkids < 16){
    kids[nkids++] = r;
  }
  return r;
}

// Draw one call.
static uint64
gencall(uint64 *a, uint32 *fill)
{
  uint64 num;
  for(;;){
    int r = below(10);
    if(r < 7)
      num = 1 + below(SYS_sbrklazy);
    else if(r < 9)
      num = below(MAXNUM);
    else
      num = next();
    if(num == SYS_ptdump && below(10))
      continue;                 // it prints a screenful: rarely
    if((num == SYS_exit || num == SYS_exec) && below(8))
      continue;                 // each ends the worker's own sequence
    for(int i = 0; i < 6; i++)
      a[i] = num < NKINDS && i < 3 ? argof(kinds[num][i]) : anyarg();
    if(num == SYS_sleep && below(8))
      a[0] = below(4);
    if(num == SYS_kill && (int)a[0] == getpid() && below(8))
      continue;                 // suicide: now and then
    if((num == SYS_sbrk || num == SYS_sbrklazy) && (int)a[0] < 0 && below(4))
      continue;                 // shrinking under the data kills us
    *fill = next();
    if(tame(num, a))
      return num;
  }
}

// Give a fresh worker fds 0-2 on files of fz, never the console.
static void
worker_fds(void)
{
  close(0);
  open("in", O_CREATE | O_RDWR);
  close(1);
  close(2);
  open("out", O_CREATE | O_RDWR | O_TRUNC);
  dup(1);
}

// Issue budget calls, then wait for the children. Exits with the number
// of calls made by this process and the children it waited for.
static void
worker(uint64 seed, int budget)
{
  rng = mix(seed, 1);
  tag = mix(seed, 2) & 0xffffffff;
  nkids = 0;
  worker_fds();
  int done = 0;
  while(budget > 0){
    uint64 a[6];
    uint32 fill;
    uint64 num = gencall(a, &fill);
    budget--;
    done++;
    long r = docall(num, a, fill);
    if(num == SYS_fork && r == 0){
      budget /= 2;              // the child: a share of what is left
      done = 0;
    }
  }
  int st, pid;
  while((pid = wait(&st)) > 0)
    if(st > 0)
      done += st;
  exit(done);
}

// ---- counters ------------------------------------------------------------------

// Wait up to limit ticks for every counter to be back at base. Prints the
// ones that are not and returns 0 then.
static int
counters_back(long *base, int limit, char *who)
{
  long now[NKOBJ];
  int start = uptime();
  for(;;){
    kobj_read(now);
    if(kobj_differs(base, now) < 0)
      return 1;
    if(uptime() - start > limit)
      break;
    sleep(2);
  }
  for(int i = 0; i < NKOBJ; i++)
    if(i == KOBJ_FREE ? now[i] < base[i] : now[i] != base[i])
      printf("%s: LEAK %s %ld at the start, %ld at the end\n", who,
             kobj_names[i], base[i], now[i]);
  return 0;
}

// ---- the watchdog and the master --------------------------------------------

static struct procinfo table[NPROC + NCPU];

// Kill every user task with a pid above protect that has been seen for
// more than life ticks (every one if life < 0). Returns how many such
// tasks are alive.
static int
reap_old(int *seenpid, int *seenat, int life)
{
  static int maxpid, failed_since = -1;
  int n = procinfo(table, NPROC + NCPU), alive = 0;
  int now = uptime();
  if(n < 0){
    // procinfo needs a page; workers may hold all of memory. After life
    // ticks of that, kill every pid that may be ours.
    if(failed_since < 0)
      failed_since = now;
    if(life < 0 || now - failed_since > life)
      for(int pid = protect + 1; pid <= maxpid + NPROC; pid++)
        kill(pid);
    return 1;
  }
  failed_since = -1;
  for(int i = 0; i < n; i++){
    struct procinfo *p = &table[i];
    if(p->kthread || p->pid <= protect || p->state == PI_ZOMBIE)
      continue;
    alive++;
    if(p->pid > maxpid)
      maxpid = p->pid;
    int slot = p->pid % NPROC;
    if(seenpid[slot] != p->pid){
      seenpid[slot] = p->pid;
      seenat[slot] = now;
    }
    if(life < 0 || now - seenat[slot] > life)
      kill(p->pid);
  }
  return alive;
}

static void
watchdog(void)
{
  static int seenpid[NPROC], seenat[NPROC];
  for(;;){
    reap_old(seenpid, seenat, LIFE);
    sleep(5);
  }
}

static uint64
atoh(char *s)
{
  uint64 v = 0;
  for(; *s; s++){
    int d = *s >= 'a' ? *s - 'a' + 10 : *s - '0';
    v = v * 16 + (d & 15);
  }
  return v;
}

static int
master(uint64 seed, long ncalls, int nworkers)
{
  long base[NKOBJ];
  mkdir("fz");
  if(chdir("fz") < 0){
    printf("fuzz: cannot enter fz\n");
    return 1;
  }
  int fd;
  if(verbose)
    while((fd = dup(1)) >= 0 && fd < LOGFD)   // fill the fds up to LOGFD
      ;
  for(fd = 3; fd < (verbose ? LOGFD : LOGFD + 1); fd++)
    close(fd);
  kobj_read(base);
  long calls0 = kstat(KSTAT_SYSCALLS);
  int wd = fork();
  if(wd == 0){
    protect = getpid();
    watchdog();
  }
  if(wd < 0){
    printf("fuzz: cannot fork the watchdog\n");
    return 1;
  }
  protect = wd;
  long started = 0, counted = 0;
  int gen = 0, running = 0, killed = 0, nkilled = 0, t0 = uptime();
  while(started < ncalls || running > 0){
    while(started < ncalls && running < nworkers){
      rng = mix(seed, gen);
      int budget = 50 + below(250);
      if(budget > ncalls - started)
        budget = ncalls - started;
      int pid = fork();
      if(pid < 0)
        break;                    // the table is full: wait for some
      if(pid == 0)
        worker(mix(seed, gen + 1000000), budget);
      started += budget;
      running++;
      gen++;
    }
    int st, pid = wait(&st);
    if(pid < 0)
      break;
    if(pid == wd)
      continue;
    running--;
    if(st == -1)
      nkilled++;
    if(st >= 0)
      counted += st;
    else
      killed++;
    if(gen % 20 == 0)
      printf("fuzz: progress %d workers, %ld calls\n", gen, counted);
  }
  // Kill whatever is left (orphans of killed workers, sleepers) and wait
  // for init to reap them.
  static int seenpid[NPROC], seenat[NPROC];
  int start = uptime(), left;
  while((left = reap_old(seenpid, seenat, -1)) > 0 && uptime() - start < 3000)
    sleep(2);
  kill(wd);
  int st;
  while(wait(&st) > 0)
    ;
  if(left > 0)
    printf("fuzz: %d tasks still alive after being killed\n", left);
  int ok = counters_back(base, 1000, "fuzz") && left == 0;
  chdir("..");
  printf("fuzz: seed %lx: %ld system calls (%ld by workers that finished) in %d workers (%d ended early, %d of them killed), %d ticks: %s\n",
         seed, kstat(KSTAT_SYSCALLS) - calls0, counted, gen, killed, nkilled,
         uptime() - t0, ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}

// ---- replay -------------------------------------------------------------------

// The calls to replay, in memory from sbrk (workers that exec fuzz
// should not pay for it in their bss).
struct rcall {
  uint64 num, a[6];
  uint32 fill;
};
static struct rcall *rcalls;

static int ncalls;

// Append the calls of the -v lines (tag ignored) of file to rcalls.
// Returns -1 if it cannot.
static int
load_replay(char *file)
{
  int fd = open(file, O_RDONLY);
  if(fd < 0)
    return -1;
  static char *text;
  int size = 300 * 1024;        // larger than a file can be
  if(text == 0)
    text = sbrk(size);
  if(rcalls == 0)
    rcalls = (struct rcall *)sbrk(MAXREPLAY * sizeof(struct rcall));
  if(text == SBRK_ERROR || rcalls == (struct rcall *)SBRK_ERROR)
    return -1;
  int n = 0, r;
  while(n < size - 1 && (r = read(fd, text + n, size - 1 - n)) > 0)
    n += r;
  close(fd);
  text[n] = 0;
  char *p = text;
  while(*p && ncalls < MAXREPLAY){
    char *end = strchr(p, '\n');
    if(end)
      *end = 0;
    uint64 f[9];
    int nf = 0;
    if(p[0] == 'F'){
      char *q = p + 1;
      while(*q && nf < 9){
        while(*q == ' ')
          q++;
        char *w = q;
        while(*q && *q != ' ')
          q++;
        if(*q)
          *q++ = 0;
        if(*w)
          f[nf++] = atoh(w);
      }
    }
    if(nf == 9){
      rcalls[ncalls].num = f[1];
      for(int i = 0; i < 6; i++)
        rcalls[ncalls].a[i] = f[2 + i];
      rcalls[ncalls].fill = f[8];
      ncalls++;
    }
    if(!end)
      break;
    p = end + 1;
  }
  return 0;
}

// Make calls from..n-1 of rcalls, writing each one's index to fd
// progress first; exits 0 when done.
static void
replayer(int from, int n, int progress)
{
  // The pipe's write end to a high fd, which tame() keeps from the calls.
  int fd;
  while((fd = dup(progress)) >= 0 && fd < LOGFD - 1)
    ;
  progress_fd = fd;
  for(int i = 3; i < progress_fd; i++)
    close(i);
  worker_fds();
  uint64 brk0 = (uint64)sbrk(0);
  for(int i = from; i < n; i++){
    struct rcall *c = &rcalls[i];
    // Calls that would end the sequence here are left out: the rest of
    // the log was made by a process that had not ended.
    if(c->num == SYS_exit || (c->num == SYS_kill && (int)c->a[0] == getpid()))
      continue;
    if((c->num == SYS_sbrk || c->num == SYS_sbrklazy) && (int)c->a[0] < 0 &&
       (uint64)sbrk(0) + (int)c->a[0] < brk0)
      continue;
    write(progress_fd, &i, sizeof(i));
    if(tame(c->num, c->a))
      docall(c->num, c->a, c->fill);
  }
  exit(0);
}

// Replay the calls of the files, in fz, then check the counters as the
// master does.
static int
replay(int nfiles, char **files)
{
  for(int i = 0; i < nfiles; i++){
    if(load_replay(files[i]) < 0){
      printf("fuzz: cannot read %s\n", files[i]);
      return 1;
    }
  }
  int n = ncalls;
  long base[NKOBJ];
  mkdir("fz");
  chdir("fz");
  for(int fd = 3; fd <= LOGFD; fd++)
    close(fd);
  kobj_read(base);
  protect = getpid();
  replaying = 1;
  int wd = fork();
  if(wd == 0){
    protect = getpid();
    watchdog();
  }
  protect = wd;
  // The replayer writes the index of each call to a pipe before making
  // it. If a call blocks for good (a read of its own empty pipe) the
  // watchdog kills the replayer, and a new one goes on after that call.
  int from = 0, pid, st, skipped = 0;
  int p[2];
  while(from < n){
    if(pipe(p) < 0){
      printf("replay: no pipe\n");
      return 1;
    }
    pid = fork();
    if(pid < 0)
      break;
    if(pid == 0){
      close(p[0]);
      replayer(from, n, p[1]);
    }
    close(p[1]);
    int i, last = from - 1;
    while(read(p[0], &i, sizeof(i)) == sizeof(i))
      last = i;
    while((i = wait(&st)) != pid && i >= 0)
      ;
    if(st == 0)
      break;
    close(p[0]);
    skipped++;
    from = last + 1;
  }
  close(p[0]);
  static int seenpid[NPROC], seenat[NPROC];
  int start = uptime();
  while(reap_old(seenpid, seenat, -1) > 0 && uptime() - start < 3000)
    sleep(2);
  kill(wd);
  while(wait(&st) > 0)
    ;
  int ok = counters_back(base, 1000, "replay");
  chdir("..");
  printf("replay: %d calls, %d replayers ended early: %s\n", n, skipped, ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}

int
main(int argc, char *argv[])
{
  if(argc >= 2 && strcmp(argv[1], "-x") == 0)
    exit(0);
  if(argc == 6 && strcmp(argv[1], "-w") == 0){
    // exec'd worker: -w seed budget protect v|q
    protect = atoi(argv[4]);
    verbose = argv[5][0] == 'v';
    worker(atoh(argv[2]), atoi(argv[3]));
  }
  if(argc >= 3 && strcmp(argv[1], "-r") == 0)
    exit(replay(argc - 2, argv + 2));
  int i = 1, nworkers = 4;
  for(; i < argc && argv[i][0] == '-'; i++){
    if(strcmp(argv[i], "-v") == 0)
      verbose = 1;
    else if(strcmp(argv[i], "-p") == 0 && i + 1 < argc)
      nworkers = atoi(argv[++i]);
    else
      break;
  }
  if(argc - i != 2 || nworkers < 1){
    fprintf(2, "usage: fuzz [-v] [-p workers] seed ncalls | fuzz -r file\n");
    exit(1);
  }
  exit(master(atoh(argv[i]), atoi(argv[i + 1]), nworkers));
}
