// log.c: the write-ahead log that makes file system operations atomic
// across crashes. A system call brackets its updates with begin_op() and
// end_op() and writes blocks with log_write() instead of bwrite(); those
// blocks stay pinned in the buffer cache until they are installed.
//
// On disk, from sb.logstart: a header block (count n, the count nprev
// before the last commit, that commit's checksum, and the home block
// number of each slot), then the slots. Slot i (block logstart+1+i) holds
// a copy of block lh.block[i]; one home may appear in several slots, and
// the later slot is the newer copy. Recovery (initlog) copies slots 0..n-1
// to their homes in that order, so the newest copy wins, then writes a
// header with n = 0; if the checksum of the last commit's slots [nprev, n)
// does not match, only slots 0..nprev-1 are replayed.
//
// Commit, by the last end_op() of a group of operations: write the
// group's new slots from the cached buffers and the new header as one
// batch of disk requests, and wait once for all of them. The end of that
// wait is the commit point: when end_op() returns the operations are
// durable (no delayed commit). A power cut during the batch may leave any
// subset of it on the disk: without the new header, the old header names
// only older, complete slots (the new slots are past its n, so nothing
// committed is overwritten); with it, the checksum over the new slots
// (and the header's own fields for them) fails unless all arrived. A
// header torn between its two sectors is old or new in the first one;
// either way it names the same slots before nprev, and the fields the
// checksum covers are consistent with the sector holding n and nprev.
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
// commits all of them, and the others sleep in end_op() until it has. begin_op() waits while a commit or checkpoint runs
// or while the open operations could, at MAXOPBLOCKS each, overflow the log.
//
// Crash test: crashafter= cuts the power after a prefix of the disk
// writes in queue order, so the commit queues the header first, to make
// "header without all its slots" a state the test reaches.
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

// The header block, on disk and in memory. The slots [nprev, n) are the
// last commit's; sum covers n, nprev, their home numbers and their data,
// so recovery can tell whether that commit's batch reached the disk.
struct logheader {
  int n;                     // slots in use
  int nprev;                 // slots committed before the last commit
  uint sum;                  // log_sum() of the last commit
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
  uint64 group;              // number of the group that begin_op() joins
  uint64 durable;            // groups below this number are committed
  struct logheader lh;       // lh.n: committed slots + the open group's
  struct buf *slot[LOGBLOCKS]; // the cached buffer of each slot (pinned)
  char dead[LOGBLOCKS];      // a later slot holds a newer copy of the block
  // Scratch for one batch of writes; only the committer uses it.
  struct buf *batch[LOGBLOCKS + 1];    // + the header
  uint batchto[LOGBLOCKS + 1];
} log;

// Read the on-disk header into log.lh.
static void
log_read_header(void)
{
  struct buf *b = bread(log.dev, log.start);

  memmove(&log.lh, b->data, sizeof(log.lh));
  brelse(b);
  if(log.lh.n < 0 || log.lh.n > LOGBLOCKS || log.lh.n > log.size - 1 ||
     log.lh.nprev < 0 || log.lh.nprev > log.lh.n)
    panic("log: header claims %d blocks, %d before the last commit",
          log.lh.n, log.lh.nprev);
}

// Mix one 32-bit word into a running FNV-1a style hash.
static uint
sum_word(uint h, uint w)
{
  return (h ^ w) * 16777619u;
}

// The checksum of a commit of slots [nprev, n) of header h, whose data
// are data[0 .. n-nprev). A 32-bit hash: a stale slot passes by chance
// with probability about 2^-32.
static uint
log_sum(struct logheader *h, uchar **data)
{
  uint s = sum_word(sum_word(2166136261u, h->n), h->nprev);

  for(int i = h->nprev; i < h->n; i++){
    uint *w = (uint *)data[i - h->nprev];
    s = sum_word(s, h->block[i]);
    for(int j = 0; j < BSIZE / 4; j++)
      s = sum_word(s, w[j]);
  }
  return s;
}

// Fill the locked header buffer b: slots [0, n) committed, of which
// [nprev, n) by this commit; data[] holds those slots' contents.
static void
log_fill_header(struct buf *b, int n, int nprev, uchar **data)
{
  struct logheader *h = (struct logheader *)b->data;

  h->n = n;
  h->nprev = nprev;
  for(int i = 0; i < n; i++)
    h->block[i] = log.lh.block[i];
  h->sum = n > nprev ? log_sum(h, data) : 0;
}

// Write an empty header to disk and wait: the log holds nothing.
static void
log_clear_header(void)
{
  struct buf *b = bread(log.dev, log.start);   // pinned: no disk read

  log_fill_header(b, 0, 0, 0);
  bwrite(b);
  brelse(b);
}

// Write the n buffers of log.batch to log.batchto as one batch, holding
// their locks (the data must not change while the disk reads it); the
// caller already holds the locks of the first 'locked' of them.
static void
log_write_batch(int n, int locked)
{
  for(int i = locked; i < n; i++)
    acquiresleep(&log.batch[i]->lock);
  bwrite_batch(log.batch, log.batchto, n);
  for(int i = locked; i < n; i++)
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
  log_write_batch(k, 0);
  log_clear_header();     // everything is home: forget the log
  for(int i = 0; i < log.lh.n; i++){
    bunpin(log.slot[i]);
    log.slot[i] = 0;
    log.dead[i] = 0;
  }
  log.lh.n = log.ncommitted = 0;
}

// Does the disk hold all of the last commit's slots, as the header's
// checksum says? If not, the power failed during that commit's batch.
static int
log_last_commit_whole(void)
{
  static uchar *data[LOGBLOCKS];     // static: too big for the stack
  static struct buf *b[LOGBLOCKS];
  int k = log.lh.n - log.lh.nprev;

  for(int i = 0; i < k; i++){
    b[i] = bread(log.dev, log.start + 1 + log.lh.nprev + i);
    data[i] = b[i]->data;
  }
  int ok = log_sum(&log.lh, data) == log.lh.sum;
  for(int i = 0; i < k; i++)
    brelse(b[i]);
  return ok;
}

// Replay a committed log left by a crash, in slot order so that the
// newest copy of a block is written last, then empty the log. The last
// commit counts only if its checksum matches; the ones before it had
// finished (their end_op returned) before it began.
static void
log_recover(void)
{
  log_read_header();
  if(log.lh.n > 0 && !log_last_commit_whole()){
    printf("log: last commit (%d blocks) incomplete, dropped\n",
           log.lh.n - log.lh.nprev);
    log.lh.n = log.lh.nprev;
  }
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
  log_clear_header();
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

// Commit the open group: its slots and the header naming them (with
// their checksum) as one batch, and one wait. The batch's end is the
// commit point; the header goes first, so that a power cut part way
// (crashafter=) leaves a new header over missing slots, which recovery
// must detect. Then install if the log is nearly full. Called with no
// locks held and log.committing set.
static void
log_commit(void)
{
  static uchar *data[LOGBLOCKS];
  int k = 1;

  if(log.lh.n == log.ncommitted)
    return;
  for(int i = log.ncommitted; i < log.lh.n; i++){
    log.batch[k] = log.slot[i];
    data[k - 1] = log.slot[i]->data;   // no writer while committing
    log.batchto[k++] = log.start + 1 + i;
  }
  log.batch[0] = bread(log.dev, log.start);   // pinned: no disk read
  log.batchto[0] = log.start;
  log_fill_header(log.batch[0], log.lh.n, log.ncommitted, data);
  log_write_batch(k, 1);
  brelse(log.batch[0]);
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

// End a file system operation. The last one of the group commits it;
// the others wait for that commit. So end_op() returns only when the
// operation is on disk, for every caller (a write() that returned
// survives a crash), not only for the committer.
void
end_op(void)
{
  acquire(&log.lock);
  if(log.committing)
    panic("end_op: a commit is already running");
  uint64 g = log.group;
  log.outstanding--;
  if(log.outstanding == 0){
    log_as_committer(log_commit);
    log.durable = g + 1;   // under log.lock, before anyone woken runs
    log.group = g + 1;
  } else {
    wakeup(&log);   // our reservation is free again: begin_op() may fit
    while(log.durable <= g)
      sleep(&log, &log.lock);
  }
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
