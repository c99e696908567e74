// file.h: open files, in-memory inodes, and the device switch.
// A struct file is shared by every descriptor that dup/fork made from one
// open(); its ref counts them. A struct inode is the cached copy of one
// dinode: the icache lock guards ref, ip->lock guards everything else.
#ifndef CANOPY_FILE_H
#define CANOPY_FILE_H

struct file {
  enum { FD_NONE, FD_PIPE, FD_INODE, FD_DEVICE } type;
  int ref;            // descriptors pointing here (ftable.lock)
  char readable;
  char writable;
  struct pipe *pipe;  // FD_PIPE
  struct inode *ip;   // FD_INODE and FD_DEVICE
  uint off;           // FD_INODE: where the next read/write starts
  short major;        // FD_DEVICE
};

// In-memory inode. dev, inum and ref are guarded by the icache lock;
// valid and the copy of the dinode below by the sleep lock.
struct inode {
  uint dev;           // device number
  uint inum;          // inode number
  int ref;            // pointers to this slot held by the kernel
  struct sleeplock lock;
  int valid;          // has the dinode been read from disk?

  short type;         // copy of the dinode
  short major;
  short minor;
  short nlink;
  uint size;
  uint addrs[NADDRS];
};

// Device switch: a major device number selects its read and write.
struct devsw {
  int (*read)(int user_dst, uint64 dst, int n);
  int (*write)(int user_src, uint64 src, int n);
};

extern struct devsw devsw[];

#define CONSOLE 1

#endif
