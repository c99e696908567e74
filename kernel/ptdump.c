// ptdump.c: print a page table as a tree, the students' window into the
// design. The user half is printed in full; each kernel-half root entry
// is compared with kernel_pagetable's:
//   shared          the same entry as the template (pointing at the same
//                   shared lower-level table)
//   not yet synced  present in the template only; the first access will
//                   copy it (vmalloc_fault)
//   DIFFERS         anything else: a bug
// The format is described in docs/ptdump.md.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/memlayout.h"
#include "kernel/pgtable.h"
#include "kernel/spinlock.h"
#include "kernel/proc.h"
#include "kernel/mm.h"
#include "kernel/defs.h"

struct ptdump_totals {
  int pages, tables, shared, unsynced, differs;
};

// The permissions of a leaf as "rwxug", '-' for a missing bit.
void
perm_string(pte_t pte, char *s)
{
  s[0] = (pte & PTE_R) ? 'r' : '-';
  s[1] = (pte & PTE_W) ? 'w' : '-';
  s[2] = (pte & PTE_X) ? 'x' : '-';
  s[3] = (pte & PTE_U) ? 'u' : '-';
  s[4] = (pte & PTE_G) ? 'g' : '-';
  s[5] = 0;
}

// Print the user part below one root entry: level 1 (pmd) and level 0.
static void
dump_user_entry(int i, pte_t root, struct ptdump_totals *t)
{
  // LAB ptwalk BEGIN
  pagetable_t pmd = pte_table(root);
  printf(" %3d: pmd %p\n", i, (void *)PTE2PA(root));
  t->tables++;
  for(int j = 0; j < PTRS_PER_TABLE; j++){
    if(!pte_present(pmd[j]))
      continue;
    pagetable_t pt = pte_table(pmd[j]);
    printf(" %3d: .. %3d: pte %p\n", i, j, (void *)PTE2PA(pmd[j]));
    t->tables++;
    for(int k = 0; k < PTRS_PER_TABLE; k++){
      if(!pte_present(pt[k]))
        continue;
      char perm[6];
      perm_string(pt[k], perm);
      uint64 va = ((uint64)i << PXSHIFT(2)) | ((uint64)j << PXSHIFT(1)) |
                  ((uint64)k << PXSHIFT(0));
      printf(" %3d: .. %3d: .. %3d: va %p -> pa %p %s\n", i, j, k, (void *)va,
             (void *)PTE2PA(pt[k]), perm);
      t->pages++;
    }
  }
  // LAB ptwalk STARTER
  //> // TODO (ptwalk): root entry i points at a level-1 table (pmd). Print
  //> // it, then every valid pmd entry and every valid page below it, in the
  //> // format of docs/ptdump.md, counting tables in t->tables and pages in
  //> // t->pages. Hints: pte_present(), pte_table(), PTE2PA(), perm_string().
  //> printf(" %3d: pmd %p (not walked yet)\n", i, (void *)PTE2PA(root));
  // LAB ptwalk END
}

static const char *
region_name(int i)
{
  return i < VMALLOC_PGD_FIRST ? "direct map" :
         i <= VMALLOC_PGD_LAST ? "vmalloc" : "reserved";
}

static void
dump_kernel_entry(int i, pte_t mine, pte_t tmpl, struct ptdump_totals *t)
{
  const char *what;
  // LAB ptwalk BEGIN
  if(mine == tmpl){
    what = "shared";
    t->shared++;
  } else if(!pte_present(mine)){
    what = "not yet synced";
    t->unsynced++;
  } else {
    what = "DIFFERS from the template (bug)";
    t->differs++;
  }
  // LAB ptwalk STARTER
  //> // TODO (ptwalk): compare this root's entry with the template's and
  //> // classify it as "shared", "not yet synced" or "DIFFERS from the
  //> // template (bug)", counting it in t->shared, t->unsynced or t->differs.
  //> what = "?";
  // LAB ptwalk END
  printf(" %3d: %s, %s, pmd %p\n", i, region_name(i), what,
         (void *)PTE2PA(pte_present(mine) ? mine : tmpl));
}

static void
dump_pgd(pagetable_t pgd)
{
  struct ptdump_totals t = { 0 };
  printf("user half (entries 0-255):\n");
  for(int i = 0; i < KERNEL_PGD_FIRST; i++)
    if(pte_present(pgd[i]))
      dump_user_entry(i, pgd[i], &t);
  printf("kernel half (entries 256-511):\n");
  for(int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++){
#ifdef KPTI
    if(i == PX(2, KPTI_DATA_VA) && pte_present(pgd[i])){
      printf(" %3d: kpti data, this mm's own, pmd %p\n", i, (void *)PTE2PA(pgd[i]));
      continue;   // KPTI=1: each mm's data page, in none of the template
    }
#endif
    if(pte_present(pgd[i]) || pte_present(kernel_pagetable[i]))
      dump_kernel_entry(i, pgd[i], kernel_pagetable[i], &t);
  }
  printf("summary: %d user pages, %d user page-table pages, %d kernel entries "
         "shared, %d not yet synced, %d differ\n",
         t.pages, t.tables, t.shared, t.unsynced, t.differs);
}

// Print the page table of process pid. Returns 0, or -1 if there is no
// such process with user memory.
int
ptdump_pid(int pid)
{
  char name[16];
  struct mm *mm = get_task_mm(pid, name);   // the tables stay while we read
  if(mm == 0)
    return -1;
  printf("page table of pid %d (%s), mm %d, pgd at pa %p\n", pid, name,
         mm->id, (void *)__pa(mm->pgd));
  dump_pgd(mm->pgd);
  mmput(mm);
  return 0;
}

// Print the user root of process pid (KPTI=1; docs/kpti.md): its user
// half as for the kernel root, then every kernel-half root entry it has
// with the number of pages mapped below it. Only the trap entry page and
// the mm's data page may be there. Returns 0, or -1 if there is no such
// process or the kernel has no user roots.
int
ptdump_user_root(int pid)
{
#ifdef KPTI
  char name[16];
  struct mm *mm = get_task_mm(pid, name);
  if(mm == 0)
    return -1;
  if(mm->upgd == 0){
    mmput(mm);
    return -1;
  }
  struct ptdump_totals t = { 0 };
  pagetable_t upgd = mm->upgd;
  printf("user root of pid %d (%s), mm %d, pgd at pa %p\n", pid, name, mm->id,
         (void *)__pa(upgd));
  printf("user half (entries 0-255):\n");
  for(int i = 0; i < KERNEL_PGD_FIRST; i++)
    if(pte_present(upgd[i]))
      dump_user_entry(i, upgd[i], &t);
  printf("kernel half (entries 256-511), in the user root:\n");
  int entries = 0;
  for(int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++){
    if(!pte_present(upgd[i]))
      continue;
    pagetable_t pmd = pte_table(upgd[i]);
    int pages = 0;
    for(int j = 0; j < PTRS_PER_TABLE; j++){
      if(!pte_present(pmd[j]))
        continue;
      pagetable_t pt = pte_table(pmd[j]);
      for(int k = 0; k < PTRS_PER_TABLE; k++)
        pages += pte_present(pt[k]);
    }
    printf(" %3d: %s, %d pages\n", i, i == PX(2, KPTI_DATA_VA) ? "kpti data" : "kpti entry text",
           pages);
    entries++;
  }
  printf("summary: %d user pages, %d kernel entries in the user root\n", t.pages, entries);
  mmput(mm);
  return 0;
#else
  (void)pid;
  return -1;
#endif
}

// Print a specimen root with one entry of every kind, for the students
// and the ptwalk grader: a user page at va (any user address, so its
// root index may be above 0), a vmalloc entry not yet synced (321, which
// [kzerod]'s stack creates at boot), and three entries that differ from
// the template (320 pointing at another table, 256 pointing at the
// template's table but with the U bit set, and the last vmalloc entry,
// which the template lacks). Returns 0, or -1 if va is not a user address
// or memory runs out. The root is freed before returning.
int
ptdump_specimen(uint64 va)
{
  va = PGROUNDDOWN(va);
  if(va >= USER_TOP)
    return -1;
  struct mm *mm = mm_alloc();
  void *page = kzalloc(), *table = kzalloc();
  int r = -1;
  if(mm && page && table &&
     mappages(mm->pgd, va, PGSIZE, __pa(page), PTE_R | PTE_W | PTE_U) == 0){
    page = 0;                    // the mm's now: mmput frees it
    mm->brk = va + PGSIZE;
    mm->pgd[VMALLOC_PGD_FIRST + 1] = 0;
    mm->pgd[VMALLOC_PGD_FIRST] = mk_pte(__pa(table), 0);
    mm->pgd[VMALLOC_PGD_LAST - 1] = mk_pte(__pa(table), 0);
    mm->pgd[KERNEL_PGD_FIRST] = mk_pte(PTE2PA(kernel_pagetable[KERNEL_PGD_FIRST]), PTE_U);
    printf("specimen root, mm %d, pgd at pa %p\n", mm->id, (void *)__pa(mm->pgd));
    dump_pgd(mm->pgd);
    mm->pgd[VMALLOC_PGD_FIRST] = kernel_pagetable[VMALLOC_PGD_FIRST];
    mm->pgd[VMALLOC_PGD_LAST - 1] = 0;
    mm->pgd[KERNEL_PGD_FIRST] = kernel_pagetable[KERNEL_PGD_FIRST];
    r = 0;
  }
  if(page)
    kfree(page);
  if(table)
    kfree(table);
  if(mm)
    mmput(mm);
  return r;
}

// Print kernel_pagetable's root entries.
void
ptdump_template(void)
{
  printf("kernel_pagetable (the template), pgd at pa %p\n",
         (void *)__pa(kernel_pagetable));
  for(int i = KERNEL_PGD_FIRST; i < PTRS_PER_TABLE; i++)
    if(pte_present(kernel_pagetable[i]))
      printf(" %3d: %s, pmd %p\n", i, region_name(i),
             (void *)PTE2PA(kernel_pagetable[i]));
}
