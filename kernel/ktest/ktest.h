// ktest.h: helpers for the kernel self-tests.
#ifndef CANOPY_KTEST_H
#define CANOPY_KTEST_H

// Fail the current test with a message saying what was expected and what
// happened.
#define KT_ASSERT(cond, ...) do {               \
    if(!(cond)){                                \
      snprintf(msg, KTEST_MSG, __VA_ARGS__);    \
      return -1;                                \
    }                                           \
  } while(0)

// The vmalloc region reserved for the self-tests (root entry 383).
#define KTEST_REGION_PGD ((int)PX(2, VMALLOC_KTEST_START))

void *ktest_vmalloc(uint64 size);

// Read *p where the read is meant to trap (a lazy sync the test
// provokes). The handler changes kernel state, a per-hart counter say,
// behind the compiler's back, and a volatile load alone does not make the
// compiler load that state again afterwards: the "memory" clobber does.
static inline uint64
ktest_faulting_read(const uint64 *p)
{
  uint64 v;
  asm volatile("ld %0, 0(%1)" : "=r"(v) : "r"(p) : "memory");
  return v;
}

// Exported by the kernel for the self-tests only (mm.c).
struct mm *mm_slot(int i);

int   ktest_run_on_every_cpu(int (*fn)(void *), void *arg, const char *name);
void  ktest_forget_region(pagetable_t pgd);
uint64 *ktest_direct(void *vaddr);

#endif
