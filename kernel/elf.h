// elf.h: the parts of the ELF-64 format exec needs (System V ABI).
#ifndef CANOPY_ELF_H
#define CANOPY_ELF_H

#define ELF_MAGIC 0x464C457FU  // "\x7FELF" read as a little-endian word
#define ELFCLASS64 2
#define EM_RISCV 243
#define ET_EXEC 2

struct elfhdr {
  uint magic;
  uchar elf[12];     // class, data, version, padding
  ushort type;
  ushort machine;
  uint version;
  uint64 entry;
  uint64 phoff;
  uint64 shoff;
  uint flags;
  ushort ehsize;
  ushort phentsize;
  ushort phnum;
  ushort shentsize;
  ushort shnum;
  ushort shstrndx;
};

struct proghdr {
  uint32 type;
  uint32 flags;
  uint64 off;
  uint64 vaddr;
  uint64 paddr;
  uint64 filesz;
  uint64 memsz;
  uint64 align;
};

#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4

#endif
