// mm.h: struct mm, one user address space and its root page table.
#ifndef CANOPY_MM_H
#define CANOPY_MM_H

// An address space. Its root page (pgd) holds the user half (entries 0-255,
// private) and a copy of kernel_pagetable's kernel half (entries 256-511,
// pointing at page-table pages shared by every mm).
//
// Two counts, as in Linux (include/linux/mm_types.h):
//   mm_users  tasks that own this mm as task->mm. mmget() adds one,
//             mmput() drops one; at 0 the user half (pages and user
//             page-table pages) is freed, and the users' single mm_count
//             reference is dropped.
//   mm_count  references to the struct and its root page: one for all
//             users together, plus one per hart lazily borrowing it as a
//             kernel thread's (or an exiting task's) active_mm. mmgrab()
//             adds one, mmdrop() drops one; at 0 the root page and the
//             struct are freed (and poisoned in debug builds).
// Both are changed with atomic instructions, never under a lock.
struct mm {
  pagetable_t pgd;     // root page table (direct-map address)
  uint64 brk;          // user memory is [0, brk): text, data, stack, heap
  uint64 start_brk;    // the heap is [start_brk, brk); pages there that
                       // sbrklazy() added are allocated at first touch
  int mm_users;
  int mm_count;
  int id;              // small number for ptdump and ps, never reused soon
  uint64 context;      // generation | ASID (asid.c); 0 before its first load
#ifdef KPTI
  pagetable_t upgd;    // the user root user mode runs on (kpti.c)
  struct kpti_data *kdata; // its data page, at KPTI_DATA_VA in both roots
#endif
  uint64 cpumask;      // harts that may hold its user translations (bit =
                       // cpu): set before each load; a hart stays in it
                       // (Linux keeps every footmark), so a shootdown of
                       // the mm reaches every hart that ever ran it
};

// The KPTI=1 build's data page of an mm, at KPTI_DATA_VA in both of its
// roots: all the trap path reads before it is on the kernel root. The
// layout is fixed: kpti_entry.S uses the offsets in asm-offsets.h.
struct kpti_data {
  uint64 t0;           // trap entry and exit park t0 here
  uint64 ksatp;        // satp of the kernel root, with its ASID
  uint64 usatp;        // satp of the user root, with the user ASID
  uint64 task;         // the task running in user mode on this mm
  uint64 usp, utp;     // user sp and tp on the way out
  uint64 flush;        // 1: ASIDs off, flush after each satp write
  uint64 nflush;       // sfences done by kpti_entry.S since the last return
};

#endif
