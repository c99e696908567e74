// fs.h: the on-disk file system format, shared by the kernel and mkfs.
//
// Disk layout, in blocks of BSIZE bytes:
//   [ boot | super | log header + log | inodes | free bitmap | data ... ]
// mkfs computes the boundaries and records them in the superblock.
#ifndef CANOPY_FS_H
#define CANOPY_FS_H

#define ROOTINO  1        // root i-number
#define BSIZE    1024     // block size

struct superblock {
  uint magic;        // must be FSMAGIC
  uint size;         // size of file system image (blocks)
  uint nblocks;      // number of data blocks
  uint ninodes;      // number of inodes
  uint nlog;         // number of log blocks (header included)
  uint logstart;     // block number of first log block
  uint inodestart;   // block number of first inode block
  uint bmapstart;    // block number of first free map block
};

#define FSMAGIC 0x10203040

// A file's blocks: NDIRECT direct ones, then NINDIRECT through the single
// indirect block (addrs[NDIRECT]), then NINDIRECT * NINDIRECT through the
// double indirect block (addrs[NDIRECT + 1]), which lists indirect blocks.
#define NDIRECT    11
#define NINDIRECT  (BSIZE / sizeof(uint))
#define NDINDIRECT (NINDIRECT * NINDIRECT)
#define NADDRS     (NDIRECT + 2)           // slots of dinode.addrs
#define MAXFILE    (NDIRECT + NINDIRECT + NDINDIRECT)

// On-disk inode.
struct dinode {
  short type;               // file type (T_*), 0 = free
  short major;              // major device number (T_DEVICE only)
  short minor;              // minor device number (T_DEVICE only)
  short nlink;              // number of directory entries naming it
  uint size;                // size of file (bytes)
  uint addrs[NADDRS];       // direct, single indirect, double indirect
};                          // 64 bytes: a divisor of BSIZE

#define IPB           (BSIZE / sizeof(struct dinode))  // inodes per block
#define IBLOCK(i, sb) ((i) / IPB + (sb).inodestart)   // block holding inode i
#define BPB           (BSIZE * 8)                      // bitmap bits per block
#define BBLOCK(b, sb) ((b) / BPB + (sb).bmapstart)    // bitmap block of block b

// A directory is a file holding a sequence of dirent structures.
#define DIRSIZ 14

struct dirent {
  ushort inum;        // 0 = free slot
  char name[DIRSIZ];  // not NUL-terminated when DIRSIZ long
};

#endif
