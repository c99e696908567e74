// ulib.c: program entry (_start) and the small string and memory
// functions of the user C library (declared in user/user.h).
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

int main(int, char**);

// Where every program starts (the exec'd ELF entry; user.ld puts it at
// address 0). The kernel passes argc in a0 and argv in a1. Returning
// from main exits with main's value.
__attribute__((section(".text.start"), noreturn)) void
_start(int argc, char **argv)
{
  exit(main(argc, argv));
}

char*
strcpy(char *dst, const char *src)
{
  char *d = dst;

  while((*d++ = *src++) != 0)
    ;
  return dst;
}

int
strcmp(const char *p, const char *q)
{
  while(*p && *p == *q){
    p++;
    q++;
  }
  return (uchar)*p - (uchar)*q;
}

// Compare at most n characters of p and q.
int
strncmp(const char *p, const char *q, uint n)
{
  for(; n > 0; n--, p++, q++){
    if(*p != *q || *p == 0)
      return (uchar)*p - (uchar)*q;
  }
  return 0;
}

uint
strlen(const char *s)
{
  uint n = 0;

  while(s[n])
    n++;
  return n;
}

// Return a pointer to the first c in s, or 0 if there is none.
char*
strchr(const char *s, char c)
{
  for(; *s; s++){
    if(*s == c)
      return (char*)s;
  }
  return 0;
}

// The byte loops below are volatile so that gcc does not turn them back
// into calls to memset or memcpy, which would call themselves forever.
void*
memset(void *dst, int c, uint n)
{
  volatile uchar *d = dst;

  while(n-- > 0)
    *d++ = c;
  return dst;
}

// Copy n bytes; the areas may overlap.
void*
memmove(void *dst, const void *src, int n)
{
  volatile uchar *d = dst;
  const uchar *s = src;

  if(n <= 0 || d == s)
    return dst;
  if(s < d && s + n > d){
    // Overlap with dst above src: copy backwards.
    d += n;
    s += n;
    while(n-- > 0)
      *--d = *--s;
  } else {
    while(n-- > 0)
      *d++ = *s++;
  }
  return dst;
}

void*
memcpy(void *dst, const void *src, uint n)
{
  return memmove(dst, src, n);
}

int
memcmp(const void *a, const void *b, uint n)
{
  const uchar *p = a, *q = b;

  for(; n > 0; n--, p++, q++){
    if(*p != *q)
      return *p - *q;
  }
  return 0;
}

// Read a line (including its newline) into buf, at most max-1
// characters, and terminate it. At end of file buf is "".
char*
gets(char *buf, int max)
{
  int i = 0;
  char c;

  while(i + 1 < max){
    if(read(0, &c, 1) < 1)
      break;
    buf[i++] = c;
    if(c == '\n' || c == '\r')
      break;
  }
  buf[i] = 0;
  return buf;
}

// Fill *st with the status of the file at path. Returns 0, or -1 if the
// file cannot be opened.
int
stat(const char *path, struct stat *st)
{
  int fd, r;

  fd = open(path, O_RDONLY);
  if(fd < 0)
    return -1;
  r = fstat(fd, st);
  close(fd);
  return r;
}

// Decimal string to int, with an optional leading sign; stops at the
// first non-digit.
int
atoi(const char *s)
{
  int n = 0, neg = 0;

  while(*s == ' ' || *s == '\t')
    s++;
  if(*s == '-' || *s == '+')
    neg = *s++ == '-';
  while(*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return neg ? -n : n;
}
