// virtio_blk.c: driver for the virtio block device at VIRTIO0 (modern
// virtio-mmio, version 2), one request queue of VIRTQ_SIZE descriptors.
// Each request is a chain of three descriptors: header, data, status.
// Every address given to the device is physical (__pa of a direct-map
// address): the queue is a kalloc() page, headers and status bytes are
// static, buffers live in the static bcache. Never vmalloc memory.
// Locking: disk.lock guards all of the state below; a requester sleeps on
// its buf (with disk.lock) until virtio_disk_intr() clears b->disk.
//
// Several requests may be in flight (virtio_disk_write_batch); the
// interrupt handler frees each finished request's descriptors.
//
// Power-cut hook for the crash-consistency test (tests/crashtest.py): boot
// with -append "crashafter=J" and the J+1-th block write since boot is
// never given to the device; the machine lets the device finish what it
// was given and powers off instead, so the disk holds exactly the first J
// writes, as after a power failure. Writes are numbered in the order
// they are queued; within one batch the log never depends on that order
// (nothing of a batch is relied on before the whole batch is done), so a
// prefix of a batch is one of the states a real power cut could leave.
// Unset (the default), the hook costs one compare.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/fs.h"
#include "kernel/buf.h"
#include "kernel/virtio.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

#define REG(r) ((volatile uint32 *)(VIRTIO0 + (r)))

static struct disk {
  struct spinlock lock;
  // The three parts of the queue, all in one kalloc() page.
  volatile struct virtq_desc *desc;
  volatile struct virtq_avail *avail;
  volatile struct virtq_used *used;
  char desc_free[VIRTQ_SIZE];   // is descriptor i free?
  uint16 used_seen;             // used->idx we have processed up to
  uint64 nwrites;               // block writes handed to the device
  uint64 nrequests;             // requests (reads and writes) submitted
  uint64 crash_after;           // power off at this write; 0: never

  // Per request, indexed by its head descriptor.
  struct {
    struct buf *b;
    uchar status;               // written by the device
  } inflight[VIRTQ_SIZE];
  struct virtio_blk_req req[VIRTQ_SIZE];
} disk;

static uint32
reg_read(int r)
{
  return *REG(r);
}

static void
reg_write(int r, uint32 v)
{
  *REG(r) = v;
}

// Check the device is a modern virtio block device, or panic saying why.
static void
virtio_check_device(void)
{
  if(reg_read(VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MAGIC)
    panic("virtio: no virtio device at %p", (void *)VIRTIO0);
  if(reg_read(VIRTIO_MMIO_VERSION) != VIRTIO_VERSION)
    panic("virtio: version %d, want 2 (run qemu with "
          "-global virtio-mmio.force-legacy=false)",
          reg_read(VIRTIO_MMIO_VERSION));
  if(reg_read(VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_BLOCK)
    panic("virtio: device id %d is not a disk (no -drive given?)",
          reg_read(VIRTIO_MMIO_DEVICE_ID));
}

// Accept VIRTIO_F_VERSION_1 and nothing else; the device must agree.
static void
virtio_negotiate(void)
{
  uint32 hi;

  reg_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
  hi = reg_read(VIRTIO_MMIO_DEVICE_FEATURES);
  if((hi & (1 << (VIRTIO_F_VERSION_1 - 32))) == 0)
    panic("virtio: device does not offer VIRTIO_F_VERSION_1");
  reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 0);
  reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 1 << (VIRTIO_F_VERSION_1 - 32));
}

// Write a 64-bit physical address into a Low/High register pair.
static void
reg_write_pa(int low, void *va)
{
  uint64 pa = __pa(va);

  reg_write(low, (uint32)pa);
  reg_write(low + 4, (uint32)(pa >> 32));
}

// Allocate queue 0 and tell the device where its three parts are.
static void
virtio_setup_queue(void)
{
  char *page;

  reg_write(VIRTIO_MMIO_QUEUE_SEL, 0);
  if(reg_read(VIRTIO_MMIO_QUEUE_READY))
    panic("virtio: queue 0 already in use");
  if(reg_read(VIRTIO_MMIO_QUEUE_NUM_MAX) < VIRTQ_SIZE)
    panic("virtio: queue 0 has fewer than %d descriptors", VIRTQ_SIZE);
  reg_write(VIRTIO_MMIO_QUEUE_NUM, VIRTQ_SIZE);

  if((page = kalloc()) == 0)
    panic("virtio: no memory for the queue");
  memset(page, 0, PGSIZE);
  // desc needs 16-byte alignment, avail 2, used 4.
  disk.desc = (struct virtq_desc *)page;
  disk.avail = (struct virtq_avail *)(page + 1024);
  disk.used = (struct virtq_used *)(page + 2048);

  reg_write_pa(VIRTIO_MMIO_QUEUE_DESC_LOW, (void *)disk.desc);
  reg_write_pa(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (void *)disk.avail);
  reg_write_pa(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (void *)disk.used);
  reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
}

// Reset and initialise the disk (spec 3.1.1). Called once at boot.
void
virtio_disk_init(void)
{
  uint32 status = 0;

  initlock(&disk.lock, "virtio_disk");
  virtio_check_device();

  reg_write(VIRTIO_MMIO_STATUS, 0);
  status |= VIRTIO_STATUS_ACKNOWLEDGE;
  reg_write(VIRTIO_MMIO_STATUS, status);
  status |= VIRTIO_STATUS_DRIVER;
  reg_write(VIRTIO_MMIO_STATUS, status);

  virtio_negotiate();
  status |= VIRTIO_STATUS_FEATURES_OK;
  reg_write(VIRTIO_MMIO_STATUS, status);
  if((reg_read(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) == 0)
    panic("virtio: device refused our features");

  virtio_setup_queue();
  for(int i = 0; i < VIRTQ_SIZE; i++)
    disk.desc_free[i] = 1;
  disk.crash_after = bootarg_num("crashafter", 0);
  if(disk.crash_after)
    printf("crashafter: power cut armed at disk write %d\n",
           (int)disk.crash_after);

  status |= VIRTIO_STATUS_DRIVER_OK;
  reg_write(VIRTIO_MMIO_STATUS, status);
}

// Take a free descriptor; returns its index or -1. Caller holds disk.lock.
static int
desc_alloc(void)
{
  for(int i = 0; i < VIRTQ_SIZE; i++){
    if(disk.desc_free[i]){
      disk.desc_free[i] = 0;
      return i;
    }
  }
  return -1;
}

// Return descriptor i to the free list and wake anyone waiting for one.
// Caller holds disk.lock.
static void
desc_free(int i)
{
  if(i < 0 || i >= VIRTQ_SIZE || disk.desc_free[i])
    panic("virtio: freeing descriptor %d twice", i);
  disk.desc[i].addr = 0;
  disk.desc[i].len = 0;
  disk.desc[i].flags = 0;
  disk.desc[i].next = 0;
  disk.desc_free[i] = 1;
  wakeup(&disk.desc_free[0]);
}

// Free the chain that starts at descriptor i. Caller holds disk.lock.
static void
desc_free_chain(int i)
{
  for(;;){
    int flags = disk.desc[i].flags;
    int next = disk.desc[i].next;
    desc_free(i);
    if((flags & VIRTQ_DESC_F_NEXT) == 0)
      break;
    i = next;
  }
}

// Take three descriptors into idx[]; returns 0, or -1 (none taken).
// Caller holds disk.lock.
static int
desc_alloc3(int *idx)
{
  for(int i = 0; i < 3; i++){
    if((idx[i] = desc_alloc()) < 0){
      while(--i >= 0)
        desc_free(idx[i]);
      return -1;
    }
  }
  return 0;
}

// Fill descriptor i. Caller holds disk.lock.
static void
desc_set(int i, void *va, uint32 len, uint16 flags, uint16 next)
{
  disk.desc[i].addr = __pa(va);
  disk.desc[i].len = len;
  disk.desc[i].flags = flags;
  disk.desc[i].next = next;
}

// Power cut for the crash test: let the device finish every request it
// has been given, so the disk holds exactly the writes before this one,
// then power off. Caller holds disk.lock.
static void
crash_now(void)
{
  reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  while(disk.used->idx != disk.avail->idx)
    __sync_synchronize();
  printf("crashafter: power cut after %d disk writes\n", (int)disk.nwrites);
  sbi_shutdown();
}

// Put a request for b->data <-> block blockno on the driver ring without
// telling the device (the caller notifies). Sleeps for descriptors,
// after notifying the device of what is queued, so that completions
// free some. Caller holds disk.lock and b->lock.
static void
submit(struct buf *b, uint blockno, int write)
{
  int idx[3];
  struct virtio_blk_req *req;

  if(write && disk.crash_after && disk.nwrites == disk.crash_after)
    crash_now();
  while(desc_alloc3(idx) < 0){
    reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    sleep(&disk.desc_free[0], &disk.lock);
  }

  req = &disk.req[idx[0]];
  req->type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
  req->reserved = 0;
  req->sector = (uint64)blockno * (BSIZE / VIRTIO_SECTOR_SIZE);

  disk.inflight[idx[0]].b = b;
  disk.inflight[idx[0]].status = 0xff;   // the device overwrites it
  desc_set(idx[0], req, sizeof(*req), VIRTQ_DESC_F_NEXT, idx[1]);
  desc_set(idx[1], b->data, BSIZE,
           VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE), idx[2]);
  desc_set(idx[2], &disk.inflight[idx[0]].status, 1, VIRTQ_DESC_F_WRITE, 0);

  b->disk = 1;
  if(write)
    disk.nwrites++;
  disk.nrequests++;
  disk.avail->ring[disk.avail->idx % VIRTQ_SIZE] = idx[0];
  __sync_synchronize();   // the device must see the ring entry first...
  disk.avail->idx += 1;   // ...then the new index
  __sync_synchronize();
}

// Read (write == 0) or write block b->blockno through the cache buffer b.
// Sleeps until the device is done. Caller holds b->lock.
void
virtio_disk_rw(struct buf *b, int write)
{
  acquire(&disk.lock);
  submit(b, b->blockno, write);
  reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  while(b->disk == 1)
    sleep(b, &disk.lock);
  release(&disk.lock);
}

// Write bufs[i]->data to block to[i], for i < n, as one batch: every
// request is queued before one notify, and the call returns when all are
// done, so the device may complete them in any order (and a power cut
// may leave any subset on the disk). The bufs must be distinct; the
// caller holds each one's lock.
void
virtio_disk_write_batch(struct buf **bufs, uint *to, int n)
{
  acquire(&disk.lock);
  for(int i = 0; i < n; i++)
    submit(bufs[i], to[i], 1);
  reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  for(int i = 0; i < n; i++)
    while(bufs[i]->disk == 1)
      sleep(bufs[i], &disk.lock);
  release(&disk.lock);
}

// Disk interrupt: acknowledge it and finish every request the device has
// put in the used ring since the last one: free its descriptors (a
// batch may be waiting for them) and wake its requester.
void
virtio_disk_intr(void)
{
  acquire(&disk.lock);
  reg_write(VIRTIO_MMIO_INTERRUPT_ACK,
            reg_read(VIRTIO_MMIO_INTERRUPT_STATUS) & 3);
  __sync_synchronize();   // read used->idx after the device wrote entries

  while(disk.used_seen != disk.used->idx){
    __sync_synchronize();
    int id = disk.used->ring[disk.used_seen % VIRTQ_SIZE].id;
    struct buf *b = disk.inflight[id].b;
    if(b == 0)
      panic("virtio: completion for idle descriptor %d", id);
    if(disk.inflight[id].status != VIRTIO_BLK_S_OK)
      panic("virtio: block %d: device status %d", b->blockno,
            disk.inflight[id].status);
    disk.inflight[id].b = 0;
    desc_free_chain(id);
    b->disk = 0;
    wakeup(b);
    disk.used_seen += 1;
  }
  release(&disk.lock);
}

// Block writes handed to the device since boot (kstat KSTAT_DISK_WRITES).
uint64
virtio_disk_nwrites(void)
{
  return disk.nwrites;
}

// Requests, reads and writes, submitted since boot (kstat
// KSTAT_DISK_REQUESTS).
uint64
virtio_disk_nrequests(void)
{
  return disk.nrequests;
}
