// wc: count the lines, words and bytes of files or the standard input.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "user/user.h"

static char buf[512];

static int
isspace(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v';
}

// Count fd and print the counts with name. Returns 0, or -1 on error.
static int
wc(int fd, char *name)
{
  int i, n, lines = 0, words = 0, bytes = 0, inword = 0;

  while((n = read(fd, buf, sizeof(buf))) > 0){
    bytes += n;
    for(i = 0; i < n; i++){
      if(buf[i] == '\n')
        lines++;
      if(isspace(buf[i])){
        inword = 0;
      } else if(!inword){
        inword = 1;
        words++;
      }
    }
  }
  if(n < 0){
    fprintf(2, "wc: read error on %s\n", name);
    return -1;
  }
  printf("%d %d %d%s%s\n", lines, words, bytes, *name ? " " : "", name);
  return 0;
}

int
main(int argc, char *argv[])
{
  int fd, i, status = 0;

  if(argc < 2)
    return wc(0, "") < 0;
  for(i = 1; i < argc; i++){
    if((fd = open(argv[i], O_RDONLY)) < 0){
      fprintf(2, "wc: cannot open %s\n", argv[i]);
      return 1;
    }
    if(wc(fd, argv[i]) < 0)
      status = 1;
    close(fd);
  }
  return status;
}
