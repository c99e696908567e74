// sysfile.c: the file system calls. Each sys_NAME fetches its arguments
// from the saved user registers (argint/argaddr/argstr), checks them, and
// calls into file.c and fs.c. Bad descriptors, bad paths and bad user
// pointers all return -1; nothing a user passes may panic the kernel.
// Every call that may write the disk runs inside begin_op()/end_op();
// inode locks are taken parent directory first, then the entry.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/stat.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/proc.h"
#include "kernel/fs.h"
#include "kernel/file.h"
#include "kernel/fcntl.h"
#include "kernel/defs.h"

// Fetch system call argument n as a file descriptor. Returns 0 and sets
// *pfd and *pf (either may be 0), or -1 if it is not an open descriptor.
static int
argfd(int n, int *pfd, struct file **pf)
{
  int fd;
  struct file *f;

  argint(n, &fd);
  if(fd < 0 || fd >= NOFILE || (f = myproc()->ofile[fd]) == 0)
    return -1;
  if(pfd)
    *pfd = fd;
  if(pf)
    *pf = f;
  return 0;
}

// Give f the lowest free descriptor of the current process. Returns it,
// or -1 if all NOFILE are in use (the caller still owns its reference).
static int
fdalloc(struct file *f)
{
  struct proc *p = myproc();

  for(int fd = 0; fd < NOFILE; fd++){
    if(p->ofile[fd] == 0){
      p->ofile[fd] = f;
      return fd;
    }
  }
  return -1;
}

uint64
sys_dup(void)
{
  struct file *f;
  int fd;

  if(argfd(0, 0, &f) < 0)
    return -1;
  if((fd = fdalloc(f)) < 0)
    return -1;
  filedup(f);
  return fd;
}

uint64
sys_read(void)
{
  struct file *f;
  uint64 addr;
  int n;

  argaddr(1, &addr);
  argint(2, &n);
  if(argfd(0, 0, &f) < 0)
    return -1;
  return fileread(f, addr, n);
}

uint64
sys_write(void)
{
  struct file *f;
  uint64 addr;
  int n;

  argaddr(1, &addr);
  argint(2, &n);
  if(argfd(0, 0, &f) < 0)
    return -1;
  return filewrite(f, addr, n);
}

uint64
sys_close(void)
{
  struct file *f;
  int fd;

  if(argfd(0, &fd, &f) < 0)
    return -1;
  myproc()->ofile[fd] = 0;
  fileclose(f);
  return 0;
}

uint64
sys_fstat(void)
{
  struct file *f;
  uint64 st;

  argaddr(1, &st);
  if(argfd(0, 0, &f) < 0)
    return -1;
  return filestat(f, st);
}

// Is directory dp empty apart from "." and ".."? Caller holds dp->lock.
static int
dir_is_empty(struct inode *dp)
{
  struct dirent de;

  for(uint off = 2 * sizeof(de); off < dp->size; off += sizeof(de)){
    if(readi(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
      panic("dir_is_empty: cannot read directory %d", dp->inum);
    if(de.inum != 0)
      return 0;
  }
  return 1;
}

// Make path another name for the existing file old. Directories cannot
// be linked.
uint64
sys_link(void)
{
  char name[DIRSIZ], new[MAXPATH], old[MAXPATH];
  struct inode *dp, *ip;

  if(argstr(0, old, MAXPATH) < 0 || argstr(1, new, MAXPATH) < 0)
    return -1;

  begin_op();
  if((ip = namei(old)) == 0){
    end_op();
    return -1;
  }
  ilock(ip);
  if(ip->type == T_DIR){
    iunlockput(ip);
    end_op();
    return -1;
  }
  // Count the new link first: a crash then leaves nlink too high (a
  // leak), never too low (a file freed while a name still points at it).
  ip->nlink++;
  iupdate(ip);
  iunlock(ip);

  if((dp = nameiparent(new, name)) == 0)
    goto undo;
  ilock(dp);
  if(dp->dev != ip->dev || dirlink(dp, name, ip->inum) < 0){
    iunlockput(dp);
    goto undo;
  }
  iunlockput(dp);
  iput(ip);
  end_op();
  return 0;

undo:
  ilock(ip);
  ip->nlink--;
  iupdate(ip);
  iunlockput(ip);
  end_op();
  return -1;
}

// Erase the entry at offset off of dp, which names ip, and drop the
// link counts it stood for. Caller holds both locks, in a transaction.
static void
remove_entry(struct inode *dp, uint off, struct inode *ip)
{
  struct dirent de;

  memset(&de, 0, sizeof(de));
  if(writei(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
    panic("unlink: cannot write directory %d", dp->inum);
  if(ip->type == T_DIR){
    dp->nlink--;        // ip's ".." no longer names dp
    iupdate(dp);
  }
  ip->nlink--;
  iupdate(ip);
}

// Remove a name. Refuses "." and "..", and directories that are not
// empty.
uint64
sys_unlink(void)
{
  char name[DIRSIZ], path[MAXPATH];
  struct inode *dp, *ip;
  uint off;

  if(argstr(0, path, MAXPATH) < 0)
    return -1;

  begin_op();
  if((dp = nameiparent(path, name)) == 0){
    end_op();
    return -1;
  }
  ilock(dp);
  if(namecmp(name, ".") == 0 || namecmp(name, "..") == 0)
    goto fail;
  if((ip = dirlookup(dp, name, &off)) == 0)
    goto fail;
  ilock(ip);
  if(ip->nlink < 1)
    panic("unlink: inode %d has no links", ip->inum);
  if(ip->type == T_DIR && !dir_is_empty(ip)){
    iunlockput(ip);
    goto fail;
  }
  remove_entry(dp, off, ip);
  iunlockput(dp);
  iunlockput(ip);
  end_op();
  return 0;

fail:
  iunlockput(dp);
  end_op();
  return -1;
}

// Fill in a new directory ip, child of dp: its "." and ".." entries.
// Returns 0 or -1. Caller holds both locks, in a transaction.
static int
dir_init(struct inode *dp, struct inode *ip)
{
  if(dirlink(ip, ".", ip->inum) < 0)
    return -1;
  if(dirlink(ip, "..", dp->inum) < 0)
    return -1;
  return 0;
}

// Create a file of the given type at path and return it locked. For
// T_FILE an existing file or device is returned instead (open with
// O_CREATE); otherwise an existing name is an error. Returns 0 on
// failure. Caller is in a transaction.
static struct inode *
create(char *path, short type, short major, short minor)
{
  char name[DIRSIZ];
  struct inode *dp, *ip;

  if((dp = nameiparent(path, name)) == 0)
    return 0;
  ilock(dp);

  if((ip = dirlookup(dp, name, 0)) != 0){
    iunlockput(dp);
    ilock(ip);
    if(type == T_FILE && (ip->type == T_FILE || ip->type == T_DEVICE))
      return ip;
    iunlockput(ip);
    return 0;
  }

  if((ip = ialloc(dp->dev, type)) == 0){
    iunlockput(dp);
    return 0;
  }
  ilock(ip);
  ip->major = major;
  ip->minor = minor;
  ip->nlink = 1;
  iupdate(ip);

  if(type == T_DIR && dir_init(dp, ip) < 0)
    goto undo;
  if(dirlink(dp, name, ip->inum) < 0)
    goto undo;
  if(type == T_DIR){
    dp->nlink++;        // the new ".." names dp
    iupdate(dp);
  }
  iunlockput(dp);
  return ip;

undo:
  // Nothing names ip: dropping its only link frees it in iput.
  ip->nlink = 0;
  iupdate(ip);
  iunlockput(ip);
  iunlockput(dp);
  return 0;
}

// Find or create the inode that open() is asked for. Returns it locked,
// or 0. Caller is in a transaction.
static struct inode *
open_inode(char *path, int omode)
{
  struct inode *ip;

  if(omode & O_CREATE)
    return create(path, T_FILE, 0, 0);
  if((ip = namei(path)) == 0)
    return 0;
  ilock(ip);
  return ip;
}

// Set up f to refer to ip opened with omode. Caller holds ip->lock.
static void
file_setup(struct file *f, struct inode *ip, int omode)
{
  if(ip->type == T_DEVICE){
    f->type = FD_DEVICE;
    f->major = ip->major;
  } else {
    f->type = FD_INODE;
    f->off = 0;
  }
  f->ip = ip;
  f->readable = !(omode & O_WRONLY);
  f->writable = (omode & O_WRONLY) || (omode & O_RDWR);
}

uint64
sys_open(void)
{
  char path[MAXPATH];
  int fd, omode;
  struct file *f;
  struct inode *ip;

  argint(1, &omode);
  if(argstr(0, path, MAXPATH) < 0)
    return -1;

  begin_op();
  if((ip = open_inode(path, omode)) == 0){
    end_op();
    return -1;
  }
  if(ip->type == T_DIR && (omode & (O_WRONLY | O_RDWR)))
    goto fail;
  if(ip->type == T_DEVICE && (ip->major < 0 || ip->major >= NDEV))
    goto fail;
  if((f = filealloc()) == 0)
    goto fail;
  if((fd = fdalloc(f)) < 0){
    fileclose(f);
    goto fail;
  }
  file_setup(f, ip, omode);
  if((omode & O_TRUNC) && ip->type == T_FILE)
    itrunc(ip);
  iunlock(ip);
  end_op();
  return fd;

fail:
  iunlockput(ip);
  end_op();
  return -1;
}

uint64
sys_mkdir(void)
{
  char path[MAXPATH];
  struct inode *ip;

  if(argstr(0, path, MAXPATH) < 0)
    return -1;
  begin_op();
  if((ip = create(path, T_DIR, 0, 0)) == 0){
    end_op();
    return -1;
  }
  iunlockput(ip);
  end_op();
  return 0;
}

uint64
sys_mknod(void)
{
  char path[MAXPATH];
  struct inode *ip;
  int major, minor;

  argint(1, &major);
  argint(2, &minor);
  if(argstr(0, path, MAXPATH) < 0)
    return -1;
  begin_op();
  if((ip = create(path, T_DEVICE, major, minor)) == 0){
    end_op();
    return -1;
  }
  iunlockput(ip);
  end_op();
  return 0;
}

uint64
sys_chdir(void)
{
  char path[MAXPATH];
  struct inode *ip;
  struct proc *p = myproc();

  if(argstr(0, path, MAXPATH) < 0)
    return -1;
  begin_op();
  if((ip = namei(path)) == 0){
    end_op();
    return -1;
  }
  ilock(ip);
  if(ip->type != T_DIR){
    iunlockput(ip);
    end_op();
    return -1;
  }
  iunlock(ip);
  iput(p->cwd);
  end_op();
  p->cwd = ip;
  return 0;
}

// Copy the user's argv (at uargv) into kalloc'd pages, one per string,
// in argv[], ending with a 0 entry. Returns 0, or -1 if a pointer or
// string is bad, there are MAXARG or more arguments, or memory runs out.
// The caller frees whatever pages argv holds in either case.
static int
fetch_argv(uint64 uargv, char **argv)
{
  uint64 uarg;

  for(int i = 0; i < MAXARG; i++){
    if(fetchaddr(uargv + i * sizeof(uint64), &uarg) < 0)
      return -1;
    if(uarg == 0)
      return 0;
    if((argv[i] = kalloc()) == 0)
      return -1;
    if(fetchstr(uarg, argv[i], PGSIZE) < 0)
      return -1;
  }
  return -1;
}

uint64
sys_exec(void)
{
  char path[MAXPATH], *argv[MAXARG];
  uint64 uargv;
  int ret = -1;

  memset(argv, 0, sizeof(argv));
  argaddr(1, &uargv);
  if(argstr(0, path, MAXPATH) < 0)
    return -1;
  if(fetch_argv(uargv, argv) == 0)
    ret = exec(path, argv);
  for(int i = 0; i < MAXARG && argv[i] != 0; i++)
    kfree(argv[i]);
  return ret;
}

uint64
sys_pipe(void)
{
  uint64 fdarray;     // user pointer to int[2]
  struct file *rf, *wf;
  int fd0, fd1;
  struct proc *p = myproc();

  argaddr(0, &fdarray);
  if(pipealloc(&rf, &wf) < 0)
    return -1;
  fd0 = -1;
  if((fd0 = fdalloc(rf)) < 0 || (fd1 = fdalloc(wf)) < 0){
    if(fd0 >= 0)
      p->ofile[fd0] = 0;
    fileclose(rf);
    fileclose(wf);
    return -1;
  }
  if(copyout(fdarray, &fd0, sizeof(fd0)) < 0 ||
     copyout(fdarray + sizeof(fd0), &fd1, sizeof(fd1)) < 0){
    p->ofile[fd0] = 0;
    p->ofile[fd1] = 0;
    fileclose(rf);
    fileclose(wf);
    return -1;
  }
  return 0;
}
