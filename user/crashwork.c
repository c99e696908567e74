// crashwork: the file system workload of the crash-consistency test
// (tests/crashtest.py, make crashtest; docs/robustness.md).
//
//   crashwork SEED NOPS
//
// Issues NOPS file system operations under /cw, chosen from SEED: create,
// write (from offset 0), append, truncate, link, unlink, mkdir, removal of
// a directory tree (unlinks, then the empty directory), rename (link,
// then unlink), large writes that reach the indirect block, and once per
// run a file grown by appends past 11 + 256 blocks, into the double
// indirect block (op_grow). Before
// each system call it prints "B n op args" and after it returns
// "A n", both in one write() to the console, so the host knows exactly
// which operations returned (and which one, at most, was in flight) when
// the power is cut. The data written is a function of a tag and the byte
// offset (crash_byte below; the host computes the same), so misplaced or
// stale blocks show.
//
// The program keeps its own small model of the tree only to pick valid
// operations; the host keeps the real model. A system call that fails
// ends the run with "crashwork: FAIL".
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/kstat.h"
#include "user/user.h"

#define MAXNAMES 48     // live names at once
#define MAXGROUPS 64    // files (inodes) ever created
#define BIGWRITE 30000  // largest write: past NDIRECT blocks
#define MAXBYTES (1024 * 1024)  // keep the file data under this
#define GROWSIZE (290 * 1024)   // op_grow's file: past (11 + 256) * 1024 bytes

struct name {
  int used;
  int isdir;
  int group;            // file: index into size[]; dir: unused
  int parent;           // index of the containing directory, -1 for /cw
  char path[32];
};

static struct name names[MAXNAMES];
static uint sizes[MAXGROUPS];
static int ngroups;
static int counter;     // for fresh names
static int opno;
static uint rng;
static char buf[BIGWRITE + 1024];

static uint
rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

// Byte i of data written with tag (the host's crash_byte is the same).
static uchar
crash_byte(uint tag, uint i)
{
  uint x = tag * 0x9E3779B1u + (i / 4) * 0x85EBCA77u;
  x ^= x >> 15;
  x *= 0x2C1B3C6Du;
  x ^= x >> 12;
  return (x >> (8 * (i % 4))) & 0xff;
}

static void
fail(const char *what)
{
  printf("crashwork: FAIL op %d %s\n", opno, what);
  exit(1);
}

static void
acked(void)
{
  printf("A %d\n", opno);
  opno++;
}

// A free slot of names[], or -1.
static int
free_slot(void)
{
  for(int i = 0; i < MAXNAMES; i++)
    if(!names[i].used)
      return i;
  return -1;
}

// A random live name of the kind wanted (isdir 0 or 1), or -1 (and
// with isdir 1, -1 also stands for /cw itself some of the time).
static int
pick(int isdir)
{
  int n = 0, idx[MAXNAMES];
  for(int i = 0; i < MAXNAMES; i++)
    if(names[i].used && names[i].isdir == isdir)
      idx[n++] = i;
  if(n == 0)
    return -1;
  if(isdir && rnd() % 3 == 0)
    return -1;
  return idx[rnd() % n];
}

// Make a fresh name in directory dir (-1: /cw) in slot s.
static void
fresh(int s, int dir, int isdir)
{
  names[s].used = 1;
  names[s].isdir = isdir;
  names[s].parent = dir;
  char tmp[16];
  int n = counter++, k = 0;
  tmp[k++] = isdir ? 'd' : 'f';
  char digits[8];
  int nd = 0;
  do { digits[nd++] = '0' + n % 10; n /= 10; } while(n);
  while(nd)
    tmp[k++] = digits[--nd];
  tmp[k] = 0;
  const char *base = dir < 0 ? "/cw" : names[dir].path;
  strcpy(names[s].path, base);
  strcpy(names[s].path + strlen(base), "/");
  strcpy(names[s].path + strlen(base) + 1, tmp);
}

static uint
total_bytes(void)
{
  uint t = 0;
  for(int i = 0; i < ngroups; i++)
    t += sizes[i];
  return t;
}

static int
group_live(int g)
{
  for(int i = 0; i < MAXNAMES; i++)
    if(names[i].used && !names[i].isdir && names[i].group == g)
      return 1;
  return 0;
}

static void
op_create(void)
{
  int s = free_slot();
  if(s < 0 || ngroups == MAXGROUPS)
    return;
  fresh(s, pick(1), 0);
  names[s].group = ngroups++;
  sizes[names[s].group] = 0;
  printf("B %d create %s\n", opno, names[s].path);
  int fd = open(names[s].path, O_CREATE | O_RDWR);
  if(fd < 0)
    fail("create");
  close(fd);
  acked();
}

// Write len bytes to file f with a fresh tag at offset 0, or at the end
// (append).
static void
write_file(int f, int append, uint len)
{
  uint tag = rnd();
  uint *size = &sizes[names[f].group];
  uint off = append ? *size : 0;
  int fd = open(names[f].path, O_RDWR);
  if(fd < 0)
    fail("open for write");
  if(append){
    int n;
    while((n = read(fd, buf, sizeof(buf))) > 0)
      ;
    if(n < 0)
      fail("read to end");
  }
  for(uint i = 0; i < len; i++)
    buf[i] = crash_byte(tag, off + i);
  printf("B %d %s %s %d %u\n", opno, append ? "append" : "write",
         names[f].path, len, tag);
  if(write(fd, buf, len) != len)
    fail("write");
  acked();
  close(fd);
  if(off + len > *size)
    *size = off + len;
}

// A random write or append of a random file, most often small.
static void
op_write(int append)
{
  int f = pick(0);
  if(f < 0)
    return;
  uint len = rnd() % 5 == 0 ? 12000 + rnd() % (BIGWRITE - 12000) : 1 + rnd() % 3000;
  if(total_bytes() + len > MAXBYTES)
    return;
  uint off = append ? sizes[names[f].group] : 0;
  if(off + len > 200 * 1024)
    return;
  write_file(f, append, len);
}

// Grow a file by BIGWRITE appends until it passes GROWSIZE, so its last
// blocks (and their allocation, crossing from the single indirect block
// into the double indirect one) are in the workload. Returns 1 if done.
static int
op_grow(void)
{
  int f = pick(0);
  if(f < 0 || total_bytes() + GROWSIZE > MAXBYTES)
    return 0;
  while(sizes[names[f].group] < GROWSIZE)
    write_file(f, 1, BIGWRITE);
  return 1;
}

static void
op_trunc(void)
{
  int f = pick(0);
  if(f < 0)
    return;
  printf("B %d trunc %s\n", opno, names[f].path);
  int fd = open(names[f].path, O_WRONLY | O_TRUNC);
  if(fd < 0)
    fail("trunc");
  close(fd);
  acked();
  sizes[names[f].group] = 0;
}

// link an existing file under a fresh name; returns the new slot or -1.
static int
op_link(int f)
{
  int s = free_slot();
  if(f < 0 || s < 0)
    return -1;
  fresh(s, pick(1), 0);
  names[s].group = names[f].group;
  printf("B %d link %s %s\n", opno, names[f].path, names[s].path);
  if(link(names[f].path, names[s].path) < 0)
    fail("link");
  acked();
  return s;
}

static void
op_unlink(int i)
{
  printf("B %d unlink %s\n", opno, names[i].path);
  if(unlink(names[i].path) < 0)
    fail("unlink");
  acked();
  names[i].used = 0;
  if(!names[i].isdir && !group_live(names[i].group))
    sizes[names[i].group] = 0;
}

static void
op_mkdir(void)
{
  int s = free_slot();
  if(s < 0)
    return;
  int parent = pick(1);
  if(parent >= 0 && names[parent].parent >= 0)
    parent = -1;          // at most two levels below /cw
  fresh(s, parent, 1);
  printf("B %d mkdir %s\n", opno, names[s].path);
  if(mkdir(names[s].path) < 0)
    fail("mkdir");
  acked();
}

// Remove directory d and everything below it, deepest first.
static void
op_rmtree(int d)
{
  for(int i = 0; i < MAXNAMES; i++)
    if(names[i].used && names[i].parent == d){
      if(names[i].isdir)
        op_rmtree(i);
      else
        op_unlink(i);
    }
  op_unlink(d);
}

int
main(int argc, char *argv[])
{
  if(argc != 3){
    fprintf(2, "usage: crashwork SEED NOPS\n");
    exit(1);
  }
  rng = atoi(argv[1]) * 2654435761u + 1;
  if(rng == 0)
    rng = 1;
  int nops = atoi(argv[2]);

  printf("crashwork: start seed %s writes %d\n", argv[1], (int)kstat(KSTAT_DISK_WRITES));
  printf("B %d mkdir /cw\n", opno);
  if(mkdir("/cw") < 0)
    fail("mkdir /cw");
  acked();
  int grown = 0;
  while(opno < nops){
    if(!grown && opno >= nops / 4)
      grown = op_grow();
    uint r = rnd() % 100;
    if(r < 18)
      op_create();
    else if(r < 38)
      op_write(0);
    else if(r < 55)
      op_write(1);
    else if(r < 59)
      op_trunc();
    else if(r < 66)
      op_link(pick(0));
    else if(r < 77){
      int f = pick(0);
      if(f >= 0)
        op_unlink(f);
    } else if(r < 84)
      op_mkdir();
    else if(r < 88){
      int d = pick(1);
      if(d >= 0)
        op_rmtree(d);
    } else {
      int f = pick(0);             // rename: link, then unlink the old name
      if(op_link(f) >= 0)
        op_unlink(f);
    }
  }
  printf("crashwork: done %d ops writes %d\n", opno, (int)kstat(KSTAT_DISK_WRITES));
  exit(0);
}
