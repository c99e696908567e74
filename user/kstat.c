// kstat: print the kernel's counters (kernel/kstat.h).
//
//   kstat       one line per counter, summed over harts: "name value"
//   kstat -h    a table with the sum and each hart's own count of the
//               per-hart counters (satp writes, lazy switches, ...)
#include "kernel/types.h"
#include "kernel/kstat.h"
#include "user/user.h"

static const char *names[] = {
  [KSTAT_SATP_WRITES]   "satp_writes",
  [KSTAT_LAZY_SWITCHES] "lazy_switches",
  [KSTAT_VMALLOC_SYNCS] "vmalloc_syncs",
  [KSTAT_SWITCHES]      "context_switches",
  [KSTAT_TRAPS]         "traps",
  [KSTAT_NCPU]          "harts",
  [KSTAT_TICKS]         "ticks",
  [KSTAT_FREEPAGES]     "free_pages",
  [KSTAT_LAZY_ROOTS]    "lazy_roots",
  [KSTAT_TLB_FLUSHES]   "tlb_flushes",
  [KSTAT_UNFLUSHED_SYNCS] "unflushed_syncs",
  [KSTAT_IDLE_MM_DROPS] "idle_mm_drops",
  [KSTAT_TEMPLATE_SATP] "template_satp",
  [KSTAT_REMOTE_FENCES] "remote_fences",
  [KSTAT_FREE_SOON]     "free_soon",
  [KSTAT_TASKS]         "tasks",
  [KSTAT_MMS]           "mms",
  [KSTAT_VMALLOC_AREAS] "vmalloc_areas",
  [KSTAT_KERNEL_PT_PAGES] "kernel_pt_pages",
  [KSTAT_ASID_BITS]     "asid_bits",
  [KSTAT_ASID_ROLLOVERS] "asid_rollovers",
  [KSTAT_ASID_NOFLUSH]  "asid_noflush",
  [KSTAT_FULL_FLUSHES]  "full_flushes",
  [KSTAT_FENCE_HARTS]   "fence_harts",
  [KSTAT_STALE_ASID]    "stale_asid_loads",
  [KSTAT_MISSED_SHOOTDOWNS] "missed_shootdowns",
  [KSTAT_KPTI]          "kpti",
  [KSTAT_COW_FAULTS]    "cow_faults",
  [KSTAT_COW_COPIES]    "cow_copies",
  [KSTAT_SHARED_PAGES]  "shared_pages",
  [KSTAT_NR_FILES]      "open_files",
  [KSTAT_NR_INODES]     "inodes",
  [KSTAT_SYSCALLS]      "syscalls",
  [KSTAT_DISK_WRITES]   "disk_writes",
  [KSTAT_DISK_REQUESTS] "disk_requests",
  [KSTAT_KPTI_USER_RUNS] "kpti_user_runs",
  [KSTAT_KPTI_FLUSHES]  "kpti_flushes",
};

#define NCOUNTERS (sizeof(names) / sizeof(names[0]))

// The per-hart counters as a table: one row each, one column per hart.
// A counter the kernel keeps only as a whole (free_pages, ...) is left out.
static void
per_hart_table(void)
{
  int nharts = kstat(KSTAT_NCPU);

  printf("%-17s %9s", "counter", "total");
  for(int h = 0; h < nharts; h++)
    printf("   hart%d", h);
  printf("\n");
  for(int i = 0; i < NCOUNTERS; i++){
    if(names[i] == 0 || kstat(i + KSTAT_HART(0)) < 0)
      continue;
    printf("%-17s %9ld", names[i], kstat(i));
    for(int h = 0; h < nharts; h++)
      printf(" %7ld", kstat(i + KSTAT_HART(h)));
    printf("\n");
  }
}

int
main(int argc, char *argv[])
{
  if(argc == 2 && strcmp(argv[1], "-h") == 0){
    per_hart_table();
    exit(0);
  }
  if(argc != 1){
    fprintf(2, "usage: kstat [-h]\n");
    exit(1);
  }
  for(int i = 0; i < NCOUNTERS; i++)
    if(names[i])   // numbers not assigned yet have no name
      printf("%s %ld\n", names[i], kstat(i));
  exit(0);
}
