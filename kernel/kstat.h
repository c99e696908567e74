// kstat.h: counters readable with the kstat() system call, summed over
// all harts, or one hart's with KSTAT_HART. Shared by the kernel and user
// programs.
#ifndef CANOPY_KSTAT_H
#define CANOPY_KSTAT_H

#define KSTAT_SATP_WRITES    0  // satp writes after entry.S's, all by
                                // switch_mm: one per hart at boot, then exec,
                                // switches to a task with another mm, and an
                                // idle hart giving back a dead mm
#define KSTAT_LAZY_SWITCHES  1  // switches to a kernel thread, no satp write
#define KSTAT_VMALLOC_SYNCS  2  // root entries copied from the template: by
                                // the fault path and by the stack syncs of
                                // context switches
#define KSTAT_SWITCHES       3  // context switches
#define KSTAT_TRAPS          4  // traps taken
#define KSTAT_NCPU           5  // number of harts running
#define KSTAT_TICKS          6  // timer ticks since boot
#define KSTAT_FREEPAGES      7  // free physical pages
#define KSTAT_LAZY_ROOTS     8  // root pages kept only by lazy borrowers of
                                // exited address spaces (freed when those
                                // harts next run a user task or go idle)
#define KSTAT_TLB_FLUSHES    9  // flushes of a hart's own TLB (tlbflush.c),
                                // each remote fence counted once, for the
                                // hart that sent it
#define KSTAT_UNFLUSHED_SYNCS 10 // lazy syncs not followed by a flush (a bug)
#define KSTAT_IDLE_MM_DROPS  11 // borrowed mms of exited processes that an
                                // idle hart gave back (mm.c)
#define KSTAT_TEMPLATE_SATP  12 // satp writes of kernel_pagetable itself: a
                                // bug, must stay 0 (invariant 2)
#define KSTAT_REMOTE_FENCES  13 // shootdowns sent (tlbflush.c)
#define KSTAT_FREE_SOON      14 // free pages + roots kept by lazy borrowers +
                                // dead stacks being freed, read as one: what
                                // leak checks compare
#define KSTAT_TASKS          15 // task slots in use (not the idle tasks)
#define KSTAT_MMS            16 // mms with an owner, init_mm included (not
                                // those kept only by lazy borrowers)
#define KSTAT_VMALLOC_AREAS  17 // vmalloc areas allocated
#define KSTAT_KERNEL_PT_PAGES 18 // page-table pages of the vmalloc area
                                // (never freed; leak checks add them)
#define KSTAT_ASID_BITS      19 // ASID width in use (0: ASIDs off)
#define KSTAT_ASID_ROLLOVERS 20 // new ASID generations started
#define KSTAT_ASID_NOFLUSH   21 // mm loads that needed no TLB flush
#define KSTAT_FULL_FLUSHES   22 // whole-TLB flushes of a hart
#define KSTAT_FENCE_HARTS    23 // harts reached by the remote fences sent
#define KSTAT_STALE_ASID     24 // ASIDs loaded over a previous owner's
                                // translations: a bug, must stay 0
#define KSTAT_MISSED_SHOOTDOWNS 25 // unmaps that left out a hart that may
                                // hold the mm's ASID: a bug, must stay 0
#define KSTAT_KPTI           26 // 1 in the KPTI=1 build (two roots per mm)
#define KSTAT_COW_FAULTS     27 // stores to copy-on-write pages (vm.c)
#define KSTAT_COW_COPIES     28 // of those, the ones that copied the page
#define KSTAT_SHARED_PAGES   29 // physical pages mapped more than once now

#define KSTAT_NR_FILES       30 // open-file table slots in use (leak checks)
#define KSTAT_NR_INODES      31 // inode table slots with a reference
#define KSTAT_SYSCALLS       32 // system calls made (per hart)
#define KSTAT_DISK_WRITES    33 // block writes sent to the disk since boot
#define KSTAT_DISK_REQUESTS  34 // virtio requests submitted (reads and writes)
#define KSTAT_KPTI_USER_RUNS 35 // KPTI=1: returns to the kernel that found the
                                // user root's entry page used (A bit) since
                                // the last return: user mode ran on it
#define KSTAT_KPTI_FLUSHES   36 // KPTI=1: sfences counted by kpti_entry.S
#define KSTAT_FREE_BLOCKS    37 // free blocks in the disk's bitmap (leak checks)

// kstat(what + KSTAT_HART(i)): hart i's own count of a per-hart counter
// (0-4, 9-13, 21-25 and 32 above); -1 for any other.
#define KSTAT_HART(i)        (((i) + 1) << 8)

#endif
