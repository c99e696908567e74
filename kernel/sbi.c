// sbi.c: calls into OpenSBI, the M-mode firmware, through ecall.
// Extension and function ids are from the RISC-V SBI specification v1.0.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/defs.h"

#define SBI_EXT_TIME   0x54494D45   // "TIME"
#define SBI_EXT_IPI    0x735049     // "sPI"
#define SBI_EXT_HSM    0x48534D     // "HSM"
#define SBI_EXT_SRST   0x53525354   // "SRST"

struct sbiret {
  long error;
  long value;
};

static struct sbiret
sbi_call(uint64 ext, uint64 fid, uint64 arg0, uint64 arg1, uint64 arg2,
         uint64 arg3, uint64 arg4)
{
  register uint64 a0 asm("a0") = arg0;
  register uint64 a1 asm("a1") = arg1;
  register uint64 a2 asm("a2") = arg2;
  register uint64 a3 asm("a3") = arg3;
  register uint64 a4 asm("a4") = arg4;
  register uint64 a6 asm("a6") = fid;
  register uint64 a7 asm("a7") = ext;
  asm volatile("ecall"
               : "+r"(a0), "+r"(a1)
               : "r"(a2), "r"(a3), "r"(a4), "r"(a6), "r"(a7)
               : "memory");
  return (struct sbiret){ .error = a0, .value = a1 };
}

// Ask for a timer interrupt on this hart when the time CSR reaches stime.
void
sbi_set_timer(uint64 stime)
{
  sbi_call(SBI_EXT_TIME, 0, stime, 0, 0, 0, 0);
}

// Make a supervisor software interrupt pending on the harts in hart_mask
// (bit n = hart id n). Returns without waiting for them.
void
sbi_send_ipi(uint64 hart_mask)
{
  sbi_call(SBI_EXT_IPI, 0, hart_mask, 0, 0, 0, 0);
}

// Start a stopped hart at physical address start_pa with a1 = opaque.
// Returns 0 on success, the SBI error code otherwise.
int
sbi_hart_start(uint64 hartid, uint64 start_pa, uint64 opaque)
{
  return sbi_call(SBI_EXT_HSM, 0, hartid, start_pa, opaque, 0, 0).error;
}

// Power the machine off (QEMU exits).
void
sbi_shutdown(void)
{
  sbi_call(SBI_EXT_SRST, 0, 0 /* shutdown */, 0 /* no reason */, 0, 0, 0);
  for(;;)
    asm volatile("wfi");
}
