// bench: per-operation costs of the kernel's hot paths, in microseconds
// of the time CSR (10 MHz on QEMU virt). Run by `make bench`; compare
// before and after a change to trap entry, switching, page tables or the
// file system. QEMU's speed varies from machine to machine: compare runs
// on one machine only.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/kstat.h"
#include "user/user.h"

static uint64
now(void)
{
  uint64 t;
  asm volatile("rdtime %0" : "=r"(t));
  return t;
}

static void
report(const char *name, uint64 start, int n)
{
  uint64 tenths = (now() - start) / n;   // 0.1 us units
  printf("bench %s: %d.%d us/op (%d ops)\n", name, (int)(tenths / 10),
         (int)(tenths % 10), n);
}

static void
bench_syscall(void)
{
  int n = 20000;
  uint64 t = now();
  for(int i = 0; i < n; i++)
    getpid();
  report("null_syscall", t, n);

  // instret is exact only under QEMU's -icount (QEMUEXTRA='-icount
  // shift=0'); without it QEMU counts host clock ticks instead.
  uint64 i0, i1;
  asm volatile("rdinstret %0" : "=r"(i0));
  for(int i = 0; i < n; i++)
    getpid();
  asm volatile("rdinstret %0" : "=r"(i1));
  printf("bench null_syscall_instret: %d per op, loop included "
         "(guest instructions under -icount)\n", (int)((i1 - i0) / n));
}

static void
bench_fork(void)
{
  int n = 200;
  uint64 t = now();
  for(int i = 0; i < n; i++){
    int pid = fork();
    if(pid == 0)
      exit(0);
    wait(0);
  }
  report("fork_exit_wait", t, n);
}

// fork+exit+wait of a process that has grown by mib MiB, every page of
// it touched: without copy-on-write fork copies them all, with it fork
// only shares them. Skipped (with a note) if memory is too short for the
// process, and for a full copy of it.
static void
bench_fork_size(const char *name, int mib, int n)
{
  uint64 bytes = (uint64)mib << 20;
  if((uint64)kstat(KSTAT_FREEPAGES) * 4096 < 2 * bytes + (8 << 20)){
    printf("bench %s: skipped, needs more memory (MEM=256M)\n", name);
    return;
  }
  char *p = sbrk(bytes);
  if(p == (char *)-1){
    printf("bench %s: skipped, sbrk failed\n", name);
    return;
  }
  for(uint64 off = 0; off < bytes; off += 4096)
    p[off] = 1;
  uint64 t = now();
  for(int i = 0; i < n; i++){
    int pid = fork();
    if(pid == 0)
      exit(0);
    if(pid < 0){
      printf("bench %s: fork failed\n", name);
      break;
    }
    wait(0);
  }
  report(name, t, n);
  sbrk(-bytes);
}

// One byte back and forth between two processes: two switches per op.
static void
bench_pipe_pingpong(void)
{
  int a[2], b[2], n = 2000;
  char c = 0;
  pipe(a);
  pipe(b);
  if(fork() == 0){
    for(int i = 0; i < n; i++){
      read(a[0], &c, 1);
      write(b[1], &c, 1);
    }
    exit(0);
  }
  uint64 t = now();
  for(int i = 0; i < n; i++){
    write(a[1], &c, 1);
    read(b[0], &c, 1);
  }
  report("pipe_roundtrip", t, n);
  wait(0);
  close(a[0]); close(a[1]); close(b[0]); close(b[1]);
}

static void
bench_sbrk(void)
{
  int n = 2000;
  uint64 t = now();
  for(int i = 0; i < n; i++){
    char *p = sbrk(4096);
    p[0] = 1;
    sbrk(-4096);
  }
  report("sbrk_page_grow_shrink", t, n);
}

static void
bench_exec(void)
{
  int n = 50;
  char *argv[] = { "echo", 0 };
  int fd = open("/dev-null-bench", O_CREATE | O_WRONLY);
  uint64 t = now();
  for(int i = 0; i < n; i++){
    if(fork() == 0){
      close(1);
      dup(fd);
      exec("echo", argv);
      exit(1);
    }
    wait(0);
  }
  report("fork_exec_wait", t, n);
  close(fd);
  unlink("/dev-null-bench");
}

static void
bench_file(void)
{
  static char buf[4096];
  int n = 200;
  int fd = open("benchfile", O_CREATE | O_RDWR | O_TRUNC);
  uint64 t = now();
  for(int i = 0; i < n; i++)
    write(fd, buf, sizeof(buf));
  report("file_write_4k", t, n);
  close(fd);
  fd = open("benchfile", O_RDONLY);
  t = now();
  for(int i = 0; i < n; i++)
    read(fd, buf, sizeof(buf));
  report("file_read_4k", t, n);
  close(fd);
  unlink("benchfile");
}

// 200 writes of 1 KB to a new file, close, read it back, unlink: the
// file system's per-write() cost (one transaction per write) and the
// disk requests it needs (issue 14).
static void
bench_file_200k(void)
{
  static char buf[1024];
  int n = 200;
  uint64 w0 = kstat(KSTAT_DISK_WRITES), r0 = kstat(KSTAT_DISK_REQUESTS);
  uint64 t = now();
  int fd = open("benchfile2", O_CREATE | O_RDWR | O_TRUNC);
  for(int i = 0; i < n; i++)
    write(fd, buf, sizeof(buf));
  close(fd);
  fd = open("benchfile2", O_RDONLY);
  for(int i = 0; i < n; i++)
    read(fd, buf, sizeof(buf));
  close(fd);
  unlink("benchfile2");
  report("file_200k_1k", t, 1);
  printf("bench file_200k_1k_disk: %d writes, %d requests\n",
         (int)(kstat(KSTAT_DISK_WRITES) - w0),
         (int)(kstat(KSTAT_DISK_REQUESTS) - r0));
}

int
main(void)
{
  bench_syscall();
  bench_pipe_pingpong();
  bench_sbrk();
  bench_fork();
  bench_fork_size("fork_exit_wait_1m", 1, 50);
  bench_fork_size("fork_exit_wait_64m", 64, 5);
  bench_exec();
  bench_file();
  bench_file_200k();
  exit(0);
}
