// sysproc.c: system calls about processes, time and the machine.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/kstat.h"
#include "kernel/defs.h"

uint64
sys_exit(void)
{
  int n;
  argint(0, &n);
  exit(n);
}

uint64
sys_getpid(void)
{
  return myproc()->pid;
}

uint64
sys_fork(void)
{
  return fork();
}

uint64
sys_wait(void)
{
  uint64 p;
  argaddr(0, &p);
  return wait(p);
}

// Move the break by n bytes (growing lazily or not); returns the old
// break, or -1.
static uint64
move_brk(int lazy)
{
  int n;
  argint(0, &n);
  uint64 old = myproc()->mm->brk;
  if(growproc(n, lazy) < 0)
    return -1;
  return old;
}

// sbrk(n): grow (or shrink) memory by n bytes; returns the old end, or -1.
uint64
sys_sbrk(void)
{
  return move_brk(0);
}

// sbrklazy(n): the same, but new pages are allocated at their first touch
// (newer xv6's sbrklazy).
uint64
sys_sbrklazy(void)
{
  return move_brk(1);
}

// sleep(n) (also called pause): wait n clock ticks (1/100 s each).
uint64
sys_sleep(void)
{
  int n;
  argint(0, &n);
  acquire(&tickslock);
  uint64 start = ticks;
  while(n > 0 && ticks - start < (uint64)n){
    if(killed(myproc())){
      release(&tickslock);
      return -1;
    }
    sleep(&ticks, &tickslock);
  }
  release(&tickslock);
  return 0;
}

uint64
sys_kill(void)
{
  int pid;
  argint(0, &pid);
  return kill(pid);
}

// Clock ticks since boot.
uint64
sys_uptime(void)
{
  acquire(&tickslock);
  uint64 t = ticks;
  release(&tickslock);
  return t;
}

// Power the machine off. Every completed system call has committed its
// log transaction already; log_sync() installs the committed blocks and
// empties the log, so the image needs no recovery (fsck checks that).
uint64
sys_poweroff(void)
{
  log_sync();
  printf("canopy: power off\n");
  sbi_shutdown();
}

uint64
sys_procinfo(void)
{
  uint64 addr;
  int max;
  argaddr(0, &addr);
  argint(1, &max);
  if(max <= 0)
    return -1;
  return procinfo(addr, max);
}

uint64
sys_freepages(void)
{
  return nr_free_pages();
}

// ptdump(pid, va): print pid's page table on the console; pid -1: the
// template; pid -2: a specimen root with a user page at va and kernel
// entries of every kind (docs/ptdump.md); va 1 with a pid: its user root
// (KPTI=1 only).
uint64
sys_ptdump(void)
{
  int pid;
  uint64 va;
  argint(0, &pid);
  argaddr(1, &va);
  if(pid == -1){
    ptdump_template();
    return 0;
  }
  if(pid == -2)
    return ptdump_specimen(va);
  if(va == 1)
    return ptdump_user_root(pid);
  return ptdump_pid(pid);
}

// The per-hart counter of c that kstat reports as what, or 0 if what is
// not a per-hart counter.
static uint64 *
cpu_counter(struct cpu *c, int what)
{
  switch(what){
  case KSTAT_SATP_WRITES:     return &c->nr_satp_writes;
  case KSTAT_LAZY_SWITCHES:   return &c->nr_lazy_switches;
  case KSTAT_VMALLOC_SYNCS:   return &c->nr_vmalloc_syncs;
  case KSTAT_SWITCHES:        return &c->nr_switches;
  case KSTAT_TRAPS:           return &c->nr_traps;
  case KSTAT_TLB_FLUSHES:     return &c->nr_tlb_flushes;
  case KSTAT_UNFLUSHED_SYNCS: return &c->nr_unflushed_syncs;
  case KSTAT_IDLE_MM_DROPS:   return &c->nr_idle_mm_drops;
  case KSTAT_TEMPLATE_SATP:   return &c->nr_template_satp;
  case KSTAT_REMOTE_FENCES:   return &c->nr_remote_fences;
  case KSTAT_ASID_NOFLUSH:    return &c->nr_asid_noflush;
  case KSTAT_FULL_FLUSHES:    return &c->nr_full_flushes;
  case KSTAT_FENCE_HARTS:     return &c->nr_fence_harts;
  case KSTAT_STALE_ASID:      return &c->nr_stale_asid_loads;
  case KSTAT_MISSED_SHOOTDOWNS: return &c->nr_missed_shootdowns;
  case KSTAT_SYSCALLS:        return &c->nr_syscalls;
  case KSTAT_KPTI_USER_RUNS:  return &c->nr_kpti_user_runs;
  case KSTAT_KPTI_FLUSHES:    return &c->nr_kpti_flushes;
  }
  return 0;
}

// kstat(what): a counter from kernel/kstat.h; per-hart ones summed over
// the harts, or one hart's when what includes KSTAT_HART(i). -1 for an
// unknown counter or hart.
uint64
sys_kstat(void)
{
  int what;
  argint(0, &what);
  int hart = (what >> 8) - 1;   // -1: all harts
  what &= 0xff;
  if(hart < -1 || hart >= ncpu)
    return -1;
  if(hart == -1){
    switch(what){
    case KSTAT_NCPU:       return ncpu;
    case KSTAT_TICKS:      return ticks;
    case KSTAT_FREEPAGES:  return nr_free_pages();
    case KSTAT_LAZY_ROOTS: return mm_nr_lazy_roots();
    case KSTAT_FREE_SOON:  return nr_free_soon_pages();
    case KSTAT_TASKS:      return nr_tasks();
    case KSTAT_MMS:        return mm_nr_in_use();
    case KSTAT_VMALLOC_AREAS: return vmalloc_nr_areas();
    case KSTAT_KERNEL_PT_PAGES: return vmalloc_nr_table_pages();
    case KSTAT_ASID_BITS:  return asid_bits;
#ifdef KPTI
    case KSTAT_KPTI:       return 1;
#else
    case KSTAT_KPTI:       return 0;
#endif
    case KSTAT_ASID_ROLLOVERS: return asid_nr_rollovers();
    case KSTAT_COW_FAULTS: return nr_cow_faults;
    case KSTAT_COW_COPIES: return nr_cow_copies;
    case KSTAT_SHARED_PAGES: return nr_shared_pages();
    case KSTAT_NR_FILES:   return file_nr_open();
    case KSTAT_NR_INODES:  return inode_nr_active();
    case KSTAT_DISK_WRITES: return virtio_disk_nwrites();
    case KSTAT_DISK_REQUESTS: return virtio_disk_nrequests();
    }
  }
  if(cpu_counter(&cpus[0], what) == 0)
    return -1;
  if(hart >= 0)
    return *cpu_counter(&cpus[hart], what);
  uint64 sum = 0;
  for(int i = 0; i < ncpu; i++)
    sum += *cpu_counter(&cpus[i], what);
  return sum;
}
