// kstat.h: counters readable with the kstat() system call, summed over
// all harts, or one hart's with KSTAT_HART. Shared by the kernel and user
// programs.
#ifndef CANOPY_KSTAT_H
#define CANOPY_KSTAT_H

#define KSTAT_SATP_WRITES    0  // satp writes (exec and switch_mm)
#define KSTAT_LAZY_SWITCHES  1  // switches to a kernel thread, no satp write
#define KSTAT_VMALLOC_SYNCS  2  // root entries copied lazily by the fault path
#define KSTAT_SWITCHES       3  // context switches
#define KSTAT_TRAPS          4  // traps taken
#define KSTAT_NCPU           5  // number of harts running
#define KSTAT_TICKS          6  // timer ticks since boot
#define KSTAT_FREEPAGES      7  // free physical pages
#define KSTAT_LAZY_ROOTS     8  // root pages kept only by lazy borrowers of
                                // exited address spaces (freed when those
                                // harts next run a user task or go idle)
#define KSTAT_TLB_FLUSHES    9  // local TLB flushes (tlbflush.c)
#define KSTAT_UNFLUSHED_SYNCS 10 // lazy syncs not followed by a flush (a bug)
#define KSTAT_IDLE_MM_DROPS  11 // borrowed mms of exited processes that an
                                // idle hart gave back (sched.c)
#define KSTAT_DISK_WRITES    12 // block writes sent to the disk since boot

// kstat(what + KSTAT_HART(i)): hart i's own count of a per-hart counter
// (0-4 and 9-11 above); -1 for any other.
#define KSTAT_HART(i)        (((i) + 1) << 8)

#endif
