// main.c: boot. entry.S turned the MMU on with early_pgd and called
// start_kernel on the boot hart (any hart id; it becomes cpu 0).
// start_kernel builds kernel_pagetable (the template) and init_mm's root
// copied from it, moves onto that root, sets up every subsystem, creates
// the first task, then starts the other harts with SBI HSM. Every hart
// leaves early_pgd for init_mm's root, never for the template
// (invariant 2), and ends in its idle task.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"

volatile int kernel_booted;
static volatile int harts_up;

extern char secondary_start[];

// Make idle_tasks[id] the current task of cpu id, hart hartid: from now
// on myproc() and mycpu() work on this hart. It borrows init_mm once
// init_mm has a root (mm_borrow_init).
static void
become_idle_task(int id, uint64 hartid)
{
  struct cpu *c = &cpus[id];
  struct proc *idle = &idle_tasks[id];
  c->id = id;
  c->hartid = hartid;
  c->idle = idle;
  c->curr = idle;
  idle->cpu = c;
  idle->state = RUNNING;
  snprintf(idle->name, sizeof(idle->name), "idle/%d", id);
  asm volatile("mv tp, %0" :: "r"(idle));
}

// Start hart hartid as cpu id with SBI HSM hart_start. A hart that
// OpenSBI wrongly sent to _start is still on its way back to STOPPED
// (entry.S), and SBI says "already available" (or "invalid" while it is
// between states): try again for up to a second.
static int
start_hart(uint64 hartid, int id)
{
  uint64 give_up = r_time() + TIMEBASE_HZ;
  for(;;){
    int err = sbi_hart_start(hartid, __pa(secondary_start), id);
    if(err == 0 || (err != SBI_ERR_ALREADY_AVAILABLE && err != SBI_ERR_INVALID_PARAM) ||
       r_time() > give_up)
      return err;
  }
}

// Start every other hart the device tree lists; they enter at
// secondary_start with a1 = their cpu index.
static void
start_secondaries(uint64 boot_hartid)
{
  int id = 1;
  for(int i = 0; i < fdt_nharts; i++){
    uint64 hartid = fdt_hartids[i];
    if(hartid == boot_hartid)
      continue;
    cpus[id].hartid = hartid;
    int err = start_hart(hartid, id);
    if(err){
      printf("canopy: hart %d did not start (SBI error %d)\n", (int)hartid, err);
      continue;
    }
    id++;
  }
  ncpu = id;
  while(harts_up < ncpu - 1)
    ;
}

void
start_kernel(uint64 hartid, uint64 dtb_pa)
{
  become_idle_task(0, hartid);
  printf_init();
  console_init();
  printf("\ncanopy: booting on hart %d\n", (int)hartid);
  fdt_parse(dtb_pa);

  kinit();
  kvminit();        // the template's direct map
  vmalloc_init();   // and, with VMSYNC=prealloc, its vmalloc entries
  mm_init();        // init_mm's root, copied from the finished template
  asid_init();      // how many ASID bits satp has
  mm_borrow_init(mycpu()->idle);   // leave early_pgd for init_mm's root
  proc_init();
  kstack_init();
  trap_init_hart();
  plic_init();
  plic_init_hart();
  binit();
  iinit();
  fileinit();
  virtio_disk_init();
  userinit();
  start_secondaries(hartid);
  printf("canopy: %d harts, %ld MiB RAM, %ld pages free\n", ncpu,
         (ram_end - ram_start) >> 20, nr_free_pages());
  printf("canopy: template kernel_pagetable at pa %p, init_mm's root at pa %p\n",
         (void *)__pa(kernel_pagetable), (void *)__pa(init_mm.pgd));
  kernel_booted = 1;
  sched_init_hart(0);
}

void
start_secondary(uint64 hartid, uint64 unused, uint64 id)
{
  become_idle_task(id, hartid);
  mm_borrow_init(mycpu()->idle);
  trap_init_hart();
  plic_init_hart();
  __sync_fetch_and_add(&harts_up, 1);
  while(!kernel_booted)
    ;
  sched_init_hart(id);
}
