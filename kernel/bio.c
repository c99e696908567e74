// bio.c: the buffer cache, NBUF in-memory copies of disk blocks.
// It keeps at most one buffer per block, so that everyone who uses a block
// sees the same data, and serialises users through each buffer's sleep
// lock. A hash table on (dev, blockno) finds a cached block in a few
// steps however large NBUF is. The buffers nobody refers to (refcnt == 0)
// sit on a list in LRU order and may be recycled for another block, least
// recently used first; buffers in use or pinned by the log are not on it,
// so recycling takes the list's tail at once.
// Locks: bcache.lock (spinlock) guards the hash chains, the LRU list,
// refcnt, dev and blockno; b->lock (sleep lock) guards valid and data.
// Order: b->lock may be taken while holding nothing else of bio;
// bcache.lock is never held while sleeping for a buffer lock.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/riscv.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/defs.h"

#define NBUCKET 257   // hash chains; prime, about NBUF / 2

static struct {
  struct spinlock lock;
  struct buf buf[NBUF];
  struct buf *bucket[NBUCKET];   // chains through hnext
  // Circular LRU list of the free buffers through prev/next: head.next
  // is the most recently released, head.prev the least recently.
  struct buf head;
} bcache;

static struct buf **
bucket_of(uint dev, uint blockno)
{
  return &bcache.bucket[(blockno * 31 + dev) % NBUCKET];
}

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

// Drop b from its hash chain, if it is on one. Caller holds bcache.lock.
static void
hash_remove(struct buf *b)
{
  if(!b->hashed)
    return;
  for(struct buf **pp = bucket_of(b->dev, b->blockno); *pp; pp = &(*pp)->hnext){
    if(*pp == b){
      *pp = b->hnext;
      b->hashed = 0;
      return;
    }
  }
  panic("bio: buffer %d missing from its hash chain", b->blockno);
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
  struct buf **chain = bucket_of(dev, blockno);

  acquire(&bcache.lock);
  for(b = *chain; b; b = b->hnext){
    if(b->dev == dev && b->blockno == blockno){
      if(b->refcnt++ == 0)
        lru_unlink(b);
      release(&bcache.lock);
      acquiresleep(&b->lock);
      return b;
    }
  }
  b = bcache.head.prev;
  if(b == &bcache.head)
    panic("bget: all %d buffers in use", NBUF);
  lru_unlink(b);
  hash_remove(b);
  b->dev = dev;
  b->blockno = blockno;
  b->valid = 0;
  b->refcnt = 1;
  b->hnext = *chain;
  *chain = b;
  b->hashed = 1;
  release(&bcache.lock);
  acquiresleep(&b->lock);
  return b;
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
  if(--b->refcnt == 0)
    lru_push_front(b);
  release(&bcache.lock);
}

// Keep b in the cache (the log holds it until it is installed). The
// caller holds a reference, so b is not on the LRU list.
void
bpin(struct buf *b)
{
  acquire(&bcache.lock);
  if(b->refcnt == 0)
    panic("bpin: buffer %d not held", b->blockno);
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
  if(--b->refcnt == 0)
    lru_push_front(b);
  release(&bcache.lock);
}
