// pgtable.h: small helpers on Sv39 page-table entries, named in Linux's
// grammar: pte_xxx(pte) tests a value, mk_pte() builds one.
//
// Glossary: Sv39 level 2 = the root = pgd (1 GiB per entry), level 1 = pmd
// (2 MiB per entry), level 0 = pte (4 KiB pages). See docs/glossary.md.
#ifndef CANOPY_PGTABLE_H
#define CANOPY_PGTABLE_H

#define PTRS_PER_TABLE 512

// The G bit of kernel leaves (invariant 4). The KPTI=1 build leaves it off:
// a global kernel translation would stay in the TLB on a user root.
#ifdef KPTI
#define PTE_KERNEL_G 0
#else
#define PTE_KERNEL_G PTE_G
#endif

// A software bit (RSW, ignored by the hardware): a user page that fork
// made read-only for copy-on-write; a store to it copies (vm.c).
#define PTE_COW (1L << 8)

static inline int pte_present(pte_t pte) { return (pte & PTE_V) != 0; }
// A valid entry with none of R, W, X points to the next-level table.
static inline int pte_leaf(pte_t pte) { return (pte & (PTE_R | PTE_W | PTE_X)) != 0; }
static inline int pte_user(pte_t pte) { return (pte & PTE_U) != 0; }

// The next-level table an entry points to, by direct-map address.
static inline pagetable_t
pte_table(pte_t pte)
{
  return (pagetable_t)__va(PTE2PA(pte));
}

// An entry mapping physical address pa. Leaves get A and D set up front:
// the kernel never uses them, and a CPU that does not set them itself
// would otherwise fault on first use.
static inline pte_t
mk_pte(uint64 pa, uint64 perm)
{
  if(perm & (PTE_R | PTE_W | PTE_X))
    perm |= PTE_A | PTE_D;
  return PA2PTE(pa) | perm | PTE_V;
}

// The root (pgd) this hart is translating with, read from satp.
static inline pagetable_t
current_pgd(void)
{
  return (pagetable_t)__va(SATP_TO_PA(r_satp()));
}

#endif
