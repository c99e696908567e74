// kstat: print the kernel's counters (kernel/kstat.h), summed over harts.
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
};

int
main(void)
{
  for(int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    printf("%s %ld\n", names[i], kstat(i));
  exit(0);
}
