// ls: list directories and files: name, type, inode number, size.
// Types are printed as numbers: 1 directory, 2 file, 3 device.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"
#include "kernel/param.h"
#include "user/user.h"

static void
show(const char *name, struct stat *st)
{
  printf("%-14s %d %d %lu\n", name, st->type, st->ino, st->size);
}

// The last element of path ("a/b/c" -> "c").
static const char*
basename(const char *path)
{
  const char *p = path + strlen(path);

  while(p > path && p[-1] != '/')
    p--;
  return *p ? p : path;
}

// List the entries of the directory open as fd, whose name is path.
static int
lsdir(int fd, const char *path)
{
  static char buf[MAXPATH];
  struct dirent de;
  struct stat st;
  char *name;
  int n = strlen(path);

  if(n + 1 + DIRSIZ + 1 > sizeof(buf)){
    fprintf(2, "ls: path too long: %s\n", path);
    return -1;
  }
  strcpy(buf, path);
  name = buf + n;
  if(n > 0 && buf[n - 1] != '/')
    *name++ = '/';
  while(read(fd, &de, sizeof(de)) == sizeof(de)){
    if(de.inum == 0)
      continue;
    memmove(name, de.name, DIRSIZ);
    name[DIRSIZ] = 0;
    if(stat(buf, &st) < 0){
      fprintf(2, "ls: cannot stat %s\n", buf);
      continue;
    }
    show(name, &st);
  }
  return 0;
}

static int
ls(const char *path)
{
  struct stat st;
  int fd, r = 0;

  if((fd = open(path, O_RDONLY)) < 0){
    fprintf(2, "ls: cannot open %s\n", path);
    return -1;
  }
  if(fstat(fd, &st) < 0){
    fprintf(2, "ls: cannot stat %s\n", path);
    close(fd);
    return -1;
  }
  if(st.type == T_DIR)
    r = lsdir(fd, path);
  else
    show(basename(path), &st);
  close(fd);
  return r;
}

int
main(int argc, char *argv[])
{
  int i, status = 0;

  if(argc < 2)
    return ls(".") < 0;
  for(i = 1; i < argc; i++){
    if(ls(argv[i]) < 0)
      status = 1;
  }
  return status;
}
