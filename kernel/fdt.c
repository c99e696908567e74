// fdt.c: reads the two facts canopy needs from the flattened device tree
// that OpenSBI passes in a1: the RAM range and the hart ids, and the
// command line QEMU's -append puts in /chosen/bootargs (fdt_bootargs,
// empty if none; only test hooks read it). Format from
// the Devicetree Specification (v0.4), chapter 5: a header, a structure
// block of tokens, a strings block; every integer is big-endian.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/defs.h"

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

struct fdt_header {
  uint32 magic, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap;
  uint32 version, last_comp_version, boot_cpuid_phys, size_dt_strings;
  uint32 size_dt_struct;
};

uint64 ram_start, ram_end;
uint64 dtb_start, dtb_end;
int fdt_nharts;
int fdt_hartids[NCPU];
char fdt_bootargs[FDT_BOOTARGS_MAX];

static uint32
be32(const void *p)
{
  const uchar *b = p;
  return ((uint32)b[0] << 24) | ((uint32)b[1] << 16) | ((uint32)b[2] << 8) | b[3];
}

// Read a big-endian number of ncells 32-bit cells.
static uint64
read_cells(const uchar *p, int ncells)
{
  uint64 v = 0;
  for(int i = 0; i < ncells; i++)
    v = (v << 32) | be32(p + 4 * i);
  return v;
}

static int
starts_with(const char *s, const char *prefix)
{
  while(*prefix)
    if(*s++ != *prefix++)
      return 0;
  return 1;
}

// Walk the structure block. Depth 1 nodes named memory@... give RAM;
// depth 2 nodes cpu@... under /cpus give hart ids. The root's
// #address-cells/#size-cells describe memory's reg; /cpus has its own.
void
fdt_parse(uint64 dtb_pa)
{
  const struct fdt_header *h = __va(dtb_pa);
  if(be32(&h->magic) != FDT_MAGIC)
    panic("fdt: no device tree at %p", (void *)dtb_pa);
  dtb_start = dtb_pa;
  dtb_end = dtb_pa + be32(&h->totalsize);

  const uchar *p = (const uchar *)h + be32(&h->off_dt_struct);
  const char *strings = (const char *)h + be32(&h->off_dt_strings);
  int depth = 0, root_ac = 2, root_sc = 2, cpus_ac = 1;
  int in_memory = 0, in_cpus = 0, in_cpu = 0, cpu_ok = 1, in_chosen = 0;
  uint64 cpu_reg = 0;

  for(;;){
    uint32 token = be32(p);
    p += 4;
    if(token == FDT_BEGIN_NODE){
      const char *name = (const char *)p;
      depth++;
      if(depth == 2){
        in_memory = starts_with(name, "memory");
        in_cpus = starts_with(name, "cpus");
        in_chosen = starts_with(name, "chosen");
      }
      if(depth == 3){
        in_cpu = in_cpus && starts_with(name, "cpu@");
        cpu_ok = 1;
      }
      p += (strlen(name) + 4) & ~3;
    } else if(token == FDT_END_NODE){
      if(in_cpu && depth == 3 && cpu_ok && fdt_nharts < NCPU)
        fdt_hartids[fdt_nharts++] = cpu_reg;
      if(depth == 3)
        in_cpu = 0;
      if(depth == 2)
        in_cpus = in_memory = in_chosen = 0;
      depth--;
    } else if(token == FDT_PROP){
      uint32 len = be32(p), nameoff = be32(p + 4);
      const uchar *val = p + 8;
      const char *pname = strings + nameoff;
      if(depth == 1 && strncmp(pname, "#address-cells", 15) == 0)
        root_ac = be32(val);
      else if(depth == 1 && strncmp(pname, "#size-cells", 12) == 0)
        root_sc = be32(val);
      else if(in_cpus && depth == 2 && strncmp(pname, "#address-cells", 15) == 0)
        cpus_ac = be32(val);
      else if(in_memory && depth == 2 && strncmp(pname, "reg", 4) == 0 &&
              ram_end == 0){
        ram_start = read_cells(val, root_ac);
        ram_end = ram_start + read_cells(val + 4 * root_ac, root_sc);
      } else if(in_cpu && depth == 3 && strncmp(pname, "reg", 4) == 0)
        cpu_reg = read_cells(val, cpus_ac);
      else if(in_cpu && depth == 3 && strncmp(pname, "status", 7) == 0)
        cpu_ok = strncmp((const char *)val, "okay", 5) == 0;
      else if(in_chosen && depth == 2 && strncmp(pname, "bootargs", 9) == 0)
        safestrcpy(fdt_bootargs, (const char *)val,
                   len < FDT_BOOTARGS_MAX ? len + 1 : FDT_BOOTARGS_MAX);
      p += 8 + ((len + 3) & ~3);
    } else if(token == FDT_NOP){
      continue;
    } else {
      break;  // FDT_END, or garbage
    }
  }
  if(ram_end == 0)
    panic("fdt: no memory node");
  if(fdt_nharts == 0)
    panic("fdt: no cpus");
}

// The number after "key=" in the boot arguments (words separated by
// spaces, decimal digits), or dflt if key is not there.
uint64
bootarg_num(const char *key, uint64 dflt)
{
  const char *p = fdt_bootargs;
  int klen = strlen(key);

  while(*p){
    if(strncmp(p, key, klen) == 0 && p[klen] == '='){
      uint64 v = 0;
      for(p += klen + 1; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
      return v;
    }
    while(*p && *p != ' ')
      p++;
    while(*p == ' ')
      p++;
  }
  return dflt;
}
