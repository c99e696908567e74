// buf.h: one disk block held in memory by the buffer cache (bio.c).
// bcache.lock guards refcnt and the LRU links; b->lock (a sleep lock)
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
  struct buf *prev;       // LRU list: head.next is the most recently used
  struct buf *next;
  uchar data[BSIZE];
};

#endif
