// fsck: check a canopy file system image for consistency.
//
//   fsck fs.img
//
// Prints one line per check, "ok" or "FAIL" with the reason(s) below it,
// and exits 0 if every check passed, 1 otherwise. It only reads the image.
// Link-count convention (the kernel's): a dinode's nlink counts the
// directory entries naming it, except each directory's own "." entry.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define stat canopy_stat
#include "kernel/types.h"
#include "kernel/fs.h"
#include "kernel/stat.h"
#include "kernel/param.h"
#undef stat

#define MAXREPORT 10      // details printed per check

static uchar *img;        // the whole image
static uint nimg;         // its size in blocks
static struct superblock sb;
static uint datastart;    // first data block
static uint *owner;       // owner[b]: inode using block b, or 0
static uint *refs;        // directory entries naming each inode, less "."
static uint *parent;      // for a directory: the directory naming it
static int nproblems;     // problems found by the current check

static uint
get16(const uchar *p)
{
  return p[0] | p[1] << 8;
}

static uint
get32(const uchar *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint)p[3] << 24;
}

static uchar *
block(uint b)
{
  return img + (unsigned long)b * BSIZE;
}

// Report one problem of the current check (only the first few print).
static void __attribute__((format(printf, 1, 2)))
problem(const char *fmt, ...)
{
  va_list ap;

  if(nproblems++ < MAXREPORT){
    printf("    ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
  }
}

// Print the verdict of a check; returns 1 if it passed.
static int
verdict(const char *name)
{
  printf("%-52s %s\n", name, nproblems ? "FAIL" : "ok");
  if(nproblems > MAXREPORT)
    printf("    ... %d problems in all\n", nproblems);
  int ok = nproblems == 0;
  nproblems = 0;
  return ok;
}

// Fields of dinode inum.
static uchar *
dinode(uint inum)
{
  return block(IBLOCK(inum, sb)) + (inum % IPB) * sizeof(struct dinode);
}
static int  itype(uint inum) { return (short)get16(dinode(inum)); }
static int  inlink(uint inum) { return (short)get16(dinode(inum) + 6); }
static uint isize(uint inum) { return get32(dinode(inum) + 8); }
static uint iaddr(uint inum, int i) { return get32(dinode(inum) + 12 + 4 * i); }

static int
bitmap_marked(uint b)
{
  return (block(BBLOCK(b, sb))[(b % BPB) / 8] >> (b % 8)) & 1;
}

static int
load(const char *path)
{
  FILE *f = fopen(path, "rb");
  long len;

  if(f == 0 || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 2 * BSIZE){
    fprintf(stderr, "fsck: cannot read %s or it is too small\n", path);
    return -1;
  }
  nimg = len / BSIZE;
  img = malloc((size_t)nimg * BSIZE);
  rewind(f);
  if(img == 0 || fread(img, BSIZE, nimg, f) != nimg){
    fprintf(stderr, "fsck: cannot read %s\n", path);
    return -1;
  }
  fclose(f);
  return 0;
}

// Superblock: magic, and regions that are in order and fit the image.
static int
check_superblock(void)
{
  uchar *p = block(1);

  sb.magic = get32(p);
  sb.size = get32(p + 4);
  sb.nblocks = get32(p + 8);
  sb.ninodes = get32(p + 12);
  sb.nlog = get32(p + 16);
  sb.logstart = get32(p + 20);
  sb.inodestart = get32(p + 24);
  sb.bmapstart = get32(p + 28);
  datastart = sb.size - sb.nblocks;

  if(sb.magic != FSMAGIC)
    problem("magic %x, want %x", sb.magic, FSMAGIC);
  else if(sb.size > nimg || sb.nblocks > sb.size)
    problem("size %d blocks, image has %d", sb.size, nimg);
  else if(sb.logstart < 2 || sb.nlog < 2 || sb.nlog > BSIZE / 4)
    problem("log at %d, %d blocks", sb.logstart, sb.nlog);
  else if(sb.inodestart != sb.logstart + sb.nlog)
    problem("inodes at %d, log ends at %d", sb.inodestart, sb.logstart + sb.nlog);
  else if(sb.ninodes < 2 ||
          sb.bmapstart < sb.inodestart + (sb.ninodes + IPB - 1) / IPB)
    problem("bitmap at %d overlaps %d inodes", sb.bmapstart, sb.ninodes);
  else if(datastart < sb.bmapstart + (sb.size + BPB - 1) / BPB)
    problem("data at %d overlaps bitmap at %d", datastart, sb.bmapstart);
  return verdict("superblock sane");
}

// Record that inode inum uses block b, checking b is a data block,
// marked in the bitmap and not used before. Returns 1 if b is readable.
static int
claim(uint inum, uint b)
{
  if(b < datastart || b >= sb.size){
    problem("inode %d: block %d out of the data area", inum, b);
    return 0;
  }
  if(!bitmap_marked(b))
    problem("inode %d: block %d in use but free in the bitmap", inum, b);
  if(owner[b])
    problem("block %d used twice (and by inode %d)", b, owner[b]);
  else
    owner[b] = inum;
  return 1;
}

// Blocks of every allocated inode: in range, marked, used once.
static int
check_inode_blocks(void)
{
  for(uint inum = 1; inum < sb.ninodes; inum++){
    int t = itype(inum);
    if(t == 0)
      continue;
    if(t != T_DIR && t != T_FILE && t != T_DEVICE)
      problem("inode %d: bad type %d", inum, t);
    if(isize(inum) > MAXFILE * BSIZE)
      problem("inode %d: size %d too big", inum, isize(inum));
    for(int i = 0; i < NDIRECT; i++)
      if(iaddr(inum, i))
        claim(inum, iaddr(inum, i));
    uint ind = iaddr(inum, NDIRECT);
    if(ind && claim(inum, ind)){
      for(uint j = 0; j < NINDIRECT; j++)
        if(get32(block(ind) + 4 * j))
          claim(inum, get32(block(ind) + 4 * j));
    }
  }
  return verdict("inode blocks in range, marked and used once");
}

// Bitmap: metadata marked; data blocks marked only if something uses them.
static int
check_bitmap(void)
{
  uint leaked = 0;

  for(uint b = 0; b < datastart; b++)
    if(!bitmap_marked(b))
      problem("metadata block %d free in the bitmap", b);
  for(uint b = datastart; b < sb.size; b++)
    if(bitmap_marked(b) && owner[b] == 0)
      leaked++;
  if(leaked)
    problem("%d blocks marked in the bitmap but unused", leaked);
  return verdict("no block marked in the bitmap without a user");
}

// Disk block holding file block fbn of inum, or 0 if missing or bad.
static uint
file_block(uint inum, uint fbn)
{
  uint ind, b;

  if(fbn < NDIRECT)
    b = iaddr(inum, fbn);
  else if(fbn - NDIRECT < NINDIRECT &&
          (ind = iaddr(inum, NDIRECT)) >= datastart && ind < sb.size)
    b = get32(block(ind) + 4 * (fbn - NDIRECT));
  else
    b = 0;
  return b >= datastart && b < sb.size ? b : 0;
}

// Call fn on every entry of directory dir, with its index.
static void
each_entry(uint dir, void (*fn)(uint dir, uint idx, uint inum, const char *name))
{
  uint n = isize(dir) / sizeof(struct dirent);

  for(uint i = 0; i < n; i++){
    uint off = i * sizeof(struct dirent);
    uint b = file_block(dir, off / BSIZE);
    if(b == 0)
      continue;
    uchar *de = block(b) + off % BSIZE;
    char name[DIRSIZ + 1];
    memcpy(name, de + 2, DIRSIZ);
    name[DIRSIZ] = 0;
    if(get16(de) != 0)
      fn(dir, i, get16(de), name);
  }
}

// Count references, note parents, and catch entries naming free inodes.
static void
scan_entry(uint dir, uint idx, uint inum, const char *name)
{
  if(inum >= sb.ninodes || itype(inum) == 0){
    problem("directory %d names free inode %d", dir, inum);
    return;
  }
  if(strcmp(name, ".") != 0)
    refs[inum]++;
  if(strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
     itype(inum) == T_DIR){
    if(parent[inum])
      problem("directory %d has two parents (one is %d)", inum, dir);
    parent[inum] = dir;
  }
}

static int
check_entries(void)
{
  for(uint inum = 1; inum < sb.ninodes; inum++)
    if(itype(inum) == T_DIR)
      each_entry(inum, scan_entry);
  return verdict("no directory entry names a free inode");
}

static uint dot_seen, dotdot_seen;

// Note where "." and ".." point, and that they are entries 0 and 1.
static void
dot_entry(uint dir, uint idx, uint inum, const char *name)
{
  if(idx == 0 && strcmp(name, ".") == 0)
    dot_seen = inum;
  if(idx == 1 && strcmp(name, "..") == 0)
    dotdot_seen = inum;
}

static int
check_dots(void)
{
  if(itype(ROOTINO) != T_DIR)
    problem("root inode %d is not a directory", ROOTINO);
  for(uint inum = 1; inum < sb.ninodes; inum++){
    if(itype(inum) != T_DIR)
      continue;
    uint want = inum == ROOTINO ? ROOTINO : parent[inum];
    dot_seen = dotdot_seen = 0;
    each_entry(inum, dot_entry);
    if(dot_seen != inum)
      problem("directory %d: \".\" names %d", inum, dot_seen);
    if(want == 0)
      problem("directory %d: no directory names it", inum);
    else if(dotdot_seen != want)
      problem("directory %d: \"..\" names %d", inum, dotdot_seen);
  }
  return verdict("every directory has correct \".\" and \"..\"");
}

static int
check_nlink(void)
{
  for(uint inum = 1; inum < sb.ninodes; inum++){
    if(itype(inum) == 0)
      continue;
    if(inlink(inum) != refs[inum])
      problem("inode %d: nlink %d, but %d entries name it",
              inum, inlink(inum), refs[inum]);
    else if(refs[inum] == 0 && inum != ROOTINO)
      problem("inode %d: allocated (type %d) but nothing names it",
              inum, itype(inum));
  }
  return verdict("link counts match directory entries, no orphans");
}

// Sizes: a file has every block below its size and none past it (the
// kernel never makes holes); a directory holds whole entries.
static int
check_sizes(void)
{
  for(uint inum = 1; inum < sb.ninodes; inum++){
    int t = itype(inum);
    if(t != T_FILE && t != T_DIR)
      continue;
    uint size = isize(inum), nb = (size + BSIZE - 1) / BSIZE;
    if(size > MAXFILE * BSIZE)
      continue;   // reported by check_inode_blocks
    if(t == T_DIR && size % sizeof(struct dirent) != 0)
      problem("directory %d: size %d not a whole number of entries", inum, size);
    for(uint fbn = 0; fbn < MAXFILE; fbn++){
      uint b = file_block(inum, fbn);
      if(fbn < nb && b == 0){
        problem("inode %d: size %d but file block %d missing", inum, size, fbn);
        break;
      }
      if(fbn >= nb && b != 0){
        problem("inode %d: size %d but block %d past the end is mapped",
                inum, size, fbn);
        break;
      }
    }
    if(nb <= NDIRECT && iaddr(inum, NDIRECT) != 0)
      problem("inode %d: size %d needs no indirect block, has one", inum, size);
  }
  return verdict("file sizes match the blocks mapped");
}

// The log (kernel/log.c): header words n, nprev (slots before the last
// commit), the last commit's checksum, then n home block numbers. Checks
// the counts are in range and each home is an inode, bitmap or data block;
// on an image the kernel has shut down or booted after a crash, n is
// zero (nothing committed left to install).
static int
check_log(void)
{
  uchar *h = block(sb.logstart);
  int n = (int)get32(h), nprev = (int)get32(h + 4);
  if(n < 0 || n >= (int)sb.nlog)
    problem("log header count %d out of range (log has %d blocks)", n, sb.nlog);
  else if(nprev < 0 || nprev > n)
    problem("log header: %d slots before the last commit, of %d", nprev, n);
  else if(n != 0){
    for(int i = 0; i < n; i++){
      uint home = get32(h + 12 + 4 * i);
      if(home < sb.inodestart || home >= sb.size)
        problem("log slot %d: home block %u is not a block of the file system"
                " past the log", i, home);
    }
    problem("log holds %d committed blocks not yet installed "
            "(boot the kernel once to replay them)", n);
  }
  return verdict("log header empty");
}

int
main(int argc, char **argv)
{
  int ok;

  if(argc != 2){
    fprintf(stderr, "usage: fsck fs.img\n");
    return 2;
  }
  if(load(argv[1]) < 0)
    return 1;
  if(!check_superblock()){
    printf("fsck: %s: superblock unusable, stopping\n", argv[1]);
    return 1;
  }
  owner = calloc(sb.size, sizeof(uint));
  refs = calloc(sb.ninodes, sizeof(uint));
  parent = calloc(sb.ninodes, sizeof(uint));
  if(!owner || !refs || !parent)
    return 1;

  ok = check_inode_blocks();
  ok &= check_bitmap();
  ok &= check_entries();
  ok &= check_dots();
  ok &= check_nlink();
  ok &= check_sizes();
  ok &= check_log();
  printf("fsck: %s: %s\n", argv[1], ok ? "consistent" : "INCONSISTENT");
  return ok ? 0 : 1;
}
