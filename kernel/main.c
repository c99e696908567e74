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

// Start hart hartid as cpu id with SBI HSM hart_start, and wait until it
// has arrived (harts_up reaches id). Returns 0, or the SBI error that
// says it cannot start. Two firmware races need care, both seen on a
// loaded host with OpenSBI v1.1. A hart that OpenSBI wrongly sent to
// _start is still on its way back to STOPPED (entry.S), and SBI says
// "already available" (or "invalid" while it is between states); and a
// hart_start that SBI accepted can be lost, leaving the hart waiting in
// the firmware for ever (1 boot in 67 with two busy loops on the host;
// the boot hart then hung in this wait). So ask again every 0.2 s until
// the hart is here: SBI answers "already available" while it is on its
// way, and starts it if it is still stopped.
static int
start_hart(uint64 hartid, int id)
{
  for(uint64 give_up = r_time() + 10 * TIMEBASE_HZ; r_time() < give_up; ){
    int err = sbi_hart_start(hartid, __pa(secondary_start), id);
    if(err && err != SBI_ERR_ALREADY_AVAILABLE && err != SBI_ERR_INVALID_PARAM)
      return err;
    for(uint64 again = r_time() + TIMEBASE_HZ / 5; r_time() < again; ){
      if(__atomic_load_n(&harts_up, __ATOMIC_ACQUIRE) >= id)
        return 0;
      spin_relax();   // else under -icount the hart never leaves the firmware
    }
  }
  panic("start_hart: hart %d accepted hart_start but did not arrive in 10 s", (int)hartid);
}

// Start every other hart the device tree lists, one at a time; they enter
// at secondary_start with a1 = their cpu index.
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
  __atomic_fetch_add(&harts_up, 1, __ATOMIC_RELEASE);
  while(!kernel_booted)
    spin_relax();
  sched_init_hart(id);
}
