// file.c: the system-wide table of open files (NFILE struct file) and
// the read/write/stat operations that dispatch on a file's type: pipe,
// inode or device (through devsw).
// ftable.lock guards every f->ref and the allocation of slots; the other
// fields of a file are set before it is shared and read-only after,
// except f->off, which is guarded by f->ip->lock.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/fs.h"
#include "kernel/stat.h"
#include "kernel/file.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// Read and write routines of each major device number (console.c fills
// devsw[CONSOLE]).
struct devsw devsw[NDEV];

static struct {
  struct spinlock lock;
  struct file file[NFILE];
} ftable;

// Set up the file table. Called once at boot.
void
fileinit(void)
{
  initlock(&ftable.lock, "ftable");
}

// Allocate a file with ref 1 and type FD_NONE; 0 if the table is full.
struct file *
filealloc(void)
{
  acquire(&ftable.lock);
  for(struct file *f = ftable.file; f < ftable.file + NFILE; f++){
    if(f->ref == 0){
      f->ref = 1;
      release(&ftable.lock);
      return f;
    }
  }
  release(&ftable.lock);
  return 0;
}

// How many slots of the open-file table are in use?
int
file_nr_open(void)
{
  int n = 0;
  acquire(&ftable.lock);
  for(struct file *f = ftable.file; f < ftable.file + NFILE; f++)
    n += f->ref > 0;
  release(&ftable.lock);
  return n;
}

// Take one more reference to f; returns f.
struct file *
filedup(struct file *f)
{
  acquire(&ftable.lock);
  if(f->ref < 1)
    panic("filedup: file not open");
  f->ref++;
  release(&ftable.lock);
  return f;
}

// Drop a reference to f; the last one closes the pipe end or inode.
void
fileclose(struct file *f)
{
  struct file old;

  acquire(&ftable.lock);
  if(f->ref < 1)
    panic("fileclose: file not open");
  if(--f->ref > 0){
    release(&ftable.lock);
    return;
  }
  old = *f;
  f->type = FD_NONE;
  f->pipe = 0;
  f->ip = 0;
  release(&ftable.lock);

  if(old.type == FD_PIPE){
    pipeclose(old.pipe, old.writable);
  } else if(old.type == FD_INODE || old.type == FD_DEVICE){
    begin_op();
    iput(old.ip);
    end_op();
  }
}

// Copy f's metadata to the struct stat at user address addr.
// Returns 0, or -1 for a pipe or a bad address.
int
filestat(struct file *f, uint64 addr)
{
  struct stat st;

  if(f->type != FD_INODE && f->type != FD_DEVICE)
    return -1;
  ilock(f->ip);
  stati(f->ip, &st);
  iunlock(f->ip);
  if(copyout(addr, &st, sizeof(st)) < 0)
    return -1;
  return 0;
}

// Return f's device switch entry, or 0 if its major number has none.
static struct devsw *
file_dev(struct file *f)
{
  if(f->major < 0 || f->major >= NDEV)
    return 0;
  return &devsw[f->major];
}

// Read up to n bytes from f into user address addr. Returns the number
// read (0 at end of file), or -1.
int
fileread(struct file *f, uint64 addr, int n)
{
  struct devsw *d;
  int r;

  if(!f->readable || n < 0)
    return -1;
  switch(f->type){
  case FD_PIPE:
    return piperead(f->pipe, addr, n);
  case FD_DEVICE:
    if((d = file_dev(f)) == 0 || d->read == 0)
      return -1;
    return d->read(1, addr, n);
  case FD_INODE:
    ilock(f->ip);
    if((r = readi(f->ip, 1, addr, f->off, n)) > 0)
      f->off += r;
    iunlock(f->ip);
    return r;
  default:
    panic("fileread: bad file type %d", f->type);
  }
}

// The most bytes one transaction may write to an inode. A write of k
// blocks' worth of bytes at an unaligned offset logs at most k+1 data
// blocks; the blocks that map them: three at most while k+1 <= NINDIRECT
// (crossing from the single indirect range into the double one takes the
// single indirect, the double indirect and its first indirect block;
// crossing between two indirect blocks of the double indirect range takes
// those two and the double indirect); the inode's block; and two bitmap
// blocks (if the allocations straddle a bitmap block boundary): k + 7
// blocks, which must not exceed MAXOPBLOCKS.
#define MAXWRITE ((MAXOPBLOCKS - 7) * BSIZE)
_Static_assert(MAXWRITE / BSIZE + 1 <= NINDIRECT, "MAXWRITE spans too many indirect blocks");

// Write n bytes from user address addr to the inode of f at f->off,
// in chunks that each fit in one transaction. Returns n, or -1 if any
// chunk came up short.
static int
inode_write(struct file *f, uint64 addr, int n)
{
  int done = 0;

  while(done < n){
    int chunk = n - done;
    if(chunk > MAXWRITE)
      chunk = MAXWRITE;

    begin_op();
    ilock(f->ip);
    int r = writei(f->ip, 1, addr + done, f->off, chunk);
    if(r > 0)
      f->off += r;
    iunlock(f->ip);
    end_op();

    if(r != chunk)
      return -1;
    done += r;
  }
  return n;
}

// Write n bytes from user address addr to f. Returns the number written
// or -1.
int
filewrite(struct file *f, uint64 addr, int n)
{
  struct devsw *d;

  if(!f->writable || n < 0)
    return -1;
  switch(f->type){
  case FD_PIPE:
    return pipewrite(f->pipe, addr, n);
  case FD_DEVICE:
    if((d = file_dev(f)) == 0 || d->write == 0)
      return -1;
    return d->write(1, addr, n);
  case FD_INODE:
    return inode_write(f, addr, n);
  default:
    panic("filewrite: bad file type %d", f->type);
  }
}
