// pipe.c: pipes. Each pipe is one kalloc() page holding a lock and a
// PIPESIZE-byte ring. nread and nwrite only grow (use them modulo
// PIPESIZE, a power of two so that the wrap of the 32-bit counters does
// not disturb it): the pipe is empty when nread == nwrite and full when
// nwrite == nread + PIPESIZE.
// pi->lock guards everything in the pipe. Readers sleep on &pi->nread,
// writers on &pi->nwrite. The page is freed when both ends are closed.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/fs.h"
#include "kernel/file.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

// The largest power of two that leaves room in the page for the header.
#define PIPESIZE 2048

struct pipe {
  struct spinlock lock;
  char data[PIPESIZE];
  uint nread;      // bytes read so far
  uint nwrite;     // bytes written so far
  int readopen;    // is the read end still open?
  int writeopen;   // is the write end still open?
};

_Static_assert(sizeof(struct pipe) <= PGSIZE, "struct pipe must fit a page");

// Make a pipe and two files for it: *f0 reads, *f1 writes.
// Returns 0, or -1 (nothing allocated) if memory or files run out.
int
pipealloc(struct file **f0, struct file **f1)
{
  struct pipe *pi;

  *f0 = *f1 = 0;
  if((pi = kalloc()) == 0)
    return -1;
  if((*f0 = filealloc()) == 0 || (*f1 = filealloc()) == 0){
    if(*f0)
      fileclose(*f0);   // type FD_NONE: just frees the slot
    kfree(pi);
    return -1;
  }
  initlock(&pi->lock, "pipe");
  pi->nread = pi->nwrite = 0;
  pi->readopen = pi->writeopen = 1;

  (*f0)->type = FD_PIPE;
  (*f0)->readable = 1;
  (*f0)->writable = 0;
  (*f0)->pipe = pi;
  (*f1)->type = FD_PIPE;
  (*f1)->readable = 0;
  (*f1)->writable = 1;
  (*f1)->pipe = pi;
  return 0;
}

// Close one end of pi (the write end if writable) and wake whoever waits
// on the other end. The last close frees the pipe.
void
pipeclose(struct pipe *pi, int writable)
{
  acquire(&pi->lock);
  if(writable){
    pi->writeopen = 0;
    wakeup(&pi->nread);     // readers now see end of file
  } else {
    pi->readopen = 0;
    wakeup(&pi->nwrite);    // writers now fail
  }
  if(pi->readopen || pi->writeopen){
    release(&pi->lock);
    return;
  }
  release(&pi->lock);
  kfree(pi);
}

// Bytes that can be copied in one piece at index 'pos' of the ring,
// given 'avail' bytes of room or data.
static uint
ring_span(uint pos, uint avail)
{
  uint to_end = PIPESIZE - pos % PIPESIZE;

  return avail < to_end ? avail : to_end;
}

// Write n bytes from user address addr into pi, sleeping while it is
// full. Returns n; the bytes written before a bad address, or -1 if
// there were none; or -1 if the read end is closed or the caller was
// killed.
int
pipewrite(struct pipe *pi, uint64 addr, int n)
{
  int done = 0;

  acquire(&pi->lock);
  while(done < n){
    if(!pi->readopen || killed(myproc())){
      release(&pi->lock);
      return -1;
    }
    uint room = PIPESIZE - (pi->nwrite - pi->nread);
    if(room == 0){
      wakeup(&pi->nread);
      sleep(&pi->nwrite, &pi->lock);
      continue;
    }
    uint m = ring_span(pi->nwrite, room);
    if(m > n - done)
      m = n - done;
    if(copyin(&pi->data[pi->nwrite % PIPESIZE], addr + done, m) < 0){
      if(done == 0)
        done = -1;
      break;
    }
    pi->nwrite += m;
    done += m;
  }
  wakeup(&pi->nread);
  release(&pi->lock);
  return done;
}

// Read up to n bytes from pi to user address addr, sleeping while it is
// empty and a writer remains. Returns the bytes read (0 at end of file),
// or -1 if the caller was killed or nothing could be copied to addr.
int
piperead(struct pipe *pi, uint64 addr, int n)
{
  int done = 0;

  acquire(&pi->lock);
  while(pi->nread == pi->nwrite && pi->writeopen){
    if(killed(myproc())){
      release(&pi->lock);
      return -1;
    }
    sleep(&pi->nread, &pi->lock);
  }
  while(done < n && pi->nread != pi->nwrite){
    uint m = ring_span(pi->nread, pi->nwrite - pi->nread);
    if(m > n - done)
      m = n - done;
    if(copyout(addr + done, &pi->data[pi->nread % PIPESIZE], m) < 0){
      if(done == 0)
        done = -1;
      break;
    }
    pi->nread += m;
    done += m;
  }
  wakeup(&pi->nwrite);
  release(&pi->lock);
  return done;
}
