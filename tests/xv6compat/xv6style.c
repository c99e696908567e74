// xv6style.c: a program written the way xv6-riscv programs are written,
// for tests/host/test_xv6_compat.sh, which builds and links it with
// canopy's user flags and library. It is never run; it only has to build.
//
// It uses the headers in xv6's order, the names xv6's user programs rely
// on (from both xv6 generations: sleep and pause, sbrk and sbrklazy,
// SBRK_ERROR, LOGSIZE and LOGBLOCKS), and an old-style printf format that
// newer compilers warn about ("%l"), which must stay a warning.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/syscall.h"
#include "user/user.h"

static char names[NOFILE][DIRSIZ + 1];
static int calls[] = { SYS_fork, SYS_exit, SYS_wait, SYS_pipe, SYS_read,
  SYS_kill, SYS_exec, SYS_fstat, SYS_chdir, SYS_dup, SYS_getpid, SYS_sbrk,
  SYS_sleep, SYS_uptime, SYS_open, SYS_write, SYS_mknod, SYS_unlink,
  SYS_link, SYS_mkdir, SYS_close };

// List directory path the way an xv6 ls does.
static void
listdir(char *path)
{
  char buf[MAXPATH], *p;
  struct dirent de;
  struct stat st;
  int fd, n = 0;

  if((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0 || st.type != T_DIR)
    return;
  strcpy(buf, path);
  p = buf + strlen(buf);
  *p++ = '/';
  while(read(fd, &de, sizeof(de)) == sizeof(de) && n < NOFILE){
    if(de.inum == 0)
      continue;
    memmove(p, de.name, DIRSIZ);
    p[DIRSIZ] = 0;
    if(stat(buf, &st) < 0)
      continue;
    memmove(names[n++], de.name, DIRSIZ);
    printf("%s %d %d %l\n", buf, st.type, st.ino, st.size);   // old format
  }
  close(fd);
}

int
main(int argc, char *argv[])
{
  uint64 top = TRAPFRAME;
  uint n = sizeof(calls) / sizeof(calls[0]);
  uchar c = 'x';
  ushort s = T_FILE + T_DEVICE;
  char *m, line[MAXARG];

  listdir(argc > 1 ? argv[1] : ".");
  if(sbrklazy(PGSIZE) == SBRK_ERROR || sbrk(PGROUNDUP(1)) == SBRK_ERROR)
    exit(1);
  m = malloc(LOGSIZE + LOGBLOCKS + NPROC);
  free(m);
  gets(line, sizeof(line));
  printf("%d %p %p %d %c %d %d\n", atoi(line), (void*)KERNBASE,
         (void*)(top < MAXVA ? top : 0), n, c, s, uptime());
  if(strchr(line, 'q') == 0 && fork() == 0){
    sleep(1);
    pause(1);
    exit(0);
  }
  wait(0);
  exit(0);
}
