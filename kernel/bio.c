// bio.c: the buffer cache, NBUF in-memory copies of disk blocks.
// It keeps at most one buffer per block, so that everyone who uses a block
// sees the same data, and serialises users through each buffer's sleep
// lock. Buffers sit on a list in LRU order; a buffer nobody refers to
// (refcnt == 0) may be recycled for another block, least recently used
// first.
// Locks: bcache.lock (spinlock) guards the list, refcnt, dev and blockno;
// b->lock (sleep lock) guards valid and data. Order: b->lock may be taken
// while holding nothing else of bio; bcache.lock is never held while
// sleeping for a buffer lock.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/riscv.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/defs.h"

static struct {
  struct spinlock lock;
  struct buf buf[NBUF];
  // Circular LRU list through prev/next: head.next is the most recently
  // released buffer, head.prev the least recently released one.
  struct buf head;
} bcache;

// Unlink b from the LRU list. Caller holds bcache.lock.
static void
lru_unlink(struct buf *b)
{
  b->next->prev = b->prev;
  b->prev->next = b->next;
}

// Put b at the most-recently-used end. Caller holds bcache.lock.
static void
lru_push_front(struct buf *b)
{
  b->next = bcache.head.next;
  b->prev = &bcache.head;
  bcache.head.next->prev = b;
  bcache.head.next = b;
}

// Set up the cache. Called once at boot.
void
binit(void)
{
  initlock(&bcache.lock, "bcache");
  bcache.head.next = &bcache.head;
  bcache.head.prev = &bcache.head;
  for(struct buf *b = bcache.buf; b < bcache.buf + NBUF; b++){
    initsleeplock(&b->lock, "buffer");
    lru_push_front(b);
  }
}

// Find the buffer caching (dev, blockno), or recycle the least recently
// used free buffer for it. Returns it locked, with refcnt counted.
// Panics if every buffer is in use (the log bounds how many an operation
// needs, so this means a leak).
static struct buf *
bget(uint dev, uint blockno)
{
  struct buf *b;

  acquire(&bcache.lock);
  for(b = bcache.head.next; b != &bcache.head; b = b->next){
    if(b->dev == dev && b->blockno == blockno){
      b->refcnt++;
      release(&bcache.lock);
      acquiresleep(&b->lock);
      return b;
    }
  }
  for(b = bcache.head.prev; b != &bcache.head; b = b->prev){
    if(b->refcnt == 0){
      b->dev = dev;
      b->blockno = blockno;
      b->valid = 0;
      b->refcnt = 1;
      release(&bcache.lock);
      acquiresleep(&b->lock);
      return b;
    }
  }
  panic("bget: all %d buffers in use", NBUF);
}

// Return a locked buffer holding the contents of block blockno of dev.
struct buf *
bread(uint dev, uint blockno)
{
  struct buf *b = bget(dev, blockno);

  if(!b->valid){
    virtio_disk_rw(b, 0);
    b->valid = 1;
  }
  return b;
}

// A locked buffer for block blockno of dev that the caller will overwrite
// completely: like bread, but never reads the disk (a block just
// allocated, or a home the log is about to fill).
struct buf *
bblank(uint dev, uint blockno)
{
  struct buf *b = bget(dev, blockno);

  b->valid = 1;
  return b;
}

// Write bufs[i]->data to block to[i] for i < n, all in one batch of disk
// requests; returns when every one is on the disk. Caller holds each
// buffer's lock; the buffers are distinct.
void
bwrite_batch(struct buf **bufs, uint *to, int n)
{
  for(int i = 0; i < n; i++)
    if(!holdingsleep(&bufs[i]->lock))
      panic("bwrite_batch: buffer %d not locked", bufs[i]->blockno);
  if(n > 0)
    virtio_disk_write_batch(bufs, to, n);
}

// Write b's contents to disk now. Caller holds b->lock.
void
bwrite(struct buf *b)
{
  if(!holdingsleep(&b->lock))
    panic("bwrite: buffer %d not locked", b->blockno);
  virtio_disk_rw(b, 1);
}

// Unlock b and drop the caller's reference. When nobody refers to it any
// more it becomes the most recently used candidate for recycling.
void
brelse(struct buf *b)
{
  if(!holdingsleep(&b->lock))
    panic("brelse: buffer %d not locked", b->blockno);
  releasesleep(&b->lock);

  acquire(&bcache.lock);
  b->refcnt--;
  if(b->refcnt == 0){
    lru_unlink(b);
    lru_push_front(b);
  }
  release(&bcache.lock);
}

// Keep b in the cache (the log holds it until it is installed).
void
bpin(struct buf *b)
{
  acquire(&bcache.lock);
  b->refcnt++;
  release(&bcache.lock);
}

// Undo one bpin().
void
bunpin(struct buf *b)
{
  acquire(&bcache.lock);
  if(b->refcnt == 0)
    panic("bunpin: buffer %d not pinned", b->blockno);
  b->refcnt--;
  release(&bcache.lock);
}
