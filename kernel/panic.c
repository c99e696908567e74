// panic.c: what the kernel prints when it gives up: the message, the trap
// registers (scause in words), the hart and task, and a backtrace whose
// addresses are named from the symbol table linked into the kernel
// (scripts/ksyms.sh). Then the hart stops; the other harts stop at their
// next interrupt.
#include <stdarg.h>
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/asm-offsets.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

void vprintf_unlocked(const char *fmt, va_list ap);

// Symbol table: ksyms_count entries, addresses ascending; the name of
// entry i starts at ksyms_names + ksyms_name_offsets[i].
extern const uint64 ksyms_count;
extern const uint64 ksyms_addrs[] __attribute__((weak));
extern const uint32 ksyms_name_offsets[] __attribute__((weak));
extern const char ksyms_names[] __attribute__((weak));
extern char _kernel_start[], _etext[], boot_stacks[];
extern const uint64 kernel_trap_ret;   // trapentry.S

static const char *exception_names[] = {
  [EXC_INST_MISALIGNED]  = "instruction address misaligned",
  [EXC_INST_ACCESS]      = "instruction access fault",
  [EXC_ILLEGAL_INST]     = "illegal instruction",
  [EXC_BREAKPOINT]       = "breakpoint",
  [EXC_LOAD_MISALIGNED]  = "load address misaligned",
  [EXC_LOAD_ACCESS]      = "load access fault",
  [EXC_STORE_MISALIGNED] = "store address misaligned",
  [EXC_STORE_ACCESS]     = "store access fault",
  [EXC_ECALL_U]          = "environment call from U-mode",
  [EXC_ECALL_S]          = "environment call from S-mode",
  [EXC_INST_PAGE_FAULT]  = "instruction page fault",
  [EXC_LOAD_PAGE_FAULT]  = "load page fault",
  [EXC_STORE_PAGE_FAULT] = "store page fault",
};

// scause in words, e.g. "load page fault" or "timer interrupt".
const char *
scause_name(uint64 scause)
{
  if(scause & SCAUSE_INTR){
    switch(scause & ~SCAUSE_INTR){
    case IRQ_S_SOFT:  return "software interrupt";
    case IRQ_S_TIMER: return "timer interrupt";
    case IRQ_S_EXT:   return "external interrupt";
    }
    return "unknown interrupt";
  }
  if(scause < NELEM(exception_names) && exception_names[scause])
    return exception_names[scause];
  return "unknown exception";
}

// Find the function containing addr. Returns its name and sets *off, or
// returns 0 if addr is not in kernel text.
static const char *
ksym_lookup(uint64 addr, uint64 *off)
{
  if(addr < (uint64)_kernel_start || addr >= (uint64)_etext || ksyms_count == 0)
    return 0;
  int lo = 0, hi = ksyms_count - 1;
  if(addr < ksyms_addrs[0])
    return 0;
  while(lo < hi){   // last entry with address <= addr
    int mid = (lo + hi + 1) / 2;
    if(ksyms_addrs[mid] <= addr)
      lo = mid;
    else
      hi = mid - 1;
  }
  *off = addr - ksyms_addrs[lo];
  return ksyms_names + ksyms_name_offsets[lo];
}

static void
print_symbol(int frame, uint64 pc)
{
  uint64 off;
  const char *name = ksym_lookup(pc, &off);
  if(name)
    printf("  #%d %p %s+0x%lx\n", frame, (void *)pc, name, off);
  else
    printf("  #%d %p ?\n", frame, (void *)pc);
}

// Is [fp-16, fp) inside the stack the current task runs on?
static int
frame_ok(uint64 fp)
{
  struct proc *p = myproc();
  uint64 lo = p->kstack_base, hi = p->kstack_top;
  if(lo == 0){   // still on a boot stack
    lo = (uint64)boot_stacks;
    hi = lo + BOOT_STACK_SIZE * NCPU;
  }
  return (fp & 7) == 0 && fp >= lo + 16 && fp <= hi;
}

// Save up to n return addresses (call sites) of the frames above frame
// fp, innermost first; returns how many. For reports that name where
// something happened without stopping there (lockdep.c).
int
save_stack_trace(uint64 fp, uint64 *pcs, int n)
{
  int i = 0;
  while(i < n && frame_ok(fp)){
    uint64 ret = *(uint64 *)(fp - 8);
    uint64 next = *(uint64 *)(fp - 16);
    pcs[i++] = ret - 4;
    if(next <= fp)
      break;
    fp = next;
  }
  return i;
}

// Print pc as function+offset, without a newline.
void
print_ksym(uint64 pc)
{
  uint64 off;
  const char *name = ksym_lookup(pc, &off);
  if(name)
    printf("%s+0x%lx", name, off);
  else
    printf("%p", (void *)pc);
}

#define BACKTRACE_MAX_LINES 32   // frames printed; the rest are counted

// What the walk has printed so far.
struct bt_state {
  int frame;      // number of the next frame
  int lines;      // distinct frames seen (printed up to the limit)
  uint64 last;    // pc of the previous frame
  int repeats;    // frames since then with the same pc, not printed
};

// Print the end of a run of identical frames (a recursion).
static void
flush_repeats(struct bt_state *bt)
{
  if(bt->repeats && bt->lines <= BACKTRACE_MAX_LINES)
    printf("  ... the same frame %d more times\n", bt->repeats);
  bt->repeats = 0;
}

// Print frame pc, or fold it into the line before when it is the same
// call site again.
static void
print_frame(struct bt_state *bt, uint64 pc)
{
  int n = bt->frame++;
  if(pc == bt->last){
    bt->repeats++;
    return;
  }
  flush_repeats(bt);
  bt->last = pc;
  if(bt->lines++ < BACKTRACE_MAX_LINES)
    print_symbol(n, pc);
}

// Print the function that a trap interrupted at pc, with the return
// address ra and frame pointer fp it had then. With
// -fno-omit-frame-pointer, fp-8 holds a function's return address and
// fp-16 its caller's frame pointer; but a leaf function saves no return
// address, and its fp-8 holds the caller's frame pointer instead. Its
// return address is then still in ra (Linux's walk_stackframe makes the
// same check). Returns the frame pointer to go on from.
static uint64
print_trapped(struct bt_state *bt, uint64 pc, uint64 ra, uint64 fp)
{
  print_frame(bt, pc);
  uint64 saved = frame_ok(fp) ? *(uint64 *)(fp - 8) : 0;
  if(saved > fp && frame_ok(saved)){   // a leaf: saved is a frame pointer
    print_frame(bt, ra - 4);
    return saved;
  }
  return fp;
}

// Print the chain of return addresses from frame pointer fp, or, if pc is
// not 0, from a trap at pc. A frame that returns into trap_entry belongs
// to kernel_trap, whose frame pointer is the address of the trap's
// pt_regs: the walk goes on in the code that trap interrupted, so a panic
// in a fault handler shows what faulted too.
static void
walk_frames(uint64 pc, uint64 ra, uint64 fp)
{
  struct bt_state bt = { 0 };
  printf("backtrace:\n");
  if(pc)
    fp = print_trapped(&bt, pc, ra, fp);
  // Frame pointers only go up and a stack holds KSTACK_SIZE/16 frames at
  // most: the walk ends.
  while(bt.frame < KSTACK_SIZE / 16 && frame_ok(fp)){
    uint64 ret = *(uint64 *)(fp - 8);
    uint64 next = *(uint64 *)(fp - 16);
    if(next == 0)
      break;   // a task's first function: its ra is not a call site
    print_frame(&bt, ret - 4);   // the call, not the instruction after it
    if(ret == kernel_trap_ret){
      struct pt_regs *r = (struct pt_regs *)fp;
      flush_repeats(&bt);
      if(bt.lines < BACKTRACE_MAX_LINES)
        printf("  -- %s at sepc %p, stval %p --\n", scause_name(r->cause),
               (void *)r->epc, (void *)r->tval);
      next = print_trapped(&bt, r->epc, r->ra, r->s0);
    }
    if(next <= fp)
      break;
    fp = next;
  }
  flush_repeats(&bt);
  if(bt.lines > BACKTRACE_MAX_LINES)
    printf("  ... %d more frames not shown\n", bt.lines - BACKTRACE_MAX_LINES);
}

void
backtrace(uint64 fp)
{
  walk_frames(0, 0, fp);
}

static void
print_header(void)
{
  struct proc *p = myproc();
  printf("hart %d (cpu %d), task %d \"%s\"%s\n", mycpu()->hartid, mycpu()->id,
         p->pid, p->name, p->mm ? "" : " (kernel thread)");
}

static void
print_regs(struct pt_regs *r)
{
  printf("scause %p (%s)\n", (void *)r->cause, scause_name(r->cause));
  printf("sepc   %p  stval %p  sstatus %p\n", (void *)r->epc, (void *)r->tval,
         (void *)r->status);
  uint64 *x = (uint64 *)r;
  static const char *names[32] = {
    "pc", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1",
    "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
    "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6" };
  for(int i = 1; i < 32; i++)
    printf("%3s %p%s", names[i], (void *)x[i], i % 4 == 3 ? "\n" : "  ");
  printf("\n");
}

static void __attribute__((noreturn))
halt(void)
{
  for(;;)
    asm volatile("wfi");
}

// Stop this hart's interrupts, tell the others (they stop at their next
// interrupt), and print the message and the hart and task it happened on.
static void
begin_panic(const char *fmt, va_list ap)
{
  intr_off();
  panicking = 1;
  printf("\npanic: ");
  vprintf_unlocked(fmt, ap);
  printf("\n");
  print_header();
}

void
panic(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  begin_panic(fmt, ap);
  va_end(ap);
  backtrace(r_fp());
  halt();
}

// Panic for a trap the kernel cannot handle: also print the registers
// saved at the trap, and the backtrace from where the trap happened.
void
panic_regs(struct pt_regs *regs, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  begin_panic(fmt, ap);
  va_end(ap);
  print_regs(regs);
  walk_frames(regs->epc, regs->ra, regs->s0);
  halt();
}
