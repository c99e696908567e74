// trap.c: what happens after trap_entry (trapentry.S) saved the registers:
// system calls, device and timer interrupts, and faults.
//
//   from user mode:   user_trap()   system call, interrupt, or a fault
//                                   that kills the task (status -1)
//   from kernel mode: kernel_trap() interrupt, a lazy vmalloc sync, a
//                                   uaccess fixup, or a panic
//
// Neither path writes satp (invariant 5).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/asm-offsets.h"
#include "kernel/spinlock.h"
#include "kernel/lockdep.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"

_Static_assert(__builtin_offsetof(struct proc, kstack_top) == TASK_KSTACK_TOP, "asm-offsets");
_Static_assert(__builtin_offsetof(struct proc, scratch) == TASK_SCRATCH, "asm-offsets");
_Static_assert(__builtin_offsetof(struct proc, kstack_base) == TASK_KSTACK_BASE, "asm-offsets");
_Static_assert(__builtin_offsetof(struct pt_regs, ra) == 1 * 8, "asm-offsets");
_Static_assert(__builtin_offsetof(struct pt_regs, t6) == 31 * 8, "asm-offsets");
_Static_assert(__builtin_offsetof(struct pt_regs, status) == PT_STATUS, "asm-offsets");
_Static_assert(__builtin_offsetof(struct pt_regs, tval) == PT_TVAL, "asm-offsets");
_Static_assert(sizeof(struct pt_regs) <= PT_SIZE, "asm-offsets");
_Static_assert(__builtin_offsetof(struct context, tp) == CTX_TP, "asm-offsets");
_Static_assert(__builtin_offsetof(struct context, s) == CTX_S0, "asm-offsets");

#define TICK_HZ 100

// ticks: hundredths of a second since boot, read from the time CSR at
// each of cpu 0's timer interrupts, not counted by them. A loaded host
// runs a hart's interrupts late and merges missed ones, so on 8 harts
// over 2 host cores a count of interrupts fell far behind real time, and
// everything waiting on uptime() (sleep, stress's timed loops) took
// several times as long: the "8-hart stress hang" of docs/robustness.md.
uint64 ticks;
struct spinlock tickslock;
static uint64 boot_time;   // r_time() when cpu 0 set up its traps

extern char trap_entry[], kpti_trap_entry[];
void enter_user(struct pt_regs *regs) __attribute__((noreturn));

// Point this hart's traps at trap_entry and enable its interrupts sources.
void
trap_init_hart(void)
{
  if(cpuid() == 0){
    initlock(&tickslock, "time");
    boot_time = r_time();
  }
  csr_write(sscratch, 0);
#ifdef KPTI
  csr_write(stvec, (uint64)kpti_trap_entry);   // mapped in user roots too
#else
  csr_write(stvec, (uint64)trap_entry);
#endif
  // Let user programs read cycle, time and instret (rdcycle, rdtime,
  // rdinstret: bits CY, TM, IR), so a benchmark can count its own
  // instructions; under QEMU's -icount instret is exact.
  csr_write(scounteren, 7);
  csr_set(sie, SIE_SEIE | SIE_STIE | SIE_SSIE);   // SSIE: shootdowns, spin_relax
  sbi_set_timer(r_time() + TIMEBASE_HZ / TICK_HZ);
}

static void
timer_interrupt(void)
{
  if(cpuid() == 0){
    uint64 now = (r_time() - boot_time) / (TIMEBASE_HZ / TICK_HZ);
    acquire(&tickslock);
    if(now > ticks)
      ticks = now;
    wakeup(&ticks);
    release(&tickslock);
  }
  sbi_set_timer(r_time() + TIMEBASE_HZ / TICK_HZ);
}

static void
external_interrupt(void)
{
  int irq = plic_claim();
  if(irq == UART0_IRQ)
    uart_intr();
  else if(irq == VIRTIO0_IRQ)
    virtio_disk_intr();
  else if(irq)
    printf("unexpected interrupt irq=%d\n", irq);
  if(irq)
    plic_complete(irq);
}

// Handle an interrupt. Returns 1 for a timer tick (time to yield).
static int
handle_interrupt(uint64 scause)
{
  if(panicking)
    for(;;)
      asm volatile("wfi");   // another hart panicked: stop here
  switch(scause & ~SCAUSE_INTR){
  case IRQ_S_TIMER:
    timer_interrupt();
    return 1;
  case IRQ_S_SOFT:
    csr_clear(sip, SIP_SSIP);   // before serving: a later request sets it again
    tlb_shootdown_serve();
    return 0;
  case IRQ_S_EXT:
    external_interrupt();
    return 0;
  }
  return 0;
}

// A user task faulted: one line on the console, then it dies with -1.
static void
user_fault(struct proc *p, struct pt_regs *regs)
{
  printf("pid %d (%s): %s at sepc=%p stval=%p, killed\n", p->pid, p->name,
         scause_name(regs->cause), (void *)regs->epc, (void *)regs->tval);
  setkilled(p);
}

// Prepare regs for sret to user mode. Interrupts stay off from here to the
// sret, because sscratch will say "user mode" before we are there.
void
user_trap_return(void)
{
  struct pt_regs *regs = myproc()->regs;
  lockdep_sleep_none_held("return to user space");
  intr_off();
  regs->status &= ~(SSTATUS_SPP | SSTATUS_SUM);
  regs->status |= SSTATUS_SPIE;
#ifdef KPTI
  kpti_prepare_return(myproc());
#endif
}

// A load or store (not an instruction fetch) found no valid PTE.
static int
is_data_page_fault(uint64 cause)
{
  return cause == EXC_LOAD_PAGE_FAULT || cause == EXC_STORE_PAGE_FAULT;
}

// handle_mm_fault()'s flags for a data page fault with this cause.
static int
fault_flags(uint64 cause, int user)
{
  return (cause == EXC_STORE_PAGE_FAULT ? FAULT_FLAG_WRITE : 0) |
         (user ? FAULT_FLAG_USER : 0);
}

// A trap from user mode. Called by trap_entry with interrupts off; returns
// to trap_entry, which goes back to user mode.
void
user_trap(struct pt_regs *regs)
{
  struct proc *p = myproc();
  int tick = 0;
  mycpu()->nr_traps++;
#ifdef KPTI
  mycpu()->nr_satp_writes++;   // kpti_entry.S came from the user root
  mycpu()->nr_trap_satp++;
#endif

  if(regs->cause & SCAUSE_INTR){
    tick = handle_interrupt(regs->cause);
  } else if(regs->cause == EXC_ECALL_U){
    regs->epc += 4;   // return after the ecall
    mycpu()->nr_syscalls++;   // interrupts still off: this hart's count
    if(killed(p))
      exit(-1);
    intr_on();
    syscall(regs);
  } else if(is_data_page_fault(regs->cause) &&
            handle_mm_fault(p->mm, regs->tval, fault_flags(regs->cause, 1)) == 0){
    // a heap page that sbrklazy() left for its first touch, now mapped,
    // or a copy-on-write page, now private
  } else {
    user_fault(p, regs);
  }
  if(killed(p))
    exit(-1);
  if(tick)
    yield();
  user_trap_return();
}

// A page fault in kernel mode: a vmalloc root entry not yet synced into
// this root, a uaccess routine touching a heap page that sbrklazy() left
// for its first touch, or one touching a bad user address. Anything else
// is a kernel bug.
static void
kernel_page_fault(struct pt_regs *regs)
{
  struct mm *mm = myproc()->mm;   // NULL for a kernel thread: no user memory
  int data = is_data_page_fault(regs->cause);   // never run vmalloc memory
  struct tlb_mark mark = tlb_mark();
  if(data && vmalloc_fault_hook)
    vmalloc_fault_hook(regs->tval);
  if(data && vmalloc_fault(regs->tval)){
    vmalloc_check_flushed(mark, regs->tval, regs->tval + 1, 1, "vmalloc_fault");
    return;
  }
  if(data && in_uaccess(regs) && mm &&
     handle_mm_fault(mm, regs->tval, fault_flags(regs->cause, 0)) == 0)
    return;
  if(fixup_exception(regs))
    return;
  if(regs->tval >= VMALLOC_START && regs->tval < VMALLOC_END)
    panic_regs(regs, "kernel %s at %p: no vmalloc mapping there",
               scause_name(regs->cause), (void *)regs->tval);
  panic_regs(regs, "kernel %s at %p", scause_name(regs->cause),
             (void *)regs->tval);
}

// A trap from kernel mode, on the current task's kernel stack.
void
kernel_trap(struct pt_regs *regs)
{
  mycpu()->nr_traps++;
  if((regs->status & SSTATUS_SPP) == 0)
    panic_regs(regs, "kernel_trap: not from supervisor mode");
  if(regs->cause & SCAUSE_INTR){
    struct proc *p = myproc();
    if(handle_interrupt(regs->cause) && p != mycpu()->idle && p->state == RUNNING)
      yield();
    return;
  }
  switch(regs->cause){
  case EXC_INST_PAGE_FAULT:
  case EXC_LOAD_PAGE_FAULT:
  case EXC_STORE_PAGE_FAULT:
    kernel_page_fault(regs);
    return;
  }
  panic_regs(regs, "kernel trap: %s", scause_name(regs->cause));
}

// trap_entry found the stack pointer in the guard page below the stack.
void
kernel_stack_overflow(struct pt_regs *regs)
{
  panic_regs(regs, "kernel stack overflow: sp %p, stack is [%p, %p)",
             (void *)regs->sp, (void *)myproc()->kstack_base,
             (void *)myproc()->kstack_top);
}

// Leave for user mode for the first time on this stack (fork child, or
// the first process after exec).
void
return_to_user(void)
{
  if(killed(myproc()))
    exit(-1);
  user_trap_return();
  enter_user(myproc()->regs);
}
