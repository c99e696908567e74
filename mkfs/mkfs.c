// mkfs: build a canopy file system image (format in kernel/fs.h).
//
//   mkfs fs.img file...
//
// The image is FSSIZE blocks: boot block, superblock, log (header plus
// LOGBLOCKS), inode blocks, free bitmap, data. The root directory holds
// "." and ".." and one file per argument, named by the argument's last
// path element with one leading '_' removed (user/_cat becomes cat).
// The image is built in memory and written once; every multi-byte field
// is stored little-endian whatever the host's byte order.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// kernel/stat.h declares a struct stat of its own: keep it apart from any
// the host C library might declare.
#define stat canopy_stat
#include "kernel/types.h"
#include "kernel/fs.h"
#include "kernel/stat.h"
#include "kernel/param.h"
#undef stat

#define NINODES 200

_Static_assert(sizeof(struct dinode) == 64, "dinode layout changed");
_Static_assert(sizeof(struct dirent) == 16, "dirent layout changed");
_Static_assert(BSIZE % sizeof(struct dinode) == 0, "dinodes straddle blocks");

static uchar image[FSSIZE][BSIZE];
static struct superblock sb;
static uint next_inum = 1;     // next free inode number
static uint next_block;        // next free data block

static void
die(const char *what, const char *detail)
{
  fprintf(stderr, "mkfs: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

// Store v little-endian at p.
static void
put16(void *p, uint v)
{
  uchar *b = p;
  b[0] = v;
  b[1] = v >> 8;
}

static void
put32(void *p, uint v)
{
  uchar *b = p;
  b[0] = v;
  b[1] = v >> 8;
  b[2] = v >> 16;
  b[3] = v >> 24;
}

static uint
get32(const void *p)
{
  const uchar *b = p;
  return b[0] | b[1] << 8 | b[2] << 16 | (uint)b[3] << 24;
}

// Address of the on-disk inode inum inside the image.
static uchar *
dinode_at(uint inum)
{
  return image[IBLOCK(inum, sb)] + (inum % IPB) * sizeof(struct dinode);
}

// Offsets of the fields of struct dinode, for the byte-wise accessors.
#define DI_TYPE   0
#define DI_NLINK  6
#define DI_SIZE   8
#define DI_ADDRS 12

// Lay out the disk and fill in the superblock (block 1).
static void
make_superblock(void)
{
  uint nlog = LOGBLOCKS + 1;
  uint ninodeblocks = NINODES / IPB + 1;
  uint nbitmap = FSSIZE / BPB + 1;
  uint nmeta = 2 + nlog + ninodeblocks + nbitmap;
  uchar *p = image[1];

  sb.magic = FSMAGIC;
  sb.size = FSSIZE;
  sb.nblocks = FSSIZE - nmeta;
  sb.ninodes = NINODES;
  sb.nlog = nlog;
  sb.logstart = 2;
  sb.inodestart = 2 + nlog;
  sb.bmapstart = 2 + nlog + ninodeblocks;
  next_block = nmeta;

  put32(p + 0, sb.magic);
  put32(p + 4, sb.size);
  put32(p + 8, sb.nblocks);
  put32(p + 12, sb.ninodes);
  put32(p + 16, sb.nlog);
  put32(p + 20, sb.logstart);
  put32(p + 24, sb.inodestart);
  put32(p + 28, sb.bmapstart);
  printf("mkfs: %d blocks: %d meta (log %d, inodes %d, bitmap %d), %d data\n",
         FSSIZE, nmeta, nlog, ninodeblocks, nbitmap, sb.nblocks);
}

// Allocate an inode of the given type with one link; returns its number.
static uint
new_inode(short type)
{
  uchar *di;

  if(next_inum >= NINODES)
    die("out of inodes", 0);
  di = dinode_at(next_inum);
  memset(di, 0, sizeof(struct dinode));
  put16(di + DI_TYPE, type);
  put16(di + DI_NLINK, 1);
  return next_inum++;
}

static uint
new_block(void)
{
  if(next_block >= FSSIZE)
    die("image full", 0);
  return next_block++;
}

// Entry idx of the 32-bit block list at p (a dinode's addrs or an
// indirect block), filled with a new block if it is 0.
static uint
slot_of(uchar *p, uint idx)
{
  if(get32(p + 4 * idx) == 0)
    put32(p + 4 * idx, new_block());
  return get32(p + 4 * idx);
}

// Disk block holding byte offset off of inode inum, allocated if new
// (with the indirect blocks that lead to it).
static uint
block_of(uint inum, uint off)
{
  uchar *addrs = dinode_at(inum) + DI_ADDRS;
  uint fbn = off / BSIZE, ind;

  if(fbn < NDIRECT)
    return slot_of(addrs, fbn);
  fbn -= NDIRECT;
  if(fbn < NINDIRECT)
    return slot_of(image[slot_of(addrs, NDIRECT)], fbn);
  fbn -= NINDIRECT;
  if(fbn >= NDINDIRECT)
    die("file too big", 0);
  ind = slot_of(image[slot_of(addrs, NDIRECT + 1)], fbn / NINDIRECT);
  return slot_of(image[ind], fbn % NINDIRECT);
}

// Append n bytes to the end of inode inum.
static void
append(uint inum, const void *data, uint n)
{
  uchar *di = dinode_at(inum);
  uint off = get32(di + DI_SIZE);
  const uchar *src = data;

  while(n > 0){
    uint bno = block_of(inum, off);
    uint m = BSIZE - off % BSIZE;
    if(m > n)
      m = n;
    memcpy(image[bno] + off % BSIZE, src, m);
    off += m;
    src += m;
    n -= m;
  }
  put32(di + DI_SIZE, off);
}

// Append the entry (name, inum) to directory dir.
static void
add_entry(uint dir, const char *name, uint inum)
{
  uchar de[sizeof(struct dirent)];
  size_t len = strlen(name);

  memset(de, 0, sizeof(de));
  put16(de, inum);
  memcpy(de + 2, name, len < DIRSIZ ? len : DIRSIZ);  // NUL only if room
  append(dir, de, sizeof(de));
}

// An argument NAME=PATH names the file explicitly (README=README.md
// gives xv6 programs the README they open).
static const char *
host_path(const char *arg)
{
  const char *eq = strchr(arg, '=');
  return eq && !memchr(arg, '/', eq - arg) ? eq + 1 : arg;
}

// The name an argument's file gets on the image: NAME of NAME=PATH, else
// the path's last element with one leading '_' removed.
static const char *
image_name(const char *path)
{
  static char named[DIRSIZ + 1];
  const char *eq = strchr(path, '=');
  if(eq && !memchr(path, '/', eq - path)){
    if(eq == path || eq - path > DIRSIZ)
      die("bad file name (empty or longer than DIRSIZ)", path);
    memcpy(named, path, eq - path);
    named[eq - path] = 0;
    return named;
  }
  const char *s = strrchr(path, '/');

  s = s ? s + 1 : path;
  if(*s == '_')
    s++;
  if(*s == 0 || strlen(s) > DIRSIZ)
    die("bad file name (empty or longer than DIRSIZ)", path);
  return s;
}

// Copy the host file at path into a new file of directory dir.
static void
add_file(uint dir, const char *path)
{
  char buf[BSIZE];
  size_t n;
  FILE *f = fopen(host_path(path), "rb");
  uint inum;

  if(f == 0)
    die("cannot open", host_path(path));
  inum = new_inode(T_FILE);
  add_entry(dir, image_name(path), inum);
  while((n = fread(buf, 1, sizeof(buf), f)) > 0)
    append(inum, buf, n);
  if(ferror(f))
    die("cannot read", path);
  fclose(f);
}

// Mark blocks 0 .. next_block-1 (metadata and everything written) used.
static void
write_bitmap(void)
{
  if(next_block > BPB * (sb.size / BPB + 1))
    die("bitmap too small", 0);
  for(uint b = 0; b < next_block; b++)
    image[BBLOCK(b, sb)][(b % BPB) / 8] |= 1 << (b % 8);
}

// Refuse two arguments that would get the same name on the image.
static void
check_unique(int argc, char **argv)
{
  char first[DIRSIZ + 1];
  for(int i = 2; i < argc; i++){
    strcpy(first, image_name(argv[i]));   // image_name may reuse its buffer
    for(int j = i + 1; j < argc; j++)
      if(strcmp(first, image_name(argv[j])) == 0)
        die("two files would have the same name", argv[j]);
  }
}

int
main(int argc, char **argv)
{
  uint root;
  FILE *out;

  if(argc < 2){
    fprintf(stderr, "usage: mkfs fs.img [NAME=]file...\n");
    return 1;
  }
  check_unique(argc, argv);
  make_superblock();

  root = new_inode(T_DIR);
  if(root != ROOTINO)
    die("root is not inode ROOTINO", 0);
  add_entry(root, ".", root);
  add_entry(root, "..", root);
  for(int i = 2; i < argc; i++)
    add_file(root, argv[i]);
  write_bitmap();

  if((out = fopen(argv[1], "wb")) == 0)
    die("cannot create", argv[1]);
  if(fwrite(image, BSIZE, FSSIZE, out) != FSSIZE || fclose(out) != 0)
    die("cannot write", argv[1]);
  printf("mkfs: %d files, %d inodes and %d blocks used\n",
         argc - 2, next_inum - 1, next_block);
  return 0;
}
