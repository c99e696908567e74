// asm-offsets.h: structure offsets used by the assembly files. trap.c
// checks each of them against the C structures at compile time.
#ifndef CANOPY_ASM_OFFSETS_H
#define CANOPY_ASM_OFFSETS_H

// struct proc
#define TASK_KSTACK_TOP   0
#define TASK_SCRATCH      8
#define TASK_KSTACK_BASE 16

// struct pt_regs: register xN is saved at N*8; slot 0 holds sepc.
#define PT_EPC      0
#define PT_STATUS   (32 * 8)
#define PT_CAUSE    (33 * 8)
#define PT_TVAL     (34 * 8)
#define PT_SIZE     (36 * 8)   // 35 slots, rounded up to keep sp 16-aligned

// struct kpti_data (mm.h), the KPTI=1 build's data page
#define KD_T0     0
#define KD_KSATP  8
#define KD_USATP 16
#define KD_TASK  24
#define KD_USP   32
#define KD_UTP   40
#define KD_FLUSH 48
#define KD_NFLUSH 56

// struct context
#define CTX_RA  0
#define CTX_SP  8
#define CTX_TP 16
#define CTX_S0 24

#endif
