#!/bin/sh
# addr2line.sh: turn the addresses of a kernel panic into file:line.
#
# usage: sh scripts/addr2line.sh ADDR2LINE KERNEL [ADDR...]
#   With addresses, look up those. Without, read a pasted panic on stdin
#   and look up the frames of its backtrace ("#N 0x... name+off" lines),
#   or, if it has none, every kernel address it mentions.
# `make addr2line` runs it (ADDRS="0x... 0x..." or the panic on stdin).
#
# The backtrace already names each function from the kernel's own symbol
# table; addr2line adds the source line and the functions inlined there,
# from the debug information of the kernel ELF (built with -ggdb).

set -e

if [ $# -lt 2 ]; then
  echo "usage: sh scripts/addr2line.sh ADDR2LINE KERNEL [ADDR...]" >&2
  exit 2
fi
a2l=$1
kernel=$2
shift 2

if ! command -v "$a2l" >/dev/null 2>&1; then
  echo "addr2line.sh: $a2l not found (install the RISC-V binutils)" >&2
  exit 1
fi

if [ $# -gt 0 ]; then
  addrs="$*"
else
  if [ -t 0 ]; then
    echo "paste the panic output, then Ctrl-D:" >&2
  fi
  text=$(cat)
  # Backtrace frames first: "  #3 0xffffffc080208c3c sys_crash+0x4e".
  addrs=$(printf '%s\n' "$text" |
    sed -n 's/.*#[0-9][0-9]* \(0x[0-9a-fA-F]*\).*/\1/p')
  if [ -z "$addrs" ]; then
    # No backtrace: every address of the kernel image (0xffffffc08...).
    addrs=$(printf '%s\n' "$text" | grep -o '0xffffffc08[0-9a-fA-F]*' || true)
  fi
fi

if [ -z "$addrs" ]; then
  echo "addr2line.sh: no addresses found" >&2
  exit 1
fi

# -f function, -i inlined callers too, -p one line each, -C demangle.
for a in $addrs; do
  printf '%s: ' "$a"
  "$a2l" -e "$kernel" -f -i -p -C "$a"
done
