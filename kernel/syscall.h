// syscall.h: system call numbers. 1-21 are xv6-riscv's; canopy's own follow.
#ifndef CANOPY_SYSCALL_H
#define CANOPY_SYSCALL_H

#define SYS_fork     1
#define SYS_exit     2
#define SYS_wait     3
#define SYS_pipe     4
#define SYS_read     5
#define SYS_kill     6
#define SYS_exec     7
#define SYS_fstat    8
#define SYS_chdir    9
#define SYS_dup     10
#define SYS_getpid  11
#define SYS_sbrk    12
#define SYS_sleep   13   // also called pause in newer xv6
#define SYS_pause   SYS_sleep
#define SYS_uptime  14
#define SYS_open    15
#define SYS_write   16
#define SYS_mknod   17
#define SYS_unlink  18
#define SYS_link    19
#define SYS_mkdir   20
#define SYS_close   21
// canopy additions
#define SYS_poweroff 22  // shut the machine down (SBI SRST)
#define SYS_procinfo 23  // copy a table of tasks out to user space (for ps)
#define SYS_freepages 24 // number of free physical pages
#define SYS_ptdump   25  // print a process's page table on the console
#define SYS_kstat    26  // read a kernel counter by index
#define SYS_ktest    27  // run in-kernel self-tests (kernel/ktest/)
#define SYS_crash    28  // deliberate kernel fault, only with -DFAULT_INJECT
#define SYS_sbrklazy 29  // sbrk whose new pages are allocated at first touch

#endif
