// param.h: compile-time limits of the kernel (xv6-compatible names).
#ifndef CANOPY_PARAM_H
#define CANOPY_PARAM_H

#define NPROC        64   // maximum number of tasks, kernel threads included
#define NCPU          8   // maximum number of harts
#define NOFILE       16   // open files per process
#define NFILE       100   // open files per system
#define NINODE       50   // maximum number of active i-nodes
#define NDEV         10   // maximum major device number
#define ROOTDEV       1   // device number of file system root disk
#define MAXARG       32   // max exec arguments
#define MAXOPBLOCKS  10   // max # of blocks any FS op writes
#define LOGBLOCKS    200  // slots of the on-disk log (header: 1+LOGBLOCKS words <= BSIZE)
#define LOGSIZE      LOGBLOCKS        // older xv6 name
#define NBUF         512  // size of disk block cache (> LOGBLOCKS: the log pins up to that many)
#define FSSIZE       4000 // size of file system in blocks
#define MAXPATH      128  // maximum file path name
#define USERSTACK    1    // user stack pages

#endif
