// console.c: the console device (major CONSOLE): output to the UART,
// input gathered into lines with editing:
//   backspace/DEL  erase a character     ^U  erase the line
//   ^D             end of file           ^P  list the tasks (procdump)
// Readers sleep until a whole line (or ^D) is in the buffer.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/fs.h"
#include "kernel/file.h"
#include "kernel/proc.h"
#include "kernel/defs.h"

#define CTRL(x) ((x) - '@')
#define BACKSPACE 0x100
#define INPUT_SIZE 128

// The input buffer is a ring: [r, w) is ready for readers, [w, e) is the
// line being edited. Indexes only grow; use them modulo INPUT_SIZE.
static struct {
  struct spinlock lock;
  char buf[INPUT_SIZE];
  uint r, w, e;
} cons;

// Echo a character; BACKSPACE erases the one before the cursor.
void
console_putc(int c)
{
  if(c == BACKSPACE){
    uart_putc_sync('\b');
    uart_putc_sync(' ');
    uart_putc_sync('\b');
  } else {
    if(c == '\n')
      uart_putc_sync('\r');
    uart_putc_sync(c);
  }
}

static int
console_write(int user_src, uint64 src, int n)
{
  char chunk[64];
  int done = 0;
  while(done < n){
    int m = n - done < (int)sizeof(chunk) ? n - done : (int)sizeof(chunk);
    if(either_copyin(chunk, user_src, src + done, m) < 0)
      return done > 0 ? done : -1;   // a bad buffer: -1 if nothing went out
    for(int i = 0; i < m; i++)
      console_putc(chunk[i]);
    done += m;
  }
  return done;
}

// Copy up to n bytes of complete input lines to dst. Returns the count,
// 0 at end of file, -1 if the task was killed while waiting.
static int
console_read(int user_dst, uint64 dst, int n)
{
  int want = n;
  acquire(&cons.lock);
  while(n > 0){
    while(cons.r == cons.w){
      if(killed(myproc())){
        release(&cons.lock);
        return -1;
      }
      sleep(&cons.r, &cons.lock);
    }
    char c = cons.buf[cons.r++ % INPUT_SIZE];
    if(c == CTRL('D')){
      if(n < want)
        cons.r--;   // keep ^D so the next read returns 0
      break;
    }
    if(either_copyout(user_dst, dst++, &c, 1) < 0){
      cons.r--;                  // not delivered: leave it for the next read
      if(n == want){
        release(&cons.lock);
        return -1;
      }
      break;
    }
    n--;
    if(c == '\n')
      break;
  }
  release(&cons.lock);
  return want - n;
}

// Called by the UART interrupt for each input character.
void
console_intr(int c)
{
  acquire(&cons.lock);
  switch(c){
  case CTRL('P'):
    release(&cons.lock);
    procdump();
    return;
  case CTRL('U'):
    while(cons.e != cons.w && cons.buf[(cons.e - 1) % INPUT_SIZE] != '\n'){
      cons.e--;
      console_putc(BACKSPACE);
    }
    break;
  case CTRL('H'):
  case '\x7f':
    if(cons.e != cons.w){
      cons.e--;
      console_putc(BACKSPACE);
    }
    break;
  default:
    if(c == 0 || cons.e - cons.r >= INPUT_SIZE)
      break;
    if(c == '\r')
      c = '\n';
    if(c != CTRL('D'))
      console_putc(c);
    cons.buf[cons.e++ % INPUT_SIZE] = c;
    if(c == '\n' || c == CTRL('D') || cons.e - cons.r == INPUT_SIZE){
      cons.w = cons.e;   // a line is complete: wake readers
      wakeup(&cons.r);
    }
  }
  release(&cons.lock);
}

void
console_init(void)
{
  initlock(&cons.lock, "console");
  uart_init();
  devsw[CONSOLE].read = console_read;
  devsw[CONSOLE].write = console_write;
}
