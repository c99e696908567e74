// proc.h: tasks (user processes and kernel threads), harts, saved registers.
#ifndef CANOPY_PROC_H
#define CANOPY_PROC_H

#define LOCKDEP_SLEEP_HELD 8   // sleep-lock classes a task holds at once (DEBUG)

// Callee-saved registers of a task that is switched out (swtch.S).
// tp is the task itself (see myproc()), so loading a context also makes
// the new task current.
struct context {
  uint64 ra;
  uint64 sp;
  uint64 tp;
  uint64 s[12];  // s0..s11
};

// Registers saved by trap entry on the task's kernel stack (trapentry.S).
// A trap from user mode puts it at the very top of the kernel stack, so a
// task's user registers are always at task->regs. Layout is fixed: the
// assembly uses the offsets in asm-offsets.h.
struct pt_regs {
  uint64 epc;      // sepc: where to resume
  uint64 ra, sp, gp, tp;
  uint64 t0, t1, t2;
  uint64 s0, s1;
  uint64 a0, a1, a2, a3, a4, a5, a6, a7;
  uint64 s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
  uint64 t3, t4, t5, t6;
  uint64 status;   // sstatus
  uint64 cause;    // scause
  uint64 tval;     // stval
};

// One flush of a hart's TLB, as tlbflush.c records it: the range, and
// how many root entries the hart had copied by then (nr_vmalloc_syncs).
struct flush_rec {
  uint64 start, end;        // [start, end) flushed; [0, ~0) for all
  uint64 syncs;             // nr_vmalloc_syncs when it was done
  int remote;               // a fence of every hart's TLB (vfree)
};
#define FLUSH_LOG 8         // flushes each hart remembers

// A point in one hart's TLB history (tlb_mark): its flushes and copies.
struct tlb_mark {
  uint64 flushes, syncs;
};

// An ASID this hart loaded, in asid.c's model of its TLB.
struct asid_slot {
  uint64 asid, gen, epoch;
};
#define ASID_TRACK 64       // ASIDs each hart's model remembers

// Per-hart state.
struct cpu {
  int id;                   // cpu index 0..ncpu-1 (hart ids may differ)
  int hartid;               // RISC-V hart id, as SBI and the PLIC know it
  struct proc *idle;        // this hart's idle task
  struct proc *curr;        // task running here
  struct mm *prev_mm;       // mm to mmdrop after the current switch
  uint64 dead_stack;        // kernel stack of a zombie, to vfree after it
  int noff;                 // depth of push_off() nesting
  int intena;               // were interrupts enabled before push_off()?
  // counters, read by kstat (kstat.h says what each counts) and the
  // self-tests; written only by this hart, with interrupts off
  uint64 nr_satp_writes;    // every satp write after entry.S (switch_mm,
                            // and with KPTI=1 the trap path's)
  uint64 nr_trap_satp;      // KPTI=1: of those, by the trap path
  uint64 nr_kpti_user_runs; // KPTI=1: user mode seen on the user root (kpti.c)
  uint64 nr_kpti_flushes;   // KPTI=1: sfences the entry stub counted
  uint64 nr_template_satp;  // of those, writes of kernel_pagetable: must be 0
  uint64 nr_lazy_switches;  // switches to a kernel thread (no satp write)
  uint64 nr_vmalloc_syncs;  // root entries copied from the template
  uint64 nr_switches;       // context switches
  uint64 nr_traps;          // traps taken
  uint64 nr_tlb_flushes;    // flushes of this hart's TLB (tlbflush.c)
  uint64 nr_remote_fences;  // shootdowns this hart sent (tlbflush.c)
  uint64 nr_unflushed_syncs; // synced entries used with no flush covering
                            // them after the copy: a bug (invariant 11)
  uint64 nr_idle_mm_drops;  // dead borrowed mms the idle task gave back
  struct flush_rec flush_log[FLUSH_LOG]; // the last flushes, oldest first
                            // from flush_log[nr_tlb_flushes % FLUSH_LOG]
  // ASIDs (asid.c)
  uint64 active_asid;       // context (generation | ASID) loaded here; 0
                            // after a rollover until the next switch
  uint64 tlb_epoch;         // full flushes of this hart, for the model
  struct asid_slot asid_seen[ASID_TRACK];
  uint64 nr_full_flushes;   // whole-TLB flushes (local_flush_tlb_all)
  uint64 nr_asid_noflush;   // mm loads that needed no flush (ASID reuse)
  uint64 nr_fence_harts;    // harts reached by the remote fences sent here
  uint64 nr_stale_asid_loads; // ASIDs loaded over a previous owner's
                            // possible translations: a bug, must be 0
  uint64 nr_missed_shootdowns; // user unmaps that did not fence a hart
                            // that may hold the mm's ASID: a bug, must be 0
  uint64 nr_syscalls;       // system calls made (syscall.c)
};

extern struct cpu cpus[NCPU];
extern int ncpu;

enum procstate { UNUSED, USED, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

// A task: a user process (mm != NULL) or a kernel thread (mm == NULL).
// The first three fields are used by trapentry.S; keep them first.
struct proc {
  uint64 kstack_top;        // one past the highest byte of the kernel stack
  uint64 scratch;           // trap entry parks the user sp here
  uint64 kstack_base;       // lowest byte of the kernel stack (above guard)

  // sched_lock must be held when using these:
  enum procstate state;
  void *chan;               // if SLEEPING, what it sleeps on
  int killed;               // if non-zero, exit at the next chance
  int xstate;               // exit status for the parent's wait()
  struct cpu *cpu;          // hart it runs on, or last ran on
  struct proc *rq_next;     // next in the run queue
  int cpu_allowed;          // the only cpu it may run on, or -1 for any

  // wait_lock must be held when using this:
  struct proc *parent;

  // private to the task, or set before it first runs:
  int pid;
  struct pt_regs *regs;     // user registers, at the top of the kernel stack
  struct context context;   // swtch() here to run the task
  struct mm *mm;            // user address space; NULL for a kernel thread
  struct mm *active_mm;     // page table in satp while it runs (borrowed
                            // when mm == NULL)
  int (*kthread_fn)(void *);// kernel thread body and its argument
  void *kthread_arg;
  int should_stop;          // kthread_stop() asks the thread to return
  struct file *ofile[NOFILE];
  struct inode *cwd;
  char name[16];
#ifdef DEBUG
  // lockdep.c: the sleep locks this task holds, one entry per class
  // (touched only by the task itself)
  struct sleep_held {
    int class;                   // index in lockdep's sleep-lock graph
    int count;                   // locks of that class held
    uint64 site[LOCKDEP_SITES];  // where the first was taken
  } sleep_held[LOCKDEP_SLEEP_HELD];
  int nsleep_held;
#endif
};

extern struct proc proc[NPROC];
extern struct proc idle_tasks[NCPU];

// The task running on this hart: kept in tp while in the kernel.
static inline struct proc *
myproc(void)
{
  struct proc *p;
  asm volatile("mv %0, tp" : "=r"(p));
  return p;
}

// This hart: the task running here says which (sched.c keeps task->cpu
// true from the switch on). Inline: the trap path asks several times per
// trap. Callers keep interrupts off, or the task could move.
static inline struct cpu *
mycpu(void)
{
  return myproc()->cpu;
}

static inline int
cpuid(void)
{
  return mycpu()->id;
}

#endif
