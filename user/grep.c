// grep: print the lines of files (or the standard input) that match a
// simple regular expression: c matches itself, . any character, x*
// zero or more x, ^ at the start and $ at the end anchor the match,
// and \c is c taken literally.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

#define MAXITEMS 128
#define MAXSTARS 16   // each * is a level of recursion on a small stack

// The compiled pattern: one item per character to match.
struct item {
  char c;     // the character, if not any
  char any;   // '.': matches every character
  char star;  // followed by '*': repeat zero or more times
};

static struct item items[MAXITEMS];
static int nitems;
static int anchor_start, anchor_end;

// Compile pattern re into items. Returns -1 if it is too long or has
// too many stars.
static int
compile(const char *re)
{
  struct item *it;
  int stars = 0;

  anchor_start = anchor_end = 0;
  nitems = 0;
  if(*re == '^'){
    anchor_start = 1;
    re++;
  }
  while(*re){
    if(re[0] == '$' && re[1] == 0){
      anchor_end = 1;
      break;
    }
    if(nitems == MAXITEMS)
      return -1;
    it = &items[nitems++];
    it->any = (*re == '.');
    if(*re == '\\' && re[1])
      re++;
    it->c = *re++;
    it->star = (*re == '*');
    if(it->star && ++stars > MAXSTARS)
      return -1;
    if(it->star)
      re++;
  }
  return 0;
}

static int
fits(struct item *it, char c)
{
  return it->any || it->c == c;
}

// Does the pattern from item i on match the text at s?
static int
matchfrom(int i, const char *s)
{
  const char *t;

  for(; i < nitems; i++){
    if(items[i].star){
      // Take as many as possible, then give back one at a time.
      for(t = s; *t && fits(&items[i], *t); t++)
        ;
      for(; t >= s; t--)
        if(matchfrom(i + 1, t))
          return 1;
      return 0;
    }
    if(*s == 0 || !fits(&items[i], *s))
      return 0;
    s++;
  }
  return !anchor_end || *s == 0;
}

static int
match(const char *line)
{
  const char *s = line;

  if(anchor_start)
    return matchfrom(0, s);
  do {
    if(matchfrom(0, s))
      return 1;
  } while(*s++);
  return 0;
}

static char buf[1024];

// Test the line at line..end (end is its newline, or one past its last
// byte) and print it if it matches. Returns 1 for a match.
static int
doline(char *line, char *end, const char *prefix)
{
  char saved = *end;
  int m;

  *end = 0;
  m = match(line);
  *end = saved;
  if(m){
    if(prefix)
      printf("%s:", prefix);
    write(1, line, end - line);
    write(1, "\n", 1);
  }
  return m;
}

// Print the matching lines of fd. Returns the number of matches.
static int
grep(int fd, const char *prefix)
{
  int n, len = 0, found = 0;
  char *line, *nl;

  for(;;){
    n = read(fd, buf + len, sizeof(buf) - 1 - len);
    if(n <= 0)
      break;
    len += n;
    buf[len] = 0;
    line = buf;
    while((nl = strchr(line, '\n')) != 0){
      found += doline(line, nl, prefix);
      line = nl + 1;
    }
    len -= line - buf;
    if(len == sizeof(buf) - 1){
      // A line longer than the buffer: test what we have of it.
      found += doline(buf, buf + len, prefix);
      len = 0;
    }
    memmove(buf, line, len);
  }
  if(len > 0)
    found += doline(buf, buf + len, prefix);
  return found;
}

int
main(int argc, char *argv[])
{
  int fd, i, found = 0;

  if(argc < 2){
    fprintf(2, "usage: grep pattern [file ...]\n");
    return 2;
  }
  if(compile(argv[1]) < 0){
    fprintf(2, "grep: pattern too long or too many *\n");
    return 2;
  }
  if(argc == 2)
    return grep(0, 0) == 0;
  for(i = 2; i < argc; i++){
    if((fd = open(argv[i], O_RDONLY)) < 0){
      fprintf(2, "grep: cannot open %s\n", argv[i]);
      return 2;
    }
    found += grep(fd, argc > 3 ? argv[i] : 0);
    close(fd);
  }
  return found == 0;
}
