# canopy: build, run and test. Everything starts here; see README.md.
#
#   make            build kernel/kernel and fs.img
#   make qemu       boot to a shell (CPUS=3 MEM=128M QEMUEXTRA=...)
#   make test       build, boot headless, run the test suites
#   make clean

K := kernel
U := user

CPUS ?= 3
# How vmalloc root entries reach page tables copied before they existed:
# lazy (a fault copies them) or prealloc (all 64 filled at boot).
VMSYNC ?= lazy
MEM ?= 128M
QEMUEXTRA ?=
FSIMG ?= fs.img

# Find a RISC-V toolchain: bare-metal ELF first, then the Linux one.
ifndef TOOLPREFIX
TOOLPREFIX := $(shell for p in riscv64-unknown-elf- riscv64-linux-gnu- riscv64-elf-; do \
	if command -v $${p}gcc >/dev/null 2>&1; then echo $$p; exit 0; fi; done)
endif

CC      = $(TOOLPREFIX)gcc
AS      = $(TOOLPREFIX)gas
LD      = $(TOOLPREFIX)ld
OBJCOPY = $(TOOLPREFIX)objcopy
OBJDUMP = $(TOOLPREFIX)objdump
NM      = $(TOOLPREFIX)nm
QEMU   ?= qemu-system-riscv64
HOSTCC ?= cc

# No floating point anywhere: sstatus.FS stays off, so the kernel need not
# save FP registers, and a user program that uses them is killed.
ARCHFLAGS = -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany
CFLAGS  = -Wall -Werror -O2 -ggdb -gdwarf-4 $(ARCHFLAGS)
CFLAGS += -ffreestanding -fno-common -nostdlib -fno-builtin -fno-pie -no-pie
CFLAGS += -fno-stack-protector -fno-omit-frame-pointer -mno-relax -I.
CFLAGS += $(KCFLAGS)
# KPTI=1: a second, user-mode root per process without the kernel half,
# switched on every trap (kernel/kpti.c): what isolation costs.
KPTI ?= 0
ifeq ($(KPTI),1)
CFLAGS += -DKPTI
ASFLAGS_KPTI = -DKPTI
else ifneq ($(KPTI),0)
$(error KPTI must be 0 or 1, not $(KPTI))
endif
# ASID_BITS=n caps the ASID width the kernel probes (0: no ASIDs; 4 makes
# rollovers frequent). Empty: all the hardware has.
ASID_BITS ?=
ifneq ($(ASID_BITS),)
CFLAGS += -DASID_BITS=$(ASID_BITS)
endif
ifeq ($(VMSYNC),prealloc)
CFLAGS += -DVMSYNC_PREALLOC
else ifneq ($(VMSYNC),lazy)
$(error VMSYNC must be lazy or prealloc, not $(VMSYNC))
endif
ASFLAGS = $(ARCHFLAGS) -ggdb -I. -D__ASSEMBLER__ $(ASFLAGS_KPTI)
LDFLAGS = -z max-page-size=4096 --no-warn-rwx-segments

KOBJS = $(addprefix $(K)/, \
	entry.o main.o sbi.o fdt.o printf.o panic.o string.o spinlock.o \
	sleeplock.o lockdep.o kalloc.o vm.o kvm.o mm.o asid.o kpti.o kpti_entry.o vmalloc.o tlbflush.o uaccess.o \
	copy_user.o proc.o kstack.o sched.o swtch.o kthread.o exec.o trapentry.o trap.o syscall.o \
	sysproc.o sysfile.o uart.o console.o plic.o virtio_blk.o bio.o log.o \
	fs.o file.o pipe.o ptdump.o faultinject.o ktest/ktest.o \
	ktest/vm_test.o ktest/sched_test.o ktest/asid_test.o ktest/lab_test.o \
	ktest/bench_test.o)

all: $(K)/kernel fs.img mkfs/fsck

# Every cross-compiled object waits for this check, so a machine without a
# RISC-V toolchain gets one clear sentence instead of host gcc's errors.
toolcheck:
	@test -n "$(TOOLPREFIX)" || { echo "*** no RISC-V cross compiler (riscv64-unknown-elf-gcc or riscv64-linux-gnu-gcc)."; \
	  echo "*** run 'make deps' (Debian/Ubuntu) or see README.md for other systems."; exit 1; }
.PHONY: toolcheck

$(K)/%.o: $(K)/%.c $(wildcard $(K)/*.h $(K)/ktest/*.h) | toolcheck
	$(CC) $(CFLAGS) -c -o $@ $<

# vmalloc.o is rebuilt when VMSYNC changes.
$(K)/vmalloc.o: $(K)/vmsync.stamp
# Every object is rebuilt when KPTI changes (struct mm's layout does).
$(KOBJS): $(K)/kpti.stamp
$(K)/kpti.stamp: FORCE
	@echo "$(KPTI)" | cmp -s - $@ || echo "$(KPTI)" > $@
# asid.o is rebuilt when ASID_BITS changes.
$(K)/asid.o: $(K)/asid.stamp
$(K)/asid.stamp: FORCE
	@echo "$(ASID_BITS)" | cmp -s - $@ || echo "$(ASID_BITS)" > $@
$(K)/vmsync.stamp: FORCE
	@echo $(VMSYNC) | cmp -s - $@ || echo $(VMSYNC) > $@
FORCE:

$(K)/%.o: $(K)/%.S $(wildcard $(K)/*.h) | toolcheck
	$(CC) $(ASFLAGS) -c -o $@ $<

# The kernel carries its own symbol table for backtraces. Link once with an
# empty table, list the text symbols, link again with them. The table sits
# after .rodata, so text addresses do not move between the two links.
$(K)/kernel: $(KOBJS) $(K)/kernel.ld scripts/ksyms.sh
	sh scripts/ksyms.sh --empty > $(K)/ksyms0.S
	$(CC) $(ASFLAGS) -c -o $(K)/ksyms0.o $(K)/ksyms0.S
	$(LD) $(LDFLAGS) -T $(K)/kernel.ld -o $(K)/kernel.pass1 $(KOBJS) $(K)/ksyms0.o
	sh scripts/ksyms.sh $(NM) $(K)/kernel.pass1 > $(K)/ksyms.S
	$(CC) $(ASFLAGS) -c -o $(K)/ksyms.o $(K)/ksyms.S
	$(LD) $(LDFLAGS) -T $(K)/kernel.ld -o $@ $(KOBJS) $(K)/ksyms.o
	$(OBJDUMP) -S $@ > $(K)/kernel.asm
	$(NM) -n $@ > $(K)/kernel.sym

# ---- user space -----------------------------------------------------------
# Every user/NAME.c is a program NAME on the disk; user/lib/ is the C library.
# A bad printf format is only a warning in user code: programs from older
# xv6, whose user.h had no format attribute, must still build unchanged.
UCFLAGS = $(filter-out -mcmodel=medany,$(CFLAGS)) -mcmodel=medany \
          -Wno-error=format -Wno-error=format-extra-args
ULIB = $(U)/lib/usys.o $(U)/lib/ulib.o $(U)/lib/printf.o $(U)/lib/umalloc.o $(U)/lib/testlib.o
UPROGS = $(patsubst $(U)/%.c,$(U)/_%,$(wildcard $(U)/*.c))

$(U)/lib/usys.S: $(U)/lib/usys.sh $(K)/syscall.h
	sh $(U)/lib/usys.sh $(K)/syscall.h > $@

$(U)/lib/%.o: $(U)/lib/%.c $(wildcard $(U)/*.h $(K)/*.h) | toolcheck
	$(CC) $(UCFLAGS) -c -o $@ $<

$(U)/lib/%.o: $(U)/lib/%.S | toolcheck
	$(CC) $(ASFLAGS) -c -o $@ $<

$(U)/%.o: $(U)/%.c $(wildcard $(U)/*.h $(K)/*.h) | toolcheck
	$(CC) $(UCFLAGS) -c -o $@ $<

$(U)/_%: $(U)/%.o $(ULIB) $(U)/user.ld
	$(LD) $(LDFLAGS) -T $(U)/user.ld -o $@ $< $(ULIB)
	$(OBJDUMP) -S $@ > $(U)/$*.asm

.PRECIOUS: $(U)/%.o

mkfs/mkfs: mkfs/mkfs.c $(K)/fs.h $(K)/param.h $(K)/stat.h $(K)/types.h
	$(HOSTCC) -Wall -Werror -O2 -I. -o $@ mkfs/mkfs.c

mkfs/fsck: mkfs/fsck.c $(K)/fs.h $(K)/param.h $(K)/stat.h $(K)/types.h
	$(HOSTCC) -Wall -Werror -O2 -I. -o $@ mkfs/fsck.c

fs.img: mkfs/mkfs README.md $(UPROGS)
	mkfs/mkfs fs.img README.md README=README.md $(UPROGS)

# ---- running --------------------------------------------------------------
QEMUOPTS  = -machine virt -bios default -kernel $(K)/kernel -m $(MEM) -smp $(CPUS)
QEMUOPTS += -nographic -global virtio-mmio.force-legacy=false
QEMUOPTS += -drive file=$(FSIMG),if=none,format=raw,id=x0
QEMUOPTS += -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0
QEMUOPTS += $(QEMUEXTRA)

deps:
	@sh scripts/install-deps.sh

qemu: deps
	@$(MAKE) --no-print-directory all
	@echo "*** canopy: $(CPUS) harts, $(MEM) RAM. Quit with Ctrl-a x, or run poweroff."
	$(QEMU) $(QEMUOPTS)

# Print the QEMU command line (used by the test scripts).
print-qemu:
	@echo $(QEMU) $(QEMUOPTS)

# How a user program is compiled and linked (tests/host/test_xv6_compat.sh).
print-ucc:
	@echo $(CC) $(UCFLAGS)
print-uld:
	@echo $(LD) $(LDFLAGS) -T $(U)/user.ld

# ---- debugging (docs/debugging.md) ------------------------------------------
# make qemu-gdb: boot halted (-S) with a gdb stub on GDBPORT (one per user,
# so that users sharing a machine do not collide) and write .gdbinit from
# scripts/gdbinit.tmpl. make gdb, in a second terminal: attach to it.
GDBPORT ?= $(shell expr `id -u` % 5000 + 25000)
ifndef GDB
GDB := $(shell for g in gdb-multiarch riscv64-unknown-elf-gdb riscv64-linux-gnu-gdb riscv64-elf-gdb; do \
	if command -v $$g >/dev/null 2>&1; then echo $$g; exit 0; fi; done)
endif

.gdbinit: scripts/gdbinit.tmpl FORCE
	sed "s/@GDBPORT@/$(GDBPORT)/" scripts/gdbinit.tmpl > $@

qemu-gdb: deps .gdbinit
	@$(MAKE) --no-print-directory all
	@echo "*** canopy halted, gdb stub on 127.0.0.1:$(GDBPORT). Now run 'make gdb' in another terminal."
	$(QEMU) $(QEMUOPTS) -S -gdb tcp:127.0.0.1:$(GDBPORT)

# -x loads .gdbinit without ~/.gdbinit having to allow it; turning off the
# automatic load of ./.gdbinit keeps gdb from refusing (or doubling) it.
gdb:
	@test -f .gdbinit || { echo "no .gdbinit: run 'make qemu-gdb' first"; exit 1; }
	@test -n "$(GDB)" || { echo "no gdb-multiarch or riscv64 gdb found (make deps)"; exit 1; }
	$(GDB) -q -iex "set auto-load local-gdbinit off" -x .gdbinit

# make addr2line < panic.txt, or make addr2line ADDRS="0xffffffc0... ...":
# file:line of each backtrace address of a panic.
addr2line: $(K)/kernel
	@sh scripts/addr2line.sh $(TOOLPREFIX)addr2line $(K)/kernel $(ADDRS)

FORCE:
.PHONY: qemu-gdb gdb addr2line FORCE

# make bench [CPUS=1] [MEM=256M] [CSV=tests/out/bench.csv] [RUNS=1] [XV6=dir]:
# one table of per-operation costs of the hot paths (user/bench.c, run by
# tests/bench.py; docs/performance.md). It boots with 1 hart and 256M
# unless CPUS or MEM is given: forking a 64 MiB process without
# copy-on-write needs room for a full copy. RUNS=n: each time is the
# median of n runs. XV6=dir: also the same program on a copy of that
# xv6-riscv tree, and the ratios.
BENCH_MEM = $(if $(filter command line environment,$(origin MEM)),$(MEM),256M)
BENCH_CPUS = $(if $(filter command line environment,$(origin CPUS)),$(CPUS),1)
CSV ?= tests/out/bench.csv
RUNS ?= 1
bench: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/bench.py --cpus $(BENCH_CPUS) --mem $(BENCH_MEM) --csv $(CSV) \
		--runs $(RUNS) --extra '$(QEMUEXTRA)' $(if $(XV6),--xv6 $(XV6))

# make bench-scale [HARTS=1,2,4,8] [MEM=256M]: N processes doing pipe
# round trips, then fork+exit+wait, in parallel on N harts, one -icount
# boot per N; guest instructions per operation and the ratio to the first
# N (tests/bench.py --scale; docs/performance.md).
HARTS ?= 1,2,4,8
bench-scale: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/bench.py --scale $(HARTS) --mem $(BENCH_MEM) --extra '$(QEMUEXTRA)'

# make syscall-trace: every instruction of one getpid(), grouped by function
# (scripts/syscall_trace.py, docs/performance.md).
syscall-trace: deps
	@$(MAKE) --no-print-directory all
	@python3 scripts/syscall_trace.py --cpus 1 --mem $(MEM)

# A picture of every page table (docs/ptview.md): boots headless, runs a
# small workload, reads the tables through gdb, writes PTVIEW (an HTML page).
PTVIEW ?= ptview.html
ptview: deps
	@$(MAKE) --no-print-directory all
	@python3 scripts/ptview.py --cpus $(CPUS) --mem $(MEM) --out $(PTVIEW)

# make crashtest SEED=s POINTS=k [NOPS=n]: cut the power at k points under
# a file system workload and check nothing committed is lost (tests/crashtest.py).
SEED ?= 1
POINTS ?= 10
NOPS ?= 200
crashtest: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/crashtest.py --seed $(SEED) --points $(POINTS) --nops $(NOPS) --cpus $(CPUS) --mem $(MEM)

# make stress SECS=t [CPUS=8]: the concurrency stress run (tests/stress.py).
SECS ?= 60
stress: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/stress.py --secs $(SECS) --cpus $(if $(filter command line,$(origin CPUS)),$(CPUS),8)

test: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/run.py --cpus $(CPUS) --mem $(MEM)

# ---- the container (docs/setup.md) -------------------------------------------
# make docker-shell: build the image of ./Dockerfile (Debian 12 with the
# toolchain) and open a shell in it with this tree mounted at /canopy, as
# your own uid; then make qemu, make test... as on Linux.
DOCKER ?= docker
DOCKER_IMAGE ?= canopy-dev
docker-image:
	@command -v $(DOCKER) >/dev/null 2>&1 || { echo "*** no $(DOCKER): install Docker Desktop (macOS, Windows) or docker.io (Linux); see docs/setup.md"; exit 1; }
	$(DOCKER) build -t $(DOCKER_IMAGE) .

docker-shell: docker-image
	$(DOCKER) run --rm -it -u $$(id -u):$$(id -g) -v "$(CURDIR)":/canopy -w /canopy $(DOCKER_IMAGE)

.PHONY: docker-image docker-shell

# Random system calls (user/fuzz.c); a failure prints the seed and the
# shortest call sequence that reproduces it (tests/fuzz.py).
SEED ?= 1
N ?= 20000
fuzz: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/fuzz.py --seed $(SEED) --calls $(N) --cpus $(CPUS) --mem $(MEM)

# ---- labs (docs/instructors.md) --------------------------------------------
# make starter LAB=<name> OUT=<dir>: write a lab's student tree (a git repo).
# make grade [LAB=<name>]: grade this tree's labs (GRADE_JSON=path: Gradescope).
starter:
	@test -n "$(LAB)" -a -n "$(OUT)" || { echo "usage: make starter LAB=<name> OUT=<dir>"; exit 2; }
	@python3 scripts/starter.py --lab $(LAB) --out $(OUT)

grade: deps
	@$(MAKE) --no-print-directory all
	@python3 grade/grade.py $(LAB)

# make gradescope LAB=<name> OUT=<dir>: DIR/canopy-<name>-autograder.zip,
# the lab's Gradescope autograder (setup.sh, run_autograder at its top).
gradescope:
	@test -n "$(LAB)" -a -n "$(OUT)" || { echo "usage: make gradescope LAB=<name> OUT=<dir>"; exit 2; }
	@python3 scripts/gradescope.py --lab $(LAB) --out $(OUT)

.PHONY: starter grade gradescope

clean:
	rm -f $(K)/*.o $(K)/ktest/*.o $(K)/vmsync.stamp $(K)/asid.stamp $(K)/kpti.stamp $(K)/kernel $(K)/kernel.pass1 $(K)/kernel.asm $(K)/kernel.sym \
	  $(K)/ksyms.S $(K)/ksyms0.S $(U)/*.o $(U)/_* $(U)/*.asm $(U)/lib/*.o \
	  $(U)/lib/usys.S mkfs/mkfs mkfs/fsck fs.img
	rm -rf tests/__pycache__ tests/out ptview.html

.PHONY: all qemu test bench bench-scale ptview fuzz crashtest stress clean deps print-qemu print-ucc print-uld FORCE
