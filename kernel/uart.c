// uart.c: the 16550 UART at UART0 (QEMU virt). Output is polled (QEMU's
// transmitter is always ready, so polling costs nothing); input raises
// IRQ UART0_IRQ and is passed to the console one character at a time.
// Register layout from the 16550 data sheet.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/defs.h"

#define RHR 0   // receive holding register (read)
#define THR 0   // transmit holding register (write)
#define IER 1   // interrupt enable
#define FCR 2   // FIFO control (write)
#define LCR 3   // line control
#define LSR 5   // line status
#define LSR_RX_READY (1 << 0)
#define LSR_TX_IDLE  (1 << 5)

static inline volatile uchar *
reg(int r)
{
  return (volatile uchar *)(UART0 + r);
}

void
uart_init(void)
{
  *reg(IER) = 0x00;            // no interrupts while we set up
  *reg(LCR) = 0x80;            // expose the baud-rate divisor latch
  *reg(0) = 0x03;              // divisor 3: 38400 baud
  *reg(1) = 0x00;
  *reg(LCR) = 0x03;            // 8 data bits, no parity, divisor latch off
  *reg(FCR) = 0x07;            // enable and clear both FIFOs
  *reg(IER) = 0x01;            // interrupt when a character arrives
}

// Send one character, waiting for the transmitter.
void
uart_putc_sync(int c)
{
  while((*reg(LSR) & LSR_TX_IDLE) == 0)
    ;
  *reg(THR) = c;
}

// The UART interrupted: hand every waiting input character to the console.
void
uart_intr(void)
{
  while(*reg(LSR) & LSR_RX_READY)
    console_intr(*reg(RHR));
}
