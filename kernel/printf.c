// printf.c: formatted output for the kernel: printf to the console and
// snprintf to a buffer, sharing one formatter. Supports %d %u %x %p %s %c
// %% with l/ll, a field width and 0-padding.
//
// A lock keeps lines from different harts apart; a panicking hart skips it
// so that it can always print.
#include <stdarg.h>
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/spinlock.h"
#include "kernel/defs.h"

volatile int panicking;
static struct spinlock print_lock;

// Where formatted characters go.
struct sink {
  void (*put)(struct sink *s, char c);
  char *buf;
  int size, len;
};

static void
put_console(struct sink *s, char c)
{
  console_putc(c);
  s->len++;
}

static void
put_buffer(struct sink *s, char c)
{
  if(s->len < s->size - 1)
    s->buf[s->len] = c;
  s->len++;
}

static void
put_number(struct sink *s, uint64 v, int base, int neg, int width, char pad)
{
  static const char digits[] = "0123456789abcdef";
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while(v);
  if(neg)
    tmp[n++] = '-';
  for(int i = n; i < width; i++)
    s->put(s, pad);
  while(n > 0)
    s->put(s, tmp[--n]);
}

static void
format(struct sink *s, const char *fmt, va_list ap)
{
  for(; *fmt; fmt++){
    if(*fmt != '%'){
      s->put(s, *fmt);
      continue;
    }
    fmt++;
    char pad = ' ';
    int width = 0, longs = 0;
    if(*fmt == '0')
      pad = '0';
    while(*fmt >= '0' && *fmt <= '9')
      width = width * 10 + (*fmt++ - '0');
    while(*fmt == 'l'){
      longs++;
      fmt++;
    }
    switch(*fmt){
    case 'd': {
      int64 v = longs ? va_arg(ap, int64) : va_arg(ap, int);
      put_number(s, v < 0 ? -(uint64)v : v, 10, v < 0, width, pad);
      break;
    }
    case 'u':
      put_number(s, longs ? va_arg(ap, uint64) : va_arg(ap, uint), 10, 0, width, pad);
      break;
    case 'x':
      put_number(s, longs ? va_arg(ap, uint64) : va_arg(ap, uint), 16, 0, width, pad);
      break;
    case 'p':
      s->put(s, '0');
      s->put(s, 'x');
      put_number(s, va_arg(ap, uint64), 16, 0, 16, '0');
      break;
    case 's': {
      const char *str = va_arg(ap, const char *);
      if(str == 0)
        str = "(null)";
      int n = strlen(str);
      for(int i = n; i < width; i++)
        s->put(s, ' ');
      while(*str)
        s->put(s, *str++);
      break;
    }
    case 'c':
      s->put(s, va_arg(ap, int));
      break;
    case '%':
      s->put(s, '%');
      break;
    case 0:
      return;
    default:
      s->put(s, '%');
      s->put(s, *fmt);
    }
  }
}

int
printf(const char *fmt, ...)
{
  struct sink s = { .put = put_console };
  va_list ap;
  int locked = !panicking;
  if(locked)
    acquire(&print_lock);
  va_start(ap, fmt);
  format(&s, fmt, ap);
  va_end(ap);
  if(locked)
    release(&print_lock);
  return s.len;
}

// Format into buf (always NUL-terminated). Returns the length the whole
// output would have.
int
snprintf(char *buf, int size, const char *fmt, ...)
{
  struct sink s = { .put = put_buffer, .buf = buf, .size = size };
  va_list ap;
  va_start(ap, fmt);
  format(&s, fmt, ap);
  va_end(ap);
  if(size > 0)
    buf[s.len < size ? s.len : size - 1] = 0;
  return s.len;
}

// vprintf for panic.c, which holds no lock while panicking.
void
vprintf_unlocked(const char *fmt, va_list ap)
{
  struct sink s = { .put = put_console };
  format(&s, fmt, ap);
}

void
printf_init(void)
{
  initlock(&print_lock, "printf");
}
