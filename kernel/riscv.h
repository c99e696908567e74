// riscv.h: RISC-V privileged-architecture definitions (Sv39, S-mode CSRs)
// and tiny inline accessors. Facts from the RISC-V privileged specification.
#ifndef CANOPY_RISCV_H
#define CANOPY_RISCV_H

#define PGSIZE  4096
#define PGSHIFT 12
#define PGROUNDUP(a)   (((a) + PGSIZE - 1) & ~((uint64)PGSIZE - 1))
#define PGROUNDDOWN(a) ((a) & ~((uint64)PGSIZE - 1))

// sstatus bits
#define SSTATUS_SIE  (1L << 1)   // supervisor interrupts enabled
#define SSTATUS_SPIE (1L << 5)   // SIE before the trap
#define SSTATUS_SPP  (1L << 8)   // previous mode: 1 = supervisor, 0 = user
#define SSTATUS_SUM  (1L << 18)  // supervisor may access user pages
#define SSTATUS_FS   (3L << 13)  // floating-point unit state

// sie / sip bits
#define SIE_SSIE (1L << 1)  // software
#define SIP_SSIP (1L << 1)  // software interrupt pending (S-mode may set it)
#define SIE_STIE (1L << 5)  // timer
#define SIE_SEIE (1L << 9)  // external

// scause: interrupt flag and the codes canopy handles
#define SCAUSE_INTR            (1UL << 63)
#define IRQ_S_SOFT             1
#define IRQ_S_TIMER            5
#define IRQ_S_EXT              9
#define EXC_INST_MISALIGNED    0
#define EXC_INST_ACCESS        1
#define EXC_ILLEGAL_INST       2
#define EXC_BREAKPOINT         3
#define EXC_LOAD_MISALIGNED    4
#define EXC_LOAD_ACCESS        5
#define EXC_STORE_MISALIGNED   6
#define EXC_STORE_ACCESS       7
#define EXC_ECALL_U            8
#define EXC_ECALL_S            9
#define EXC_INST_PAGE_FAULT   12
#define EXC_LOAD_PAGE_FAULT   13
#define EXC_STORE_PAGE_FAULT  15

// Sv39 page-table entries
#define PTE_V (1L << 0)  // valid
#define PTE_R (1L << 1)
#define PTE_W (1L << 2)
#define PTE_X (1L << 3)
#define PTE_U (1L << 4)  // user-accessible
#define PTE_G (1L << 5)  // global: present in every address space
#define PTE_A (1L << 6)  // accessed
#define PTE_D (1L << 7)  // dirty

#define PA2PTE(pa)    ((((uint64)(pa)) >> 12) << 10)
#define PTE2PA(pte)   (((pte) >> 10) << 12)
#define PTE_FLAGS(pte) ((pte) & 0x3FF)

// A virtual address has three 9-bit indexes: level 2 (pgd), 1 (pmd), 0 (pte).
#define PXMASK        0x1FF
#define PXSHIFT(level) (PGSHIFT + 9 * (level))
#define PX(level, va) ((((uint64)(va)) >> PXSHIFT(level)) & PXMASK)

// One past the highest user address. Sv39 allows 1<<39 but addresses with
// bit 38 set are sign-extended into the kernel half, so users stop at 1<<38.
#define MAXVA (1L << (9 + 9 + 9 + 12 - 1))

#define SATP_SV39 (8L << 60)
#define MAKE_SATP(pgd_pa) (SATP_SV39 | (((uint64)(pgd_pa)) >> 12))
#define SATP_ASID_SHIFT 44          // satp[59:44]: the ASID
#define SATP_TO_PA(satp)  (((satp) & ((1UL << 44) - 1)) << 12)

#ifndef __ASSEMBLER__

#define csr_read(csr) ({ uint64 __v; \
  asm volatile("csrr %0, " #csr : "=r"(__v)); __v; })
#define csr_write(csr, val) ({ \
  asm volatile("csrw " #csr ", %0" :: "rK"((uint64)(val)) : "memory"); })
#define csr_set(csr, bits) ({ \
  asm volatile("csrs " #csr ", %0" :: "rK"((uint64)(bits)) : "memory"); })
#define csr_clear(csr, bits) ({ \
  asm volatile("csrc " #csr ", %0" :: "rK"((uint64)(bits)) : "memory"); })

static inline uint64 r_sstatus(void) { return csr_read(sstatus); }
static inline uint64 r_satp(void)    { return csr_read(satp); }
static inline uint64 r_scause(void)  { return csr_read(scause); }
static inline uint64 r_sepc(void)    { return csr_read(sepc); }
static inline uint64 r_stval(void)   { return csr_read(stval); }
static inline uint64 r_time(void)    { return csr_read(time); }
static inline uint64 r_sp(void)
{
  uint64 x;
  asm volatile("mv %0, sp" : "=r"(x));
  return x;
}
static inline uint64 r_fp(void)
{
  uint64 x;
  asm volatile("mv %0, s0" : "=r"(x));
  return x;
}

static inline void intr_on(void)  { csr_set(sstatus, SSTATUS_SIE); }
static inline void intr_off(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline int  intr_get(void) { return (r_sstatus() & SSTATUS_SIE) != 0; }

// Flush this hart's whole TLB.
static inline void sfence_vma(void) { asm volatile("sfence.vma zero, zero" ::: "memory"); }
// Flush this hart's TLB entries for one virtual address.
static inline void sfence_vma_addr(uint64 va)
{
  asm volatile("sfence.vma %0, zero" :: "r"(va) : "memory");
}
// Flush this hart's non-global entries of one ASID: all of them, or one
// virtual address's.
static inline void sfence_vma_asid(uint64 asid)
{
  asm volatile("sfence.vma zero, %0" :: "r"(asid) : "memory");
}
static inline void sfence_vma_addr_asid(uint64 va, uint64 asid)
{
  asm volatile("sfence.vma %0, %1" :: "r"(va), "r"(asid) : "memory");
}

#endif // __ASSEMBLER__
#endif
