// defs.h: every function shared between kernel files, by subsystem.
#ifndef CANOPY_DEFS_H
#define CANOPY_DEFS_H

struct buf;
struct context;
struct cpu;
struct file;
struct inode;
struct mm;
struct pipe;
struct proc;
struct pt_regs;
struct sleeplock;
struct spinlock;
struct stat;
struct tlb_mark;
struct superblock;

// main.c
extern volatile int kernel_booted;     // set once every hart is up

// sbi.c: calls into OpenSBI (M mode)
void            sbi_set_timer(uint64 stime);
void            sbi_send_ipi(uint64 hart_mask);
int             sbi_hart_start(uint64 hartid, uint64 start_pa, uint64 opaque);
#define SBI_ERR_INVALID_PARAM     -3   // SBI error codes (spec v1.0)
#define SBI_ERR_ALREADY_AVAILABLE -6
void            sbi_shutdown(void) __attribute__((noreturn));

// fdt.c: the device tree OpenSBI hands over
void            fdt_parse(uint64 dtb_pa);
extern uint64   ram_start, ram_end;      // physical RAM range
extern uint64   dtb_start, dtb_end;      // physical range of the blob
extern int      fdt_nharts;
extern int      fdt_hartids[NCPU];
#define FDT_BOOTARGS_MAX 128
extern char     fdt_bootargs[FDT_BOOTARGS_MAX];  // QEMU -append, or ""
uint64          bootarg_num(const char *key, uint64 dflt);

// printf.c / panic.c
int             printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int             snprintf(char *buf, int size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void            printf_init(void);
void            panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void            panic_regs(struct pt_regs *regs, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
void            backtrace(uint64 fp);
const char     *scause_name(uint64 scause);
extern volatile int panicking;
int             save_stack_trace(uint64 fp, uint64 *pcs, int n);
void            print_ksym(uint64 pc);

// console.c
void            console_init(void);
void            console_intr(int c);
void            console_putc(int c);

// uart.c
void            uart_init(void);
void            uart_putc_sync(int c);
void            uart_intr(void);

// plic.c
void            plic_init(void);
void            plic_init_hart(void);
int             plic_claim(void);
void            plic_complete(int irq);

// kalloc.c: physical pages, handed out by direct-map address
void            kinit(void);
void           *kalloc(void);
void           *kzalloc(void);
void            kzerod_start(void);
void            kfree(void *page);
uint64          nr_free_pages(void);
void            get_page(void *page);
int             page_count(void *page);
uint64          nr_shared_pages(void);

// vm.c: page tables
pte_t          *walk(pagetable_t pgd, uint64 va, int alloc);
int             mappages(pagetable_t pgd, uint64 va, uint64 size, uint64 pa, int perm);
void            unmappages(pagetable_t pgd, uint64 va, uint64 npages, int do_free);
uint64          walkaddr(pagetable_t pgd, uint64 va);
uint64          uvmalloc(pagetable_t pgd, uint64 oldsz, uint64 newsz, int xperm);
uint64          uvmdealloc(pagetable_t pgd, uint64 oldsz, uint64 newsz);
int             uvmcopy(pagetable_t old, pagetable_t new, uint64 sz);
#define FAULT_FLAG_WRITE 0x1   // handle_mm_fault: the access was a store
#define FAULT_FLAG_USER  0x2   // it came from user mode, not copyin/copyout
int             handle_mm_fault(struct mm *mm, uint64 va, int flags);
extern uint64   nr_cow_faults, nr_cow_copies;
void            uvmfree_user(pagetable_t pgd, uint64 sz);
int             copy_to_pgd(pagetable_t pgd, uint64 dstva, const void *src, uint64 len);

// kvm.c: kernel_pagetable, the template of every kernel half
extern pagetable_t kernel_pagetable;
void            kvminit(void);

// mm.c: struct mm, its counts, lazy borrowing, switch_mm
extern struct mm init_mm;
void            mm_init(void);
void            mm_borrow_init(struct proc *idle);
int             mm_nr_lazy_roots(void);
uint64          nr_free_or_lazy_pages(void);
int             mm_nr_in_use(void);
struct mm      *mm_alloc(void);
void            mmgrab(struct mm *mm);
void            mmdrop(struct mm *mm);
void            mmget(struct mm *mm);
void            mmput(struct mm *mm);
int             mm_is_dead(struct mm *mm);
void            switch_mm(struct mm *prev, struct mm *next, struct proc *tsk);
void            enter_lazy_tlb(struct mm *mm, struct proc *tsk);
void            idle_drop_dead_mm(struct proc *idle);

// vmalloc.c: the vmalloc area and lazy sync of its root entries
void            vmalloc_init(void);
void           *__vmalloc_range(uint64 size, uint64 lo, uint64 hi);
void           *vmalloc(uint64 size);
void            vfree(void *addr);
void            vfree_counted(void *addr, struct spinlock *lk, uint64 *count, uint64 n);
int             vmalloc_nr_areas(void);
int             vmalloc_nr_table_pages(void);
int             vmalloc_fault(uint64 addr);
extern void   (*vmalloc_fault_hook)(uint64 addr);
int             sync_root_entry(pagetable_t pgd, int idx);
void            vmalloc_sync_stack(pagetable_t pgd, struct proc *p);
void            vmalloc_check_flushed(struct tlb_mark mark, uint64 lo, uint64 hi,
                                      int must_flush, const char *where);
void            vmalloc_check_stack_flushed(struct tlb_mark mark, struct proc *p);

// tlbflush.c: TLB flushes, counted per hart
void            local_flush_tlb_all(void);
void            local_flush_tlb_page(uint64 va);
void            flush_tlb_kernel_range(uint64 start, uint64 size);
void            flush_tlb_mm_range(struct mm *mm, uint64 start, uint64 end);
void            flush_tlb_mm(struct mm *mm);
void            tlb_shootdown_serve(void);
struct tlb_mark tlb_mark(void);
int             tlb_flushed_since(struct tlb_mark mark, uint64 lo, uint64 hi);

// uaccess.c: the only way the kernel touches user memory
int             copyout(uint64 dstva, const void *src, uint64 len);
int             copyin(void *dst, uint64 srcva, uint64 len);
int             copyinstr(char *dst, uint64 srcva, uint64 max);
int             either_copyout(int user_dst, uint64 dst, void *src, uint64 len);
int             either_copyin(void *dst, int user_src, uint64 src, uint64 len);
int             in_uaccess(struct pt_regs *regs);
int             fixup_exception(struct pt_regs *regs);

// proc.c: tasks, fork, exit, wait, kill
void            proc_init(void);
struct proc    *alloc_task(void *kstack);
void            free_task(struct proc *p);
int             nr_tasks(void);
void            userinit(void);
int             fork(void);
void            exit(int status) __attribute__((noreturn));
int             wait(uint64 addr);
int             kill(int pid);
int             killed(struct proc *p);
void            setkilled(struct proc *p);
int             growproc(int n, int lazy);
void            procdump(void);
int             procinfo(uint64 addr, int max);
struct proc    *find_task(int pid);
struct mm      *get_task_mm(int pid, char name[16]);
int             nr_tasks(void);

// asid.c: ASIDs, their allocator, the model of each hart's TLB
extern int      asid_bits;
extern uint64   kpti_user_asid_bit;
void            asid_init(void);
uint64          asid_for_mm(struct mm *mm, int *flush_all);
uint64          mm_asid(struct mm *mm);
int             asid_is_current(struct mm *mm);
uint64          asid_nr_rollovers(void);
void            asid_model_load(uint64 asid);
int             asid_model_may_hold(struct cpu *c, uint64 asid);
void            asid_test_limit(uint64 n);

// kpti.c: the KPTI=1 build's user roots
int             kpti_mm_init(struct mm *mm);
void            kpti_mm_free(struct mm *mm);
int             kpti_mm_pages(struct mm *mm);
void            kpti_sync_user_half(struct mm *mm);
void            kpti_prepare_return(struct proc *p);
void            kpti_force_flushes(int n);
void            mm_user_half_changed(pagetable_t pgd);

// kstack.c: kernel stacks of tasks
void           *kstack_alloc_task(void);
void           *kstack_alloc_thread(void);
void            kstack_attach(struct proc *p, void *stack);
void            kstack_free(struct proc *p);
void            kstack_hand_over(struct cpu *c, struct proc *zombie);
void            kstack_free_dead(uint64 stack);
void            kstack_init(void);
uint64          nr_free_soon_pages(void);

// sched.c: run queue, switching, sleep and wakeup
extern struct spinlock sched_lock;
extern struct spinlock wait_lock;
void            sched_init_hart(int cpuid) __attribute__((noreturn));
void            schedule(void);
void            yield(void);
void            make_runnable(struct proc *p);
void            sleep(void *chan, struct spinlock *lk);
void            wakeup(void *chan);
void            finish_task_switch(void);

// swtch.S
void            swtch(struct context *old, struct context *new);

// kthread.c
struct proc    *kthread_create(int (*fn)(void *), void *arg, const char *name);
struct proc    *kthread_alloc(int (*fn)(void *), void *arg, const char *name, void *kstack);
void            kthread_bind(struct proc *p, int cpu);
void            kthread_start(struct proc *p);
int             kthread_stop(struct proc *p);
int             kthread_should_stop(void);

// exec.c
int             exec(char *path, char **argv);

// trap.c
void            trap_init_hart(void);
extern uint64   ticks;
extern struct spinlock tickslock;
void            user_trap_return(void);
void            return_to_user(void) __attribute__((noreturn));

// syscall.c
void            syscall(struct pt_regs *regs);
void            argint(int n, int *ip);
void            argaddr(int n, uint64 *ip);
int             argstr(int n, char *buf, int max);
int             fetchaddr(uint64 addr, uint64 *ip);
int             fetchstr(uint64 addr, char *buf, int max);

// spinlock.c
void            initlock(struct spinlock *lk, char *name);
void            acquire(struct spinlock *lk);
void            spin_relax(void);
void            release(struct spinlock *lk);
int             holding(struct spinlock *lk);
void            push_off(void);
void            pop_off(void);

// sleeplock.c
void            initsleeplock(struct sleeplock *lk, char *name);
void            acquiresleep(struct sleeplock *lk);
void            releasesleep(struct sleeplock *lk);
int             holdingsleep(struct sleeplock *lk);

// string.c
int             popcount(uint64 x);
void           *memset(void *dst, int c, uint64 n);
int             memcmp(const void *a, const void *b, uint64 n);
void           *memmove(void *dst, const void *src, uint64 n);
void           *memcpy(void *dst, const void *src, uint64 n);
int             strncmp(const char *p, const char *q, uint n);
char           *strncpy(char *s, const char *t, int n);
char           *safestrcpy(char *s, const char *t, int n);
int             strlen(const char *s);

// virtio_blk.c
void            virtio_disk_init(void);
void            virtio_disk_rw(struct buf *b, int write);
void            virtio_disk_intr(void);
uint64          virtio_disk_nwrites(void);
uint64          virtio_disk_nrequests(void);
void            virtio_disk_write_batch(struct buf **bufs, uint *to, int n);

// bio.c
void            binit(void);
struct buf     *bread(uint dev, uint blockno);
void            brelse(struct buf *b);
void            bwrite(struct buf *b);
struct buf     *bblank(uint dev, uint blockno);
void            bwrite_batch(struct buf **bufs, uint *to, int n);
void            bpin(struct buf *b);
void            bunpin(struct buf *b);

// log.c
void            initlog(int dev, struct superblock *sb);
void            log_write(struct buf *b);
void            begin_op(void);
void            end_op(void);
void            log_sync(void);

// fs.c
void            fsinit(int dev);
int             inode_nr_active(void);
int             dirlink(struct inode *dp, char *name, uint inum);
struct inode   *dirlookup(struct inode *dp, char *name, uint *poff);
struct inode   *ialloc(uint dev, short type);
struct inode   *idup(struct inode *ip);
void            iinit(void);
void            ilock(struct inode *ip);
void            iput(struct inode *ip);
void            iunlock(struct inode *ip);
void            iunlockput(struct inode *ip);
void            iupdate(struct inode *ip);
int             namecmp(const char *s, const char *t);
struct inode   *namei(char *path);
struct inode   *nameiparent(char *path, char *name);
int             readi(struct inode *ip, int user_dst, uint64 dst, uint off, uint n);
void            stati(struct inode *ip, struct stat *st);
int             writei(struct inode *ip, int user_src, uint64 src, uint off, uint n);
void            itrunc(struct inode *ip);
uint            fs_nr_free_blocks(void);

// file.c
struct file    *filealloc(void);
int             file_nr_open(void);
void            fileclose(struct file *f);
struct file    *filedup(struct file *f);
void            fileinit(void);
int             fileread(struct file *f, uint64 addr, int n);
int             filestat(struct file *f, uint64 addr);
int             filewrite(struct file *f, uint64 addr, int n);

// pipe.c
int             pipealloc(struct file **f0, struct file **f1);
void            pipeclose(struct pipe *pi, int writable);
int             piperead(struct pipe *pi, uint64 addr, int n);
int             pipewrite(struct pipe *pi, uint64 addr, int n);

// ktest/: kernel self-tests
#define KTEST_MSG 160
struct ktest {
  const char *name;
  int (*fn)(char *msg);   // 0 = pass; -1 = fail, with msg (KTEST_MSG bytes) set
};
extern const struct ktest vm_tests[], sched_tests[], asid_tests[], lab_tests[],
                          bench_tests[];

// ptdump.c
int             ptdump_pid(int pid);
void            ptdump_template(void);
int             ptdump_specimen(uint64 va);
int             ptdump_user_root(int pid);

// number of elements in fixed-size array
#define NELEM(x) (sizeof(x) / sizeof((x)[0]))

#endif
