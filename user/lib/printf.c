// printf.c: formatted output for user programs: printf and fprintf.
// Conversions %d %u %x %p %s %c %% with l and ll, a field width, and the
// '0' (zero pad) and '-' (left justify) flags. Each call collects its
// output in a buffer and writes it with one write() when it fits, so
// lines printed by concurrent processes do not interleave.
#include <stdarg.h>
#include "kernel/types.h"
#include "user/user.h"

#define OUTBUF 256

struct out {
  int fd;
  int n;             // bytes in buf
  char buf[OUTBUF];
};

static void
flush(struct out *o)
{
  if(o->n > 0)
    write(o->fd, o->buf, o->n);
  o->n = 0;
}

static void
putc(struct out *o, char c)
{
  if(o->n == OUTBUF)
    flush(o);
  o->buf[o->n++] = c;
}

static void
pad(struct out *o, char c, int n)
{
  while(n-- > 0)
    putc(o, c);
}

// Print the string s in a field of width characters (0: no field).
static void
putstr(struct out *o, const char *s, int width, int left)
{
  int len = strlen(s);

  if(!left)
    pad(o, ' ', width - len);
  while(*s)
    putc(o, *s++);
  if(left)
    pad(o, ' ', width - len);
}

// Print x in base 10 or 16; neg says a '-' goes in front. With zero,
// the field is filled with zeros after the sign instead of spaces.
static void
putnum(struct out *o, uint64 x, int base, int neg, int width, int zero,
       int left)
{
  static const char digits[] = "0123456789abcdef";
  char tmp[24];
  int i = 0, len;

  do {
    tmp[i++] = digits[x % base];
    x /= base;
  } while(x != 0);
  len = i + neg;

  if(!left && !zero)
    pad(o, ' ', width - len);
  if(neg)
    putc(o, '-');
  if(!left && zero)
    pad(o, '0', width - len);
  while(i > 0)
    putc(o, tmp[--i]);
  if(left)
    pad(o, ' ', width - len);
}

// Fetch an integer argument of the size the length modifier says.
static uint64
getarg(va_list *ap, int lng, int sgn)
{
  if(lng > 0)
    return sgn ? (uint64)va_arg(*ap, long) : va_arg(*ap, unsigned long);
  return sgn ? (uint64)(long)va_arg(*ap, int) : va_arg(*ap, unsigned int);
}

// ap is passed by pointer so that the va_list is shared with getarg on
// every ABI (on some, va_list is an array and cannot be passed on).
static void
vprintf(int fd, const char *fmt, va_list *ap)
{
  struct out o;
  int width, zero, left, lng;
  int64 v;
  char *s;

  o.fd = fd;
  o.n = 0;
  for(; *fmt; fmt++){
    if(*fmt != '%'){
      putc(&o, *fmt);
      continue;
    }
    fmt++;
    zero = left = width = lng = 0;
    for(; *fmt == '0' || *fmt == '-'; fmt++){
      if(*fmt == '0')
        zero = 1;
      else
        left = 1;
    }
    for(; *fmt >= '0' && *fmt <= '9'; fmt++)
      width = width * 10 + (*fmt - '0');
    for(; *fmt == 'l'; fmt++)
      lng++;

    switch(*fmt){
    case 'd':
      v = getarg(ap, lng, 1);
      putnum(&o, v < 0 ? -(uint64)v : v, 10, v < 0, width, zero, left);
      break;
    case 'u':
      putnum(&o, getarg(ap, lng, 0), 10, 0, width, zero, left);
      break;
    case 'x':
      putnum(&o, getarg(ap, lng, 0), 16, 0, width, zero, left);
      break;
    case 'p':
      putstr(&o, "0x", 0, 0);
      putnum(&o, (uint64)va_arg(*ap, void*), 16, 0, 16, 1, 0);
      break;
    case 's':
      s = va_arg(*ap, char*);
      putstr(&o, s ? s : "(null)", width, left);
      break;
    case 'c':
      pad(&o, ' ', left ? 0 : width - 1);
      putc(&o, va_arg(*ap, int));
      pad(&o, ' ', left ? width - 1 : 0);
      break;
    case '%':
      putc(&o, '%');
      break;
    case 0:
      // A lone '%' at the end of the format.
      putc(&o, '%');
      fmt--;
      break;
    default:
      // Unknown conversion: print it as it was written.
      putc(&o, '%');
      putc(&o, *fmt);
      break;
    }
  }
  flush(&o);
}

void
fprintf(int fd, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vprintf(fd, fmt, &ap);
  va_end(ap);
}

void
printf(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vprintf(1, fmt, &ap);
  va_end(ap);
}
