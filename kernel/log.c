// log.c: the write-ahead log that makes file system operations atomic
// across crashes. A system call brackets its updates with begin_op() and
// end_op() and writes blocks with log_write() instead of bwrite(); those
// blocks stay pinned in the buffer cache until the commit.
//
// On disk, from sb.logstart: a header block (count n and the home block
// numbers), then n logged copies. Commit: copy the modified blocks into
// the log, write the header (this single write is the commit point),
// copy the blocks to their homes, then write a header with n = 0. After a
// crash, initlog() replays whatever committed header it finds.
//
// Group commit: several operations may be open at once; the last end_op()
// commits all of them. begin_op() waits while a commit runs or while the
// open operations could, at MAXOPBLOCKS each, overflow the log.
//
// Locks: log.lock (spinlock) guards the fields of 'log'; it is never held
// across disk I/O or while taking a sleep lock. Order: log.lock, then
// bcache.lock (log_write pins a buffer). Only the committing task, with
// log.committing set, touches the log blocks on disk.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/riscv.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// The header block, on disk and in memory.
struct logheader {
  int n;                     // blocks in the log
  int block[LOGBLOCKS];      // home block number of each
};

static struct {
  struct spinlock lock;
  int dev;
  int start;                 // block number of the header
  int size;                  // blocks in the log area, header included
  int outstanding;           // operations between begin_op and end_op
  int committing;            // a commit is in progress: wait
  struct logheader lh;
} log;

// Read the on-disk header into log.lh.
static void
log_read_header(void)
{
  struct buf *b = bread(log.dev, log.start);

  memmove(&log.lh, b->data, sizeof(log.lh));
  brelse(b);
  if(log.lh.n < 0 || log.lh.n > LOGBLOCKS)
    panic("log: header claims %d blocks", log.lh.n);
}

// Write log.lh to the on-disk header. With n > 0 this commits.
static void
log_write_header(void)
{
  struct buf *b = bread(log.dev, log.start);

  memmove(b->data, &log.lh, sizeof(log.lh));
  bwrite(b);
  brelse(b);
}

// Copy the cached modified blocks into the log area.
static void
log_copy_to_log(void)
{
  for(int i = 0; i < log.lh.n; i++){
    struct buf *to = bread(log.dev, log.start + 1 + i);
    struct buf *from = bread(log.dev, log.lh.block[i]);
    memmove(to->data, from->data, BSIZE);
    bwrite(to);
    brelse(from);
    brelse(to);
  }
}

// Copy each logged block to its home location. After a commit the
// blocks are pinned in the cache (unpin them); during recovery they are
// not (recovering != 0).
static void
log_install(int recovering)
{
  for(int i = 0; i < log.lh.n; i++){
    struct buf *from = bread(log.dev, log.start + 1 + i);
    struct buf *to = bread(log.dev, log.lh.block[i]);
    memmove(to->data, from->data, BSIZE);
    bwrite(to);
    if(!recovering)
      bunpin(to);
    brelse(from);
    brelse(to);
  }
}

// Replay a committed log left by a crash, then empty the log.
static void
log_recover(void)
{
  log_read_header();
  if(log.lh.n > 0)
    printf("log: recovering %d blocks\n", log.lh.n);
  log_install(1);
  log.lh.n = 0;
  log_write_header();
}

// Set up the log of dev from its superblock and recover it.
void
initlog(int dev, struct superblock *sb)
{
  if(sizeof(struct logheader) > BSIZE)
    panic("initlog: log header does not fit in a block");
  if(sb->nlog < LOGBLOCKS + 1)
    panic("initlog: log of %d blocks is smaller than LOGBLOCKS+1", sb->nlog);
  initlock(&log.lock, "log");
  log.dev = dev;
  log.start = sb->logstart;
  log.size = sb->nlog;
  log_recover();
}

// Write the transaction out and install it. Called with no locks held
// and log.committing set, so nobody else touches log.lh.
static void
log_commit(void)
{
  if(log.lh.n == 0)
    return;
  log_copy_to_log();
  log_write_header();     // the commit point
  log_install(0);
  log.lh.n = 0;
  log_write_header();     // the transaction is done: forget it
}

// Start a file system operation: wait until the log surely has room for
// MAXOPBLOCKS more blocks and no commit is running.
void
begin_op(void)
{
  acquire(&log.lock);
  for(;;){
    if(log.committing){
      sleep(&log, &log.lock);
    } else if(log.lh.n + (log.outstanding + 1) * MAXOPBLOCKS > LOGBLOCKS){
      sleep(&log, &log.lock);
    } else {
      log.outstanding++;
      break;
    }
  }
  release(&log.lock);
}

// End a file system operation; the last one out commits.
void
end_op(void)
{
  int do_commit = 0;

  acquire(&log.lock);
  if(log.committing)
    panic("end_op: a commit is already running");
  log.outstanding--;
  if(log.outstanding == 0){
    do_commit = 1;
    log.committing = 1;
  } else {
    // Our reservation is free again: begin_op() may now fit.
    wakeup(&log);
  }
  release(&log.lock);

  if(do_commit){
    log_commit();
    acquire(&log.lock);
    log.committing = 0;
    wakeup(&log);
    release(&log.lock);
  }
}

// Record that b was modified by the current operation: it will be written
// at commit time. A block written twice in one transaction takes one log
// slot (absorption). Caller holds b->lock, inside begin_op/end_op.
void
log_write(struct buf *b)
{
  int i;

  acquire(&log.lock);
  if(log.outstanding < 1)
    panic("log_write: outside of a transaction");
  for(i = 0; i < log.lh.n; i++){
    if(log.lh.block[i] == b->blockno)
      break;
  }
  if(i == log.lh.n){
    if(log.lh.n >= LOGBLOCKS || log.lh.n >= log.size - 1)
      panic("log_write: transaction too big");
    log.lh.block[i] = b->blockno;
    log.lh.n++;
    bpin(b);
  }
  release(&log.lock);
}
