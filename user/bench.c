// bench: what each of the kernel's hot paths costs. Run by `make bench`
// (tests/bench.py), which turns its lines into one table. For every
// operation it prints one line of totals over n operations:
//
//   bench OP n=N time=T instret=I satp=S tlb=F disk=D
//
// time: ticks of the time CSR (10 MHz on QEMU virt); instret: guest
// instructions retired on this hart (exact only under QEMU's -icount);
// satp, tlb, disk (and dreq, if the kernel counts disk requests): the
// kstat counters' growth. A field is left out when this kernel cannot
// give it. The same source builds on xv6-riscv (make bench XV6=...): the
// canopy-only parts are under #ifdef CANOPY.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"
#ifdef CANOPY_USER_H      // canopy's user.h; xv6-riscv's has no such guard
#define CANOPY 1
#include "kernel/kstat.h"
#include "kernel/ktest/kbench.h"
#endif

static int have_time, have_instret;

static uint64
rd_time(void)
{
  uint64 t;
  if(!have_time)
    return (uint64)uptime() * 1000000;   // xv6's tick: 10^6 time ticks
  asm volatile("rdtime %0" : "=r"(t));
  return t;
}

static uint64
rd_instret(void)
{
  uint64 i = 0;
  if(have_instret)
    asm volatile("rdinstret %0" : "=r"(i));
  return i;
}

// Can user mode read this counter? A child tries: a kernel that does not
// allow it (scounteren) kills the child for an illegal instruction.
static int
counter_readable(int instret)
{
  int pid = fork();
  if(pid == 0){
    uint64 v;
    if(instret)
      asm volatile("rdinstret %0" : "=r"(v));
    else
      asm volatile("rdtime %0" : "=r"(v));
    (void)v;
    exit(0);
  }
  int status = -1;
  wait(&status);
  return status == 0;
}

// The kstat counters each line reports (canopy only).
#ifdef CANOPY
static const struct { const char *name; int what; } counters[] = {
  { "satp", KSTAT_SATP_WRITES },
  { "tlb", KSTAT_TLB_FLUSHES },
  { "disk", KSTAT_DISK_WRITES },
  { "dreq", KSTAT_DISK_REQUESTS },
};
#define NCOUNTERS 4
#else
#define NCOUNTERS 0
#endif

struct sample {
  uint64 time, instret;
  long counter[NCOUNTERS + 1];
};

static void
take(struct sample *s, int start)
{
#ifdef CANOPY
  if(!start)
    s->time = rd_time(), s->instret = rd_instret();
  for(int i = 0; i < NCOUNTERS; i++)
    s->counter[i] = kstat(counters[i].what);
  if(start)
    s->time = rd_time(), s->instret = rd_instret();
#else
  s->time = rd_time();
  s->instret = rd_instret();
#endif
}

// Decimal digits of v at the end of buf (which must hold 24); returns them.
static char *
u64str(char *buf, uint64 v)
{
  char *p = buf + 23;
  *p = 0;
  do {
    *--p = '0' + v % 10;
    v /= 10;
  } while(v);
  return p;
}

static void
put_field(const char *key, uint64 v)
{
  char buf[24];
  printf(" %s=%s", key, u64str(buf, v));
}

static struct sample start_sample;

static void
begin(void)
{
  take(&start_sample, 1);
}

// Print op's line: the growth of everything since begin(), over n ops.
static void
end(const char *op, int n)
{
  struct sample now;
  take(&now, 0);
  struct sample *s = &start_sample;
  printf("bench %s", op);
  put_field("n", n);
  put_field("time", now.time - s->time);
  if(have_instret)
    put_field("instret", now.instret - s->instret);
#ifdef CANOPY
  for(int i = 0; i < NCOUNTERS; i++)
    if(s->counter[i] >= 0 && now.counter[i] >= 0)
      put_field(counters[i].name, now.counter[i] - s->counter[i]);
#endif
  printf("\n");
}

static void
skipped(const char *op, const char *why)
{
  printf("bench %s skipped: %s\n", op, why);
}

static void
bench_getpid(void)
{
  int n = 20000;
  begin();
  for(int i = 0; i < n; i++)
    getpid();
  end("getpid", n);
}

// One byte there and back between two processes: two switches per op.
static void
bench_pipe(void)
{
  int a[2], b[2], n = 2000;
  char c = 0;
  if(pipe(a) < 0 || pipe(b) < 0){
    skipped("pipe_roundtrip", "pipe failed");
    return;
  }
  if(fork() == 0){
    for(int i = 0; i < n; i++){
      read(a[0], &c, 1);
      write(b[1], &c, 1);
    }
    exit(0);
  }
  begin();
  for(int i = 0; i < n; i++){
    write(a[1], &c, 1);
    read(b[0], &c, 1);
  }
  end("pipe_roundtrip", n);
  wait(0);
  close(a[0]); close(a[1]); close(b[0]); close(b[1]);
}

// n times fork, exit in the child, wait in the parent. Returns 0 if a
// fork failed.
static int
fork_exit_wait(int n)
{
  for(int i = 0; i < n; i++){
    int pid = fork();
    if(pid == 0)
      exit(0);
    if(pid < 0)
      return 0;
    wait(0);
  }
  return 1;
}

static void
bench_fork(void)
{
  int n = 200;
  begin();
  if(fork_exit_wait(n))
    end("fork_exit_wait", n);
  else
    skipped("fork_exit_wait", "fork failed");
}

// fork+exit+wait of a process grown by mib MiB, every page touched:
// without copy-on-write fork copies them all. Skipped if memory is short.
static void
bench_fork_size(const char *op, int mib, int n)
{
  int bytes = mib << 20;
#ifdef CANOPY
  if((uint64)kstat(KSTAT_FREEPAGES) * 4096 < 2 * (uint64)bytes + (8 << 20)){
    skipped(op, "needs more memory (MEM=256M)");
    return;
  }
#endif
  char *p = sbrk(bytes);
  if(p == (char *)-1){
    skipped(op, "sbrk failed");
    return;
  }
  for(int off = 0; off < bytes; off += 4096)
    p[off] = 1;
  begin();
  if(fork_exit_wait(n))
    end(op, n);
  else
    skipped(op, "fork failed (memory)");
  sbrk(-bytes);
}

// One op: fork, exec echo (its newline goes into a pipe, not to the
// console or a file, so no disk write), wait.
static void
bench_exec(void)
{
  int n = 50, out[2];
  char *argv[] = { "echo", 0 };
  if(pipe(out) < 0){
    skipped("fork_exec_wait", "pipe failed");
    return;
  }
  begin();
  for(int i = 0; i < n; i++){
    if(fork() == 0){
      close(1);
      dup(out[1]);
      exec("echo", argv);
      exit(1);
    }
    wait(0);
  }
  end("fork_exec_wait", n);
  close(out[0]);
  close(out[1]);
}

// One op: grow by 256 pages, touch each, shrink back.
static void
bench_sbrk(void)
{
  int n = 50, pages = 256;
  begin();
  for(int i = 0; i < n; i++){
    char *p = sbrk(pages * 4096);
    if(p == (char *)-1){
      skipped("sbrk_256_pages", "sbrk failed");
      return;
    }
    for(int pg = 0; pg < pages; pg++)
      p[pg * 4096] = 1;
    sbrk(-pages * 4096);
  }
  end("sbrk_256_pages", n);
}

// One op: a 200 KB file written 1 KB at a time, read back, unlinked.
static int
file_200k(void)
{
  static char buf[1024];
  int fd = open("benchfile", O_CREATE | O_RDWR | O_TRUNC);
  if(fd < 0)
    return 0;
  for(int i = 0; i < 200; i++)
    if(write(fd, buf, sizeof(buf)) != sizeof(buf))
      return 0;
  close(fd);
  fd = open("benchfile", O_RDONLY);
  for(int i = 0; i < 200; i++)
    if(read(fd, buf, sizeof(buf)) != sizeof(buf))
      return 0;
  close(fd);
  return unlink("benchfile") == 0;
}

static void
bench_file(void)
{
  int n = 3;
  begin();
  for(int i = 0; i < n; i++){
    if(!file_200k()){
      skipped("file_200k", "a write, read or unlink failed (disk full?)");
      return;
    }
  }
  end("file_200k", n);
}

// One op: 100 small files created (16 bytes each), then all unlinked.
static int
create_unlink_100(void)
{
  char name[] = "bc00";
  for(int pass = 0; pass < 2; pass++){
    for(int i = 0; i < 100; i++){
      name[2] = '0' + i / 10;
      name[3] = '0' + i % 10;
      if(pass == 1){
        if(unlink(name) < 0)
          return 0;
        continue;
      }
      int fd = open(name, O_CREATE | O_WRONLY);
      if(fd < 0 || write(fd, "sixteen bytes..\n", 16) != 16)
        return 0;
      close(fd);
    }
  }
  return 1;
}

static void
bench_create_unlink(void)
{
  int n = 2;
  begin();
  for(int i = 0; i < n; i++){
    if(!create_unlink_100()){
      skipped("create_unlink_100", "a create, write or unlink failed");
      return;
    }
  }
  end("create_unlink_100", n);
}

#ifdef CANOPY
// One op: fork, exec prog (user/big100k.c or big1m.c: a file of that
// size, mostly initialized data, that exits at once), wait. Against
// fork_exec_wait (echo, about 30 KB) it shows exec's cost per MB loaded.
static void
bench_exec_size(const char *op, char *prog, int n)
{
  char *argv[] = { prog, 0 };
  int status = 0;
  // One exec first, untimed, so the rows compare warm buffer caches: a
  // program bigger than the cache (NBUF blocks) is read from the disk
  // every time anyway.
  if(fork() == 0){
    exec(prog, argv);
    exit(1);
  }
  wait(&status);
  begin();
  for(int i = 0; i < n && status == 0; i++){
    if(fork() == 0){
      exec(prog, argv);
      exit(1);
    }
    wait(&status);
  }
  if(status == 0)
    end(op, n);
  else
    skipped(op, "exec failed (is the program on fs.img?)");
}

// One op: a 4 MB file written 4 KB at a time (through the double indirect
// block), closed, unlinked. Returns 0 if a write or the unlink failed.
static int
file_write_4m(void)
{
  static char buf[4096];
  int fd = open("benchbig", O_CREATE | O_WRONLY | O_TRUNC);
  if(fd < 0)
    return 0;
  for(int i = 0; i < 1024; i++)
    if(write(fd, buf, sizeof(buf)) != sizeof(buf)){
      close(fd);
      unlink("benchbig");
      return 0;
    }
  close(fd);
  return unlink("benchbig") == 0;
}

static void
bench_file_4m(void)
{
  int n = 2;
  begin();
  for(int i = 0; i < n; i++){
    if(!file_write_4m()){
      skipped("file_write_4m", "a write or the unlink failed (disk full?)");
      return;
    }
  }
  end("file_write_4m", n);
}

// The size-scaling rows (issue 14 item 6) that need big files: canopy's.
static void
bench_big_files(void)
{
  bench_exec_size("exec_100k", "big100k", 10);
  bench_exec_size("exec_1m", "big1m", 5);
  bench_file_4m();
}
#else
static void
bench_big_files(void)
{
  const char *why = "xv6's fs.img cannot hold the program or file "
                    "(268 KB a file, 2000 blocks)";
  skipped("exec_100k", "needs user/big100k.c on fs.img (canopy's)");
  skipped("exec_1m", why);
  skipped("file_write_4m", why);
}
#endif

#ifdef CANOPY
// A timing loop inside the kernel (kernel/ktest/bench_test.c), which runs
// KBENCH_OPS of the operation in one ktest() call.
static void
bench_in_kernel(const char *op, const char *loop)
{
  begin();
  int failed = ktest(loop);
  if(failed == 0)
    end(op, KBENCH_OPS);
  else
    skipped(op, failed < 0 ? "the kernel has no such loop" : "the loop failed");
}
#endif

// ---- bench scale N: the same operations in N processes at once ----
//
// For `make bench-scale` (tests/bench.py --scale), booted with N harts.
// The parent starts N workers and waits for all of them; the line's n is
// every worker's operations together, and its counters are the parent's
// deltas around the whole run. Under -icount instret is the guest clock,
// which every instruction of every hart advances by one (idle harts do
// not, unless all are idle), so instret/n is instructions of all harts
// per operation: equal on N harts and on 1 if nothing is shared.

#define SCALE_PIPE_OPS 1000   // round trips per worker
#define SCALE_FORK_OPS 100    // fork+exit+wait per worker

// One worker: its own two pipes and child, ops round trips.
static void
pipe_worker(int ops)
{
  int a[2], b[2];
  char c = 0;
  if(pipe(a) < 0 || pipe(b) < 0)
    exit(1);
  if(fork() == 0){
    for(int i = 0; i < ops; i++){
      read(a[0], &c, 1);
      write(b[1], &c, 1);
    }
    exit(0);
  }
  for(int i = 0; i < ops; i++){
    write(a[1], &c, 1);
    read(b[0], &c, 1);
  }
  wait(0);
  exit(0);
}

// Run nworkers copies of worker(ops) at once and wait for them all.
// Returns 0 if a fork failed or a worker did.
static int
in_parallel(int nworkers, void (*worker)(int), int ops)
{
  int ok = 1;
  for(int w = 0; w < nworkers; w++){
    int pid = fork();
    if(pid == 0)
      worker(ops);
    if(pid < 0)
      ok = 0;
  }
  int status;
  while(wait(&status) >= 0)
    if(status != 0)
      ok = 0;
  return ok;
}

static void
fork_worker(int ops)
{
  exit(fork_exit_wait(ops) ? 0 : 1);
}

static void
bench_scale(int nworkers)
{
  begin();
  if(in_parallel(nworkers, pipe_worker, SCALE_PIPE_OPS))
    end("scale_pipe", nworkers * SCALE_PIPE_OPS);
  else
    skipped("scale_pipe", "a fork or pipe failed");
  begin();
  if(in_parallel(nworkers, fork_worker, SCALE_FORK_OPS))
    end("scale_fork", nworkers * SCALE_FORK_OPS);
  else
    skipped("scale_fork", "a fork failed");
}

int
main(int argc, char *argv[])
{
  have_time = counter_readable(0);
  have_instret = counter_readable(1);
  printf("bench clock=%s instret=%s\n", have_time ? "rdtime" : "uptime",
         have_instret ? "yes" : "no");
  if(argc == 3 && strcmp(argv[1], "scale") == 0){
    bench_scale(atoi(argv[2]));
    exit(0);
  }
  bench_getpid();
  bench_pipe();
  bench_fork();
  bench_exec();
  bench_sbrk();
  bench_file();
  bench_create_unlink();
#ifdef CANOPY
  bench_in_kernel("kthread_switch", "bench_kthread_switch");
  bench_in_kernel("lazy_sync_fault", "bench_lazy_sync");
  bench_in_kernel("vmalloc_vfree_16k", "bench_vmalloc_16k");
#endif
  bench_fork_size("fork_exit_wait_1m", 1, 50);
  bench_fork_size("fork_exit_wait_64m", 64, 5);
  bench_big_files();
  exit(0);
}
