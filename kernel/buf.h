// buf.h: one disk block held in memory by the buffer cache (bio.c).
// bcache.lock guards refcnt, the hash and LRU links; b->lock (a sleep lock)
// guards valid and data, and is held by whoever bread() the block.
// The disk driver owns 'disk' while a request is in flight.
#ifndef CANOPY_BUF_H
#define CANOPY_BUF_H

struct buf {
  int valid;              // data holds the block's contents
  int disk;               // set while the disk works on it; cleared when done
  uint dev;
  uint blockno;
  struct sleeplock lock;
  uint refcnt;            // users (bread and bpin) still holding it
  int hashed;             // on the hash chain of (dev, blockno)
  struct buf *hnext;      // next on that hash chain
  struct buf *prev;       // LRU list of free buffers (refcnt == 0):
  struct buf *next;       //   head.next is the most recently released
  uchar data[BSIZE];
};

#endif
