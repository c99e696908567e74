// string.c: the few C string and memory functions the kernel uses.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/defs.h"

void *
memset(void *dst, int c, uint64 n)
{
  uchar *d = dst;
  if((((uint64)d | n) & 7) == 0){
    uint64 v = (uchar)c;
    v |= v << 8;
    v |= v << 16;
    v |= v << 32;
    for(uint64 i = 0; i < n; i += 8)
      *(uint64 *)(d + i) = v;
    return dst;
  }
  for(uint64 i = 0; i < n; i++)
    d[i] = c;
  return dst;
}

int
memcmp(const void *a, const void *b, uint64 n)
{
  const uchar *p = a, *q = b;
  for(uint64 i = 0; i < n; i++)
    if(p[i] != q[i])
      return p[i] - q[i];
  return 0;
}

// Copy n bytes; the regions may overlap.
void *
memmove(void *dst, const void *src, uint64 n)
{
  uchar *d = dst;
  const uchar *s = src;
  if(s < d && s + n > d){
    while(n-- > 0)
      d[n] = s[n];
    return dst;
  }
  if((((uint64)d | (uint64)s | n) & 7) == 0){
    for(uint64 i = 0; i < n; i += 8)
      *(uint64 *)(d + i) = *(const uint64 *)(s + i);
    return dst;
  }
  for(uint64 i = 0; i < n; i++)
    d[i] = s[i];
  return dst;
}

// The compiler may emit calls to memcpy for structure copies.
void *
memcpy(void *dst, const void *src, uint64 n)
{
  return memmove(dst, src, n);
}

int
strncmp(const char *p, const char *q, uint n)
{
  for(; n > 0; n--, p++, q++){
    if(*p != *q)
      return (uchar)*p - (uchar)*q;
    if(*p == 0)
      return 0;
  }
  return 0;
}

char *
strncpy(char *s, const char *t, int n)
{
  char *r = s;
  while(n > 0 && *t){
    *s++ = *t++;
    n--;
  }
  while(n-- > 0)
    *s++ = 0;
  return r;
}

// Like strncpy, but the result is always NUL-terminated.
char *
safestrcpy(char *s, const char *t, int n)
{
  if(n <= 0)
    return s;
  int i = 0;
  for(; i < n - 1 && t[i]; i++)
    s[i] = t[i];
  s[i] = 0;
  return s;
}

int
strlen(const char *s)
{
  int n = 0;
  while(s[n])
    n++;
  return n;
}

// The number of bits set in x.
int
popcount(uint64 x)
{
  int n = 0;
  for(; x; x &= x - 1)
    n++;
  return n;
}
