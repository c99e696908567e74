// types.h: fixed-width integer names used by the kernel and user programs.
#ifndef CANOPY_TYPES_H
#define CANOPY_TYPES_H

typedef unsigned int   uint;
typedef unsigned short ushort;
typedef unsigned char  uchar;

typedef unsigned char      uint8;
typedef unsigned short     uint16;
typedef unsigned int       uint32;
typedef unsigned long      uint64;
typedef long               int64;

typedef uint64 pte_t;
typedef uint64 *pagetable_t;   // a page-table page: 512 PTEs

#endif
