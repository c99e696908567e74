// user.h: system calls and C library functions for user programs.
// Source compatible with xv6-riscv's user/user.h.
#ifndef CANOPY_USER_H
#define CANOPY_USER_H

// What sbrk() returns when it fails (newer xv6 name).
#define SBRK_ERROR ((char *)-1)

struct stat;
struct procinfo;

// system calls (user/lib/usys.S, generated from kernel/syscall.h)
int fork(void);
int exit(int) __attribute__((noreturn));
int wait(int*);
int pipe(int*);
int write(int, const void*, int);
int read(int, void*, int);
int close(int);
int kill(int);
int exec(const char*, char**);
int open(const char*, int);
int mknod(const char*, short, short);
int unlink(const char*);
int fstat(int fd, struct stat*);
int link(const char*, const char*);
int mkdir(const char*);
int chdir(const char*);
int dup(int);
int getpid(void);
char* sbrk(int);
char* sbrklazy(int);     // newer xv6: like sbrk, pages allocated at first touch
int sleep(int);
int pause(int);          // newer xv6 name of sleep: same system call
int uptime(void);
// canopy additions
int poweroff(void);                      // shut the machine down
int procinfo(struct procinfo*, int max); // fill a table of tasks; returns count
int freepages(void);                     // free physical pages
int ptdump(int pid, uint64 va);          // print pid's page table (-1: the template,
                                         // -2: a specimen root with a page at va)
long kstat(int what);                    // a kernel counter (kernel/kstat.h)
int ktest(const char *name);             // run kernel self-tests; returns failures
int crash(int how);                      // kernel fault (FAULT_INJECT kernels only)

// ulib.c
int stat(const char*, struct stat*);
char* strcpy(char*, const char*);
void *memmove(void*, const void*, int);
char* strchr(const char*, char c);
int strcmp(const char*, const char*);
int strncmp(const char*, const char*, unsigned int);
void fprintf(int, const char*, ...) __attribute__ ((format (printf, 2, 3)));
void printf(const char*, ...) __attribute__ ((format (printf, 1, 2)));
char* gets(char*, int max);
unsigned int strlen(const char*);
void* memset(void*, int, unsigned int);
int atoi(const char*);
int memcmp(const void *, const void *, unsigned int);
void *memcpy(void *, const void *, unsigned int);

// testlib.c: helpers of the test programs
int waitfor(int pid);                    // pid's exit status; -1000 if no child
uint64 launder(uint64);                  // a value the optimizer cannot see
void loadfrom(uint64 addr);              // ld from addr, as written
void storeto(uint64 addr);               // sd zero to addr, as written
uint64 atou64(const char*);              // decimal, or hex with 0x
#define NKOBJ 6                          // kernel objects the leak checks count
#define KOBJ_FREE 0                      // index of free pages among them
extern const char *kobj_names[NKOBJ];
void kobj_read(long v[NKOBJ]);
int kobj_differs(const long base[NKOBJ], const long now[NKOBJ]);

// umalloc.c
void* malloc(unsigned int);
void free(void*);

#endif
