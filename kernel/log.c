// log.c: the write-ahead log that makes file system operations atomic
// across crashes. A system call brackets its updates with begin_op() and
// end_op() and writes blocks with log_write() instead of bwrite(); those
// blocks stay pinned in the buffer cache until they are installed.
//
// On disk, from sb.logstart: a header block (count n and the home block
// number of each slot), then the slots. Slot i (block logstart+1+i) holds
// a copy of block lh.block[i]; one home may appear in several slots, and
// the later slot is the newer copy. Recovery (initlog) copies slots 0..n-1
// to their homes in that order, so the newest copy wins, then writes a
// header with n = 0.
//
// Commit, by the last end_op() of a group of operations: (1) write the
// group's new slots from the cached buffers, as one batch of disk
// requests, and wait for all of them; (2) write the header naming every
// slot, old and new, and wait. That header write is the commit point:
// when end_op() returns the operations are durable (no delayed commit).
// Slots written in (1) are past the old header's n, so a crash before (2)
// leaves the previous committed state; nothing committed is overwritten.
//
// Install (checkpoint) is lazy: committed slots stay in the log, and their
// buffers stay pinned and hold the newest data, so reads see it. Only
// when the log is nearly full after a commit (fewer than CKPT_FREE slots
// free), when begin_op() finds no room, or at log_sync() (poweroff), the
// newest copy of each logged block is written to its home as one batch,
// then the header is cleared. A block logged again while an older slot
// holds it takes a new slot (the old one is "dead": never installed), so
// repeated writes of a block cost one install per checkpoint.
//
// Group commit: several operations may be open at once; the last end_op()
// commits all of them. begin_op() waits while a commit or checkpoint runs
// or while the open operations could, at MAXOPBLOCKS each, overflow the log.
//
// Locks: log.lock (spinlock) guards the fields of 'log'; it is never held
// across disk I/O or while taking a sleep lock. Order: log.lock, then
// bcache.lock (log_write pins a buffer). Only the task that set
// log.committing touches the log on disk, the slot buffers' data or
// log.lh past ncommitted; it does so with no operation open, so the cache
// then holds exactly the committed state. It takes the sleep locks of the
// buffers it writes (several at once; no one holding a buffer lock waits
// for the log), then disk.lock inside the driver.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/riscv.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// Checkpoint after a commit that leaves fewer free slots than this: room
// for a few more operations before anyone must wait for an install.
#define CKPT_FREE (3 * MAXOPBLOCKS)

// The header block, on disk and in memory.
struct logheader {
  int n;                     // slots in use
  int block[LOGBLOCKS];      // home block number of each slot
};

static struct {
  struct spinlock lock;
  int dev;
  int start;                 // block number of the header
  int size;                  // blocks in the log area, header included
  int outstanding;           // operations between begin_op and end_op
  int committing;            // a commit or checkpoint is in progress: wait
  int ncommitted;            // slots [0, ncommitted) are committed on disk
  struct logheader lh;       // lh.n: committed slots + the open group's
  struct buf *slot[LOGBLOCKS]; // the cached buffer of each slot (pinned)
  char dead[LOGBLOCKS];      // a later slot holds a newer copy of the block
  // Scratch for one batch of writes; only the committer uses it.
  struct buf *batch[LOGBLOCKS];
  uint batchto[LOGBLOCKS];
} log;

// Read the on-disk header into log.lh.
static void
log_read_header(void)
{
  struct buf *b = bread(log.dev, log.start);

  memmove(&log.lh, b->data, sizeof(log.lh));
  brelse(b);
  if(log.lh.n < 0 || log.lh.n > LOGBLOCKS || log.lh.n > log.size - 1)
    panic("log: header claims %d blocks", log.lh.n);
}

// Write a header naming slots [0, n) to disk and wait. With n > 0 this
// commits them; with n == 0 it empties the log.
static void
log_write_header(int n)
{
  struct buf *b = bread(log.dev, log.start);   // pinned: no disk read
  struct logheader *h = (struct logheader *)b->data;

  h->n = n;
  for(int i = 0; i < n; i++)
    h->block[i] = log.lh.block[i];
  bwrite(b);
  brelse(b);
}

// Write the n buffers of log.batch to log.batchto as one batch, holding
// their locks (the data must not change while the disk reads it).
static void
log_write_batch(int n)
{
  for(int i = 0; i < n; i++)
    acquiresleep(&log.batch[i]->lock);
  bwrite_batch(log.batch, log.batchto, n);
  for(int i = 0; i < n; i++)
    releasesleep(&log.batch[i]->lock);
}

// Install the newest copy of every logged block at its home, then empty
// the log and unpin the buffers. Caller set log.committing and no
// operation is open, so every slot is committed.
static void
log_checkpoint(void)
{
  int k = 0;

  if(log.ncommitted != log.lh.n)
    panic("log_checkpoint: %d slots not committed", log.lh.n - log.ncommitted);
  if(log.lh.n == 0)
    return;
  for(int i = 0; i < log.lh.n; i++){
    if(log.dead[i])
      continue;
    log.batch[k] = log.slot[i];
    log.batchto[k++] = log.lh.block[i];
  }
  log_write_batch(k);
  log_write_header(0);    // everything is home: forget the log
  for(int i = 0; i < log.lh.n; i++){
    bunpin(log.slot[i]);
    log.slot[i] = 0;
    log.dead[i] = 0;
  }
  log.lh.n = log.ncommitted = 0;
}

// Replay a committed log left by a crash, in slot order so that the
// newest copy of a block is written last, then empty the log.
static void
log_recover(void)
{
  log_read_header();
  if(log.lh.n > 0)
    printf("log: recovering %d blocks\n", log.lh.n);
  for(int i = 0; i < log.lh.n; i++){
    struct buf *from = bread(log.dev, log.start + 1 + i);
    struct buf *to = bblank(log.dev, log.lh.block[i]);
    memmove(to->data, from->data, BSIZE);
    bwrite(to);
    brelse(from);
    brelse(to);
  }
  log.lh.n = 0;
  log_write_header(0);
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
  struct buf *h = bread(dev, log.start);   // keep the header cached
  bpin(h);
  brelse(h);
}

// Commit the open group: its slots as one batch, then the header (the
// commit point). Then install if the log is nearly full. Called with no
// locks held and log.committing set.
static void
log_commit(void)
{
  int k = 0;

  for(int i = log.ncommitted; i < log.lh.n; i++){
    log.batch[k] = log.slot[i];
    log.batchto[k++] = log.start + 1 + i;
  }
  if(k == 0)
    return;
  log_write_batch(k);
  log_write_header(log.lh.n);   // the commit point
  log.ncommitted = log.lh.n;
  if(LOGBLOCKS - log.lh.n < CKPT_FREE)
    log_checkpoint();
}

// Run fn (log_commit or log_checkpoint) as the committer: log.committing
// set, log.lock not held. Caller holds log.lock; it is held again after.
static void
log_as_committer(void (*fn)(void))
{
  log.committing = 1;
  release(&log.lock);
  fn();
  acquire(&log.lock);
  log.committing = 0;
  wakeup(&log);
}

// Start a file system operation: wait until the log surely has room for
// MAXOPBLOCKS more blocks and no commit is running. If the room is taken
// by committed slots and no operation is open, install them now.
void
begin_op(void)
{
  acquire(&log.lock);
  for(;;){
    if(log.committing){
      sleep(&log, &log.lock);
    } else if(log.lh.n + (log.outstanding + 1) * MAXOPBLOCKS > LOGBLOCKS){
      if(log.outstanding == 0)
        log_as_committer(log_checkpoint);
      else
        sleep(&log, &log.lock);
    } else {
      log.outstanding++;
      break;
    }
  }
  release(&log.lock);
}

// End a file system operation; the last one out commits, so when it
// returns its operations are on disk.
void
end_op(void)
{
  acquire(&log.lock);
  if(log.committing)
    panic("end_op: a commit is already running");
  log.outstanding--;
  if(log.outstanding == 0)
    log_as_committer(log_commit);
  else
    wakeup(&log);   // our reservation is free again: begin_op() may fit
  release(&log.lock);
}

// Install everything committed and empty the log (before a poweroff, so
// that the image needs no recovery). Waits for open operations to end.
void
log_sync(void)
{
  acquire(&log.lock);
  while(log.committing || log.outstanding > 0)
    sleep(&log, &log.lock);
  log_as_committer(log_checkpoint);
  release(&log.lock);
}

// Record that b was modified by the current operation: it will be written
// at commit time. A block already in the open group's slots keeps its
// slot (absorption); one only in committed slots gets a new slot, and the
// old one becomes dead. Caller holds b->lock, inside begin_op/end_op.
void
log_write(struct buf *b)
{
  int i, old = -1;

  acquire(&log.lock);
  if(log.outstanding < 1)
    panic("log_write: outside of a transaction");
  for(i = 0; i < log.lh.n; i++){
    if(log.lh.block[i] != b->blockno)
      continue;
    if(i >= log.ncommitted)
      break;             // absorbed into the open group's slot
    if(!log.dead[i])
      old = i;
  }
  if(i == log.lh.n){
    if(log.lh.n >= LOGBLOCKS || log.lh.n >= log.size - 1)
      panic("log_write: transaction too big");
    if(old >= 0)
      log.dead[old] = 1;
    log.lh.block[i] = b->blockno;
    log.slot[i] = b;
    log.lh.n++;
    bpin(b);
  }
  release(&log.lock);
}
