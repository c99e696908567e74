// fs.c: the file system proper, in layers over the log (log.c) and the
// buffer cache (bio.c):
//   blocks       balloc/bfree on the free bitmap
//   inodes       the inode table (itable) caching NINODE dinodes;
//                ialloc, iget/idup/iput, ilock/iunlock, iupdate, itrunc
//   file data    bmap (NDIRECT direct blocks + one indirect), readi/writei
//   directories  dirlookup, dirlink
//   path names   namei, nameiparent
// Every function that changes the disk must be called inside
// begin_op()/end_op() and writes through log_write().
//
// Inode life: ref counts kernel pointers to an itable slot (itable.lock);
// nlink counts directory entries naming the dinode. When the last pointer
// goes (iput) and nlink is 0, the file's blocks and dinode are freed.
// Lock order: a directory's ip->lock before the ip->lock of an entry in
// it (never the reverse, and never two unrelated inodes); ip->lock before
// buffer locks; itable.lock is held only briefly and never while sleeping.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/proc.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/file.h"
#include "kernel/defs.h"

#define min(a, b) ((a) < (b) ? (a) : (b))

// The superblock of the (only) disk, read once by fsinit().
struct superblock sb;

// Read the superblock of dev, check it and recover the log. Runs in the
// first user process, before anything opens a file.
void
fsinit(int dev)
{
  struct buf *b;

  iinit();
  b = bread(dev, 1);
  memmove(&sb, b->data, sizeof(sb));
  brelse(b);
  if(sb.magic != FSMAGIC)
    panic("fsinit: bad superblock magic 0x%x (want 0x%x): is the disk a "
          "canopy fs.img made by mkfs?", sb.magic, FSMAGIC);
  if(sb.ninodes == 0 || sb.bmapstart >= sb.size)
    panic("fsinit: superblock describes an impossible layout");
  initlog(dev, &sb);
}

// ---- blocks ---------------------------------------------------------------

// Fill block bno with zeroes (through the log). Its old contents do not
// matter: bblank does not read them from the disk.
static void
bzero(int dev, uint bno)
{
  struct buf *b = bblank(dev, bno);

  memset(b->data, 0, BSIZE);
  log_write(b);
  brelse(b);
}

// Take a free block from bitmap block 'base' (covering blocks base..);
// returns its number or 0 if that bitmap block has no free bit.
static uint
balloc_in(uint dev, uint base)
{
  struct buf *bp = bread(dev, BBLOCK(base, sb));

  for(uint bi = 0; bi < BPB && base + bi < sb.size; bi++){
    uchar mask = 1 << (bi % 8);
    if((bp->data[bi / 8] & mask) == 0){
      bp->data[bi / 8] |= mask;
      log_write(bp);
      brelse(bp);
      return base + bi;
    }
  }
  brelse(bp);
  return 0;
}

// Allocate a zeroed disk block. Returns its number, or 0 if the disk is
// full.
static uint
balloc(uint dev)
{
  for(uint base = 0; base < sb.size; base += BPB){
    uint bno = balloc_in(dev, base);
    if(bno != 0){
      bzero(dev, bno);
      return bno;
    }
  }
  printf("balloc: out of blocks\n");
  return 0;
}

// Mark block bno free in the bitmap.
static void
bfree(int dev, uint bno)
{
  struct buf *bp = bread(dev, BBLOCK(bno, sb));
  uint bi = bno % BPB;
  uchar mask = 1 << (bi % 8);

  if((bp->data[bi / 8] & mask) == 0)
    panic("bfree: block %d is already free", bno);
  bp->data[bi / 8] &= ~mask;
  log_write(bp);
  brelse(bp);
}

// ---- inodes ---------------------------------------------------------------

static struct {
  struct spinlock lock;
  struct inode inode[NINODE];
} itable;

// Set up the inode table. Safe to call more than once (boot and fsinit).
void
iinit(void)
{
  static int done;

  if(done)
    return;
  done = 1;
  initlock(&itable.lock, "itable");
  for(int i = 0; i < NINODE; i++)
    initsleeplock(&itable.inode[i].lock, "inode");
}

// How many inode-table slots hold a reference (ref > 0)?
int
inode_nr_active(void)
{
  int n = 0;
  acquire(&itable.lock);
  for(struct inode *ip = itable.inode; ip < itable.inode + NINODE; ip++)
    n += ip->ref > 0;
  release(&itable.lock);
  return n;
}

// Return an unlocked, counted pointer to the in-memory inode for
// (dev, inum), without reading it from disk. Returns 0 if the table is
// full.
static struct inode *
iget(uint dev, uint inum)
{
  struct inode *ip, *empty = 0;

  acquire(&itable.lock);
  for(ip = itable.inode; ip < itable.inode + NINODE; ip++){
    if(ip->ref > 0 && ip->dev == dev && ip->inum == inum){
      ip->ref++;
      release(&itable.lock);
      return ip;
    }
    if(empty == 0 && ip->ref == 0)
      empty = ip;
  }
  if(empty == 0){
    release(&itable.lock);
    printf("iget: inode table full\n");
    return 0;
  }
  empty->dev = dev;
  empty->inum = inum;
  empty->ref = 1;
  empty->valid = 0;
  release(&itable.lock);
  return empty;
}

// Allocate a free dinode on dev, mark it with type, and return it
// unlocked and counted. Returns 0 if no inode is free. Inside a
// transaction.
struct inode *
ialloc(uint dev, short type)
{
  for(uint inum = 1; inum < sb.ninodes; inum++){
    struct buf *bp = bread(dev, IBLOCK(inum, sb));
    struct dinode *dip = (struct dinode *)bp->data + inum % IPB;
    if(dip->type == 0){
      memset(dip, 0, sizeof(*dip));
      dip->type = type;
      log_write(bp);
      brelse(bp);
      return iget(dev, inum);
    }
    brelse(bp);
  }
  printf("ialloc: no free inodes\n");
  return 0;
}

// Write the in-memory copy of ip to its dinode. Caller holds ip->lock,
// inside a transaction; call it after every change to an inode field.
void
iupdate(struct inode *ip)
{
  struct buf *bp = bread(ip->dev, IBLOCK(ip->inum, sb));
  struct dinode *dip = (struct dinode *)bp->data + ip->inum % IPB;

  dip->type = ip->type;
  dip->major = ip->major;
  dip->minor = ip->minor;
  dip->nlink = ip->nlink;
  dip->size = ip->size;
  memmove(dip->addrs, ip->addrs, sizeof(ip->addrs));
  log_write(bp);
  brelse(bp);
}

// Take one more reference to ip; returns ip (for "x = idup(ip)").
struct inode *
idup(struct inode *ip)
{
  acquire(&itable.lock);
  ip->ref++;
  release(&itable.lock);
  return ip;
}

// Copy ip's dinode in from disk. Caller holds ip->lock.
static void
iload(struct inode *ip)
{
  struct buf *bp = bread(ip->dev, IBLOCK(ip->inum, sb));
  struct dinode *dip = (struct dinode *)bp->data + ip->inum % IPB;

  ip->type = dip->type;
  ip->major = dip->major;
  ip->minor = dip->minor;
  ip->nlink = dip->nlink;
  ip->size = dip->size;
  memmove(ip->addrs, dip->addrs, sizeof(ip->addrs));
  brelse(bp);
  ip->valid = 1;
  if(ip->type == 0)
    panic("ilock: inode %d is free on disk", ip->inum);
}

// Lock ip, reading its dinode if this is the first lock since iget.
// ip must be counted (ref > 0).
void
ilock(struct inode *ip)
{
  if(ip == 0 || ip->ref < 1)
    panic("ilock: inode not referenced");
  acquiresleep(&ip->lock);
  if(!ip->valid)
    iload(ip);
}

// Unlock ip. Caller holds ip->lock.
void
iunlock(struct inode *ip)
{
  if(ip == 0 || !holdingsleep(&ip->lock) || ip->ref < 1)
    panic("iunlock: inode not locked by this task");
  releasesleep(&ip->lock);
}

// Drop a reference to ip. If it was the last one and no directory names
// the inode any more, free its blocks and the dinode. Must be inside a
// transaction (it may write); caller must not hold ip->lock.
void
iput(struct inode *ip)
{
  acquire(&itable.lock);
  if(ip->ref == 1 && ip->valid && ip->nlink == 0){
    // Nobody else can find it: no directory names it, its dinode is in
    // use until iupdate below (so ialloc will not hand out its number)
    // and we hold the only pointer. So nobody can take ip->lock or a new
    // reference meanwhile, and itable.lock can go first: a sleep lock is
    // never taken under a spinlock (the lock checker's rule).
    release(&itable.lock);
    acquiresleep(&ip->lock);

    itrunc(ip);
    ip->type = 0;
    iupdate(ip);
    ip->valid = 0;

    releasesleep(&ip->lock);
    acquire(&itable.lock);
  }
  ip->ref--;
  release(&itable.lock);
}

// iunlock() then iput().
void
iunlockput(struct inode *ip)
{
  iunlock(ip);
  iput(ip);
}

// ---- file data ------------------------------------------------------------

// Return slot *slot's block, allocating it if it is 0 and alloc is set;
// 0 if there is none. The caller logs or updates whatever holds the slot.
static uint
slot_block(uint dev, uint *slot, int alloc, int *changed)
{
  if(*slot == 0 && alloc){
    *slot = balloc(dev);
    if(*slot != 0)
      *changed = 1;
  }
  return *slot;
}

// Return the disk block holding file block bn of ip. With alloc, missing
// blocks (and the indirect block) are allocated. Returns 0 if bn is past
// MAXFILE, the block is missing or the disk is full. Caller holds
// ip->lock, and is inside a transaction if alloc is set.
static uint
bmap(struct inode *ip, uint bn, int alloc)
{
  int changed = 0;
  uint ind, addr;
  struct buf *bp;

  if(bn < NDIRECT)
    return slot_block(ip->dev, &ip->addrs[bn], alloc, &changed);
  bn -= NDIRECT;
  if(bn >= NINDIRECT)
    return 0;

  if((ind = slot_block(ip->dev, &ip->addrs[NDIRECT], alloc, &changed)) == 0)
    return 0;
  bp = bread(ip->dev, ind);
  changed = 0;
  addr = slot_block(ip->dev, (uint *)bp->data + bn, alloc, &changed);
  if(changed)
    log_write(bp);
  brelse(bp);
  return addr;
}

// Free every data block of ip and set its size to 0. Caller holds
// ip->lock, inside a transaction.
void
itrunc(struct inode *ip)
{
  for(int i = 0; i < NDIRECT; i++){
    if(ip->addrs[i]){
      bfree(ip->dev, ip->addrs[i]);
      ip->addrs[i] = 0;
    }
  }
  if(ip->addrs[NDIRECT]){
    struct buf *bp = bread(ip->dev, ip->addrs[NDIRECT]);
    uint *a = (uint *)bp->data;
    for(int j = 0; j < NINDIRECT; j++){
      if(a[j])
        bfree(ip->dev, a[j]);
    }
    brelse(bp);
    bfree(ip->dev, ip->addrs[NDIRECT]);
    ip->addrs[NDIRECT] = 0;
  }
  ip->size = 0;
  iupdate(ip);
}

// Fill *st from ip. Caller holds ip->lock.
void
stati(struct inode *ip, struct stat *st)
{
  memset(st, 0, sizeof(*st));   // the padding goes to user space too
  st->dev = ip->dev;
  st->ino = ip->inum;
  st->type = ip->type;
  st->nlink = ip->nlink;
  st->size = ip->size;
}

// Read up to n bytes from ip at off into dst (a user address if
// user_dst, else kernel). Returns the bytes read (short at end of file),
// or -1 if the copy to dst faulted. Caller holds ip->lock.
int
readi(struct inode *ip, int user_dst, uint64 dst, uint off, uint n)
{
  uint tot, m;

  if(off > ip->size || off + n < off)
    return 0;
  if(off + n > ip->size)
    n = ip->size - off;

  for(tot = 0; tot < n; tot += m, off += m, dst += m){
    uint bno = bmap(ip, off / BSIZE, 0);
    if(bno == 0)
      break;
    struct buf *bp = bread(ip->dev, bno);
    m = min(n - tot, BSIZE - off % BSIZE);
    if(either_copyout(user_dst, dst, bp->data + off % BSIZE, m) < 0){
      brelse(bp);
      return -1;
    }
    brelse(bp);
  }
  return tot;
}

// Write n bytes from src (user address if user_src) into ip at off,
// growing the file as needed. Returns the bytes written, which is short
// if the disk filled or src faulted, or -1 if off is beyond the end of
// the file or the write would pass MAXFILE. Caller holds ip->lock,
// inside a transaction; the caller keeps n small enough for the log.
int
writei(struct inode *ip, int user_src, uint64 src, uint off, uint n)
{
  uint tot, m;

  if(off > ip->size || off + n < off)
    return -1;
  if(off + n > MAXFILE * BSIZE)
    return -1;

  for(tot = 0; tot < n; tot += m, off += m, src += m){
    uint bno = bmap(ip, off / BSIZE, 1);
    if(bno == 0)
      break;
    struct buf *bp = bread(ip->dev, bno);
    m = min(n - tot, BSIZE - off % BSIZE);
    int faulted = either_copyin(bp->data + off % BSIZE, user_src, src, m) < 0;
    // Even a copy that faulted may have changed some bytes of the buffer:
    // log it anyway, or the cache would hold data the disk never gets.
    log_write(bp);
    brelse(bp);
    if(faulted)
      break;
  }
  if(off > ip->size)
    ip->size = off;
  // bmap may have filled ip->addrs even if the size did not change.
  iupdate(ip);
  return tot;
}

// ---- directories ----------------------------------------------------------

// Compare two names of at most DIRSIZ characters.
int
namecmp(const char *s, const char *t)
{
  return strncmp(s, t, DIRSIZ);
}

// Look name up in directory dp. Returns the entry's inode, unlocked and
// counted, and its byte offset in *poff (if poff != 0); 0 if not found.
// A directory that has been removed (nlink 0, kept only by a cwd or an
// open file) has no entries: its ".." may name a directory that is freed
// by now. Caller holds dp->lock.
struct inode *
dirlookup(struct inode *dp, char *name, uint *poff)
{
  struct dirent de;

  if(dp->type != T_DIR)
    panic("dirlookup: inode %d is not a directory", dp->inum);
  if(dp->nlink == 0)
    return 0;
  for(uint off = 0; off < dp->size; off += sizeof(de)){
    if(readi(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
      panic("dirlookup: cannot read directory %d", dp->inum);
    if(de.inum == 0)
      continue;
    if(namecmp(name, de.name) == 0){
      if(poff)
        *poff = off;
      return iget(dp->dev, de.inum);
    }
  }
  return 0;
}

// Add the entry (name, inum) to directory dp, reusing a free slot if
// there is one. Returns 0, or -1 if name exists, dp has been removed or
// it cannot grow. Caller holds dp->lock, inside a transaction.
int
dirlink(struct inode *dp, char *name, uint inum)
{
  struct dirent de;
  struct inode *ip;
  uint off;

  if(dp->nlink == 0)
    return -1;
  if((ip = dirlookup(dp, name, 0)) != 0){
    iput(ip);
    return -1;
  }
  for(off = 0; off < dp->size; off += sizeof(de)){
    if(readi(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
      panic("dirlink: cannot read directory %d", dp->inum);
    if(de.inum == 0)
      break;
  }
  memset(&de, 0, sizeof(de));
  strncpy(de.name, name, DIRSIZ);
  de.inum = inum;
  if(writei(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
    return -1;
  return 0;
}

// ---- path names -----------------------------------------------------------

// Copy the first element of path into name (truncated to DIRSIZ) and
// return the rest of the path with its leading slashes skipped, or 0 if
// path has no element. "a/bb/c" -> name "a", returns "bb/c".
static char *
next_element(char *path, char *name)
{
  char *start;
  int len;

  while(*path == '/')
    path++;
  if(*path == 0)
    return 0;
  start = path;
  while(*path != '/' && *path != 0)
    path++;
  len = path - start;
  if(len >= DIRSIZ){
    memmove(name, start, DIRSIZ);
  } else {
    memmove(name, start, len);
    name[len] = 0;
  }
  while(*path == '/')
    path++;
  return path;
}

// Walk path from the root or the current directory. With want_parent,
// stop one element early: return the parent directory and leave the last
// element in name. Returns an unlocked, counted inode, or 0.
// Must be inside a transaction (iput may write).
static struct inode *
walk_path(char *path, int want_parent, char *name)
{
  struct inode *ip, *next;

  if(*path == '/')
    ip = iget(ROOTDEV, ROOTINO);
  else
    ip = idup(myproc()->cwd);
  if(ip == 0)
    return 0;

  while((path = next_element(path, name)) != 0){
    ilock(ip);
    if(ip->type != T_DIR){
      iunlockput(ip);
      return 0;
    }
    if(want_parent && *path == 0){
      iunlock(ip);
      return ip;
    }
    // Unlock ip before using next: next may be ip itself (".").
    next = dirlookup(ip, name, 0);
    iunlockput(ip);
    if(next == 0)
      return 0;
    ip = next;
  }
  if(want_parent){
    // The path had no element ("/"): it has no parent to return.
    iput(ip);
    return 0;
  }
  return ip;
}

// Return the inode named by path, unlocked and counted, or 0.
struct inode *
namei(char *path)
{
  char name[DIRSIZ];

  return walk_path(path, 0, name);
}

// Return the directory holding the last element of path, unlocked and
// counted, and copy that element into name (DIRSIZ bytes); 0 if none.
struct inode *
nameiparent(char *path, char *name)
{
  return walk_path(path, 1, name);
}
