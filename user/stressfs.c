// stressfs: several processes write and read back their own files at
// the same time. Does the file system keep their data apart?
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

#define NCHILD  4
#define NBLOCKS 20    // blocks of CHUNK bytes per file
#define CHUNK   512

static char buf[CHUNK];

// What byte i of block b of child c's file holds.
static char
pattern(int c, int b, int i)
{
  return 'a' + (c * 7 + b * 3 + i) % 26;
}

static void
fail(const char *what, char *name)
{
  printf("stressfs: %s %s failed\n", what, name);
  exit(1);
}

static void
writefile(int c, char *name)
{
  int fd, b, i;

  if((fd = open(name, O_CREATE | O_RDWR | O_TRUNC)) < 0)
    fail("create", name);
  for(b = 0; b < NBLOCKS; b++){
    for(i = 0; i < CHUNK; i++)
      buf[i] = pattern(c, b, i);
    if(write(fd, buf, CHUNK) != CHUNK)
      fail("write", name);
  }
  close(fd);
}

static void
checkfile(int c, char *name)
{
  int fd, b, i;

  if((fd = open(name, O_RDONLY)) < 0)
    fail("open", name);
  for(b = 0; b < NBLOCKS; b++){
    if(read(fd, buf, CHUNK) != CHUNK)
      fail("read", name);
    for(i = 0; i < CHUNK; i++)
      if(buf[i] != pattern(c, b, i))
        fail("check of", name);
  }
  if(read(fd, buf, 1) != 0)
    fail("end of file check of", name);
  close(fd);
}

// One child's work: write its file, read it back, remove it.
static void
child(int c)
{
  char name[] = "stressfs0";

  name[8] = '0' + c;
  writefile(c, name);
  checkfile(c, name);
  if(unlink(name) < 0)
    fail("unlink", name);
  exit(0);
}

int
main(void)
{
  int c, pid, status, bad = 0;

  printf("stressfs starting\n");
  for(c = 0; c < NCHILD; c++){
    pid = fork();
    if(pid < 0){
      printf("stressfs: fork failed\n");
      bad = 1;
      break;
    }
    if(pid == 0)
      child(c);
  }
  while(wait(&status) >= 0)
    if(status != 0)
      bad = 1;
  if(bad){
    printf("stressfs: FAILED\n");
    return 1;
  }
  printf("stressfs OK\n");
  return 0;
}
