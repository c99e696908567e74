// virtio.h: the parts of the virtio 1.x specification that the block
// driver (virtio_blk.c) uses: the MMIO transport registers (spec 4.2.2),
// device status and feature bits, split virtqueue layout (spec 2.7) and
// the block request format (spec 5.2.6). Everything is little-endian,
// which RISC-V is too.
#ifndef CANOPY_VIRTIO_H
#define CANOPY_VIRTIO_H

// MMIO transport registers, byte offsets from the device base.
#define VIRTIO_MMIO_MAGIC_VALUE         0x000  // 0x74726976, "virt"
#define VIRTIO_MMIO_VERSION             0x004  // 2 for a modern device
#define VIRTIO_MMIO_DEVICE_ID           0x008  // 2 = block device
#define VIRTIO_MMIO_VENDOR_ID           0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010  // 32 bits chosen by ..._SEL
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030  // which queue the next ones set
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050  // write the queue index
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080  // physical address of the
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084  //   descriptor table
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090  //   driver (avail) ring
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0  //   device (used) ring
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIRTIO_MMIO_CONFIG              0x100  // device-specific config

#define VIRTIO_MAGIC       0x74726976
#define VIRTIO_VERSION     2
#define VIRTIO_ID_BLOCK    2

// Device status bits, set by the driver in this order.
#define VIRTIO_STATUS_ACKNOWLEDGE  1    // driver noticed the device
#define VIRTIO_STATUS_DRIVER       2    // driver knows how to drive it
#define VIRTIO_STATUS_DRIVER_OK    4    // driver is ready
#define VIRTIO_STATUS_FEATURES_OK  8    // feature negotiation done
#define VIRTIO_STATUS_NEEDS_RESET  64
#define VIRTIO_STATUS_FAILED       128

// Feature bits (numbered across the 64-bit feature word).
#define VIRTIO_F_VERSION_1  32          // modern device: must be accepted

// Interrupt status bits.
#define VIRTIO_INT_USED_RING  1         // the device used a buffer
#define VIRTIO_INT_CONFIG     2         // configuration changed

// Descriptors in our one queue; a power of two. Three per request, so 21
// requests in flight; the queue page holds desc (16 each) in its first
// 1024 bytes, avail at 1024 and used at 2048 (virtio_setup_queue).
#define VIRTQ_SIZE 64

// A descriptor names one piece of memory by physical address.
struct virtq_desc {
  uint64 addr;
  uint32 len;
  uint16 flags;
  uint16 next;                  // following descriptor if VIRTQ_DESC_F_NEXT
};
#define VIRTQ_DESC_F_NEXT   1   // chain continues at 'next'
#define VIRTQ_DESC_F_WRITE  2   // device writes (rather than reads) it

// Driver ring ("available"): heads of chains handed to the device.
struct virtq_avail {
  uint16 flags;
  uint16 idx;                   // where the driver puts the next entry
  uint16 ring[VIRTQ_SIZE];
  uint16 used_event;            // unused: no VIRTIO_F_EVENT_IDX
};

// Device ring ("used"): chains the device has finished with.
struct virtq_used_elem {
  uint32 id;                    // head descriptor of the finished chain
  uint32 len;                   // bytes written into the chain
};

struct virtq_used {
  uint16 flags;
  uint16 idx;                   // where the device puts the next entry
  struct virtq_used_elem ring[VIRTQ_SIZE];
  uint16 avail_event;
};

// Block request header, the first descriptor of each request chain.
#define VIRTIO_BLK_T_IN   0     // read from the disk
#define VIRTIO_BLK_T_OUT  1     // write to the disk

struct virtio_blk_req {
  uint32 type;
  uint32 reserved;
  uint64 sector;                // in 512-byte units
};

#define VIRTIO_BLK_S_OK   0     // status byte written by the device
#define VIRTIO_SECTOR_SIZE 512

#endif
