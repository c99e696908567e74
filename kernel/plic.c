// plic.c: the platform-level interrupt controller. Each hart's S-mode
// context receives the UART and virtio interrupts. On QEMU virt the
// S-mode context of hart h is 2*h+1 (context 2*h is its M mode).
// Register offsets from the RISC-V PLIC specification.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

#define PLIC_PRIORITY(irq)   (PLIC + 4 * (irq))
#define PLIC_ENABLE(ctx)     (PLIC + 0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx)  (PLIC + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)      (PLIC + 0x200004 + 0x1000 * (ctx))

#define W32(addr) (*(volatile uint32 *)(addr))

static int
s_context(void)
{
  return 2 * mycpu()->hartid + 1;
}

// Give the devices' interrupts a non-zero priority (0 disables them).
void
plic_init(void)
{
  W32(PLIC_PRIORITY(UART0_IRQ)) = 1;
  W32(PLIC_PRIORITY(VIRTIO0_IRQ)) = 1;
}

// Route the device interrupts to this hart's S mode.
void
plic_init_hart(void)
{
  int ctx = s_context();
  W32(PLIC_ENABLE(ctx)) = (1 << UART0_IRQ) | (1 << VIRTIO0_IRQ);
  W32(PLIC_THRESHOLD(ctx)) = 0;
}

// Which device interrupted? 0 if none (another hart took it).
int
plic_claim(void)
{
  return W32(PLIC_CLAIM(s_context()));
}

// Tell the PLIC this hart has served irq.
void
plic_complete(int irq)
{
  W32(PLIC_CLAIM(s_context())) = irq;
}
