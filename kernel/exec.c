// exec.c: replace the current task's memory with a program from the file
// system. The new image is built in a fresh mm while the old one keeps
// running; only when nothing can fail any more does the task switch to it
// (Linux's exec_mmap), through switch_mm: one of the reasons satp is
// written (docs/design.md, "Where satp is written").
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/spinlock.h"
#include "kernel/sleeplock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/fs.h"
#include "kernel/file.h"
#include "kernel/elf.h"
#include "kernel/defs.h"

// PTE permissions for a segment's ELF flags. Writable and executable
// together is refused (returns 0): user text is never writable.
static int
segment_perm(uint32 flags)
{
  if((flags & PF_W) && (flags & PF_X))
    return 0;
  int perm = PTE_U;
  if(flags & PF_R)
    perm |= PTE_R;
  if(flags & PF_W)
    perm |= PTE_W | PTE_R;
  if(flags & PF_X)
    perm |= PTE_X;
  return perm;
}

// Map zeroed pages for [va, va+memsz) with perm and read filesz bytes of
// the file at off into them. va must be page-aligned. Returns 0 or -1.
static int
load_segment(struct mm *mm, struct inode *ip, struct proghdr *ph, int perm)
{
  for(uint64 done = 0; done < ph->memsz; done += PGSIZE){
    char *page = kzalloc();
    if(page == 0)
      return -1;
    if(mappages(mm->pgd, ph->vaddr + done, PGSIZE, __pa(page), perm) < 0){
      kfree(page);
      return -1;
    }
    if(done < ph->filesz){
      uint n = ph->filesz - done < PGSIZE ? ph->filesz - done : PGSIZE;
      if(readi(ip, 0, (uint64)page, ph->off + done, n) != n)
        return -1;
    }
  }
  return 0;
}

// Load every PT_LOAD segment of the ELF file ip into mm. Returns the
// entry point, or -1.
static int64
load_elf(struct mm *mm, struct inode *ip)
{
  struct elfhdr elf;
  if(readi(ip, 0, (uint64)&elf, 0, sizeof(elf)) != sizeof(elf))
    return -1;
  if(elf.magic != ELF_MAGIC || elf.elf[0] != ELFCLASS64 ||
     elf.machine != EM_RISCV || elf.type != ET_EXEC)
    return -1;
  for(int i = 0; i < elf.phnum; i++){
    struct proghdr ph;
    uint off = elf.phoff + i * sizeof(ph);
    if(readi(ip, 0, (uint64)&ph, off, sizeof(ph)) != sizeof(ph))
      return -1;
    if(ph.type != PT_LOAD || ph.memsz == 0)
      continue;
    int perm = segment_perm(ph.flags);
    if(perm == 0 || ph.memsz < ph.filesz || ph.vaddr % PGSIZE != 0 ||
       ph.vaddr + ph.memsz < ph.vaddr || ph.vaddr + ph.memsz > MAXVA / 2 ||
       ph.vaddr < mm->brk)
      return -1;
    mm->brk = PGROUNDUP(ph.vaddr + ph.memsz);   // so mmput frees it all
    if(load_segment(mm, ip, &ph, perm) < 0)
      return -1;
  }
  return elf.entry;
}

// Build the user stack above the program: an unmapped guard page, then
// USERSTACK pages holding the argument strings and the argv array.
// Returns the initial sp (argv is at sp), or 0 on failure.
static uint64
setup_stack(struct mm *mm, char **argv, int *argcp)
{
  uint64 guard = mm->brk;
  uint64 top = guard + PGSIZE + USERSTACK * PGSIZE;
  if(uvmalloc(mm->pgd, guard + PGSIZE, top, 0) == 0)
    return 0;
  mm->brk = top;
  mm->start_brk = top;     // the heap starts above the stack

  uint64 ustack[MAXARG + 1];
  uint64 sp = top, bottom = top - USERSTACK * PGSIZE;
  int argc = 0;
  for(; argv[argc]; argc++){
    if(argc >= MAXARG)
      return 0;
    sp -= strlen(argv[argc]) + 1;
    sp &= ~0xfUL;   // the RISC-V ABI wants sp 16-byte aligned
    if(sp < bottom || copy_to_pgd(mm->pgd, sp, argv[argc], strlen(argv[argc]) + 1) < 0)
      return 0;
    ustack[argc] = sp;
  }
  ustack[argc] = 0;
  sp -= (argc + 1) * sizeof(uint64);
  sp &= ~0xfUL;
  if(sp < bottom || copy_to_pgd(mm->pgd, sp, ustack, (argc + 1) * sizeof(uint64)) < 0)
    return 0;
  *argcp = argc;
  return sp;
}

// Make mm the current task's address space, dropping the old one: the
// owned mm of a process (mmput), or the borrowed one of a kernel thread
// becoming the first process (mmdrop).
static void
exec_mmap(struct mm *mm)
{
  struct proc *p = myproc();
  push_off();
  struct mm *old_mm = p->mm, *old_active = p->active_mm;
  p->mm = p->active_mm = mm;
  switch_mm(old_active, mm, p);   // satp write: exec installs the new mm
  pop_off();
  // LAB lazytlb BEGIN
  if(old_mm)
    mmput(old_mm);
  else
    mmdrop(old_active);
  // LAB lazytlb STARTER
  //> // TODO (lazytlb): a kernel thread exec'ing (the first process) has
  //> // borrowed old_active: drop that reference too.
  //> (void)old_active;
  //> if(old_mm)
  //>   mmput(old_mm);
  // LAB lazytlb END
}

static const char *
last_element(const char *path)
{
  const char *last = path;
  for(const char *s = path; *s; s++)
    if(*s == '/')
      last = s + 1;
  return last;
}

// Run the program at path with arguments argv (kernel strings). Returns
// argc, which becomes a0 in the new program, or -1 with the old program
// untouched.
int
exec(char *path, char **argv)
{
  struct mm *mm = mm_alloc();
  if(mm == 0)
    return -1;
  begin_op();
  struct inode *ip = namei(path);
  if(ip == 0){
    end_op();
    mmput(mm);
    return -1;
  }
  ilock(ip);
  int64 entry = load_elf(mm, ip);
  iunlockput(ip);
  end_op();

  int argc = 0;
  uint64 sp = entry < 0 ? 0 : setup_stack(mm, argv, &argc);
  if(sp == 0){
    mmput(mm);
    return -1;
  }

  struct proc *p = myproc();
  safestrcpy(p->name, last_element(path), sizeof(p->name));
  memset(p->regs, 0, sizeof(*p->regs));
  p->regs->epc = entry;
  p->regs->sp = sp;
  p->regs->a0 = argc;  // also the system call's result
  p->regs->a1 = sp;    // argv
  exec_mmap(mm);
  return argc;
}
