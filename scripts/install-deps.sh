#!/bin/sh
# install-deps.sh: make sure the tools canopy needs are here; run by
# `make deps`, hence by every `make qemu` and `make test`.
#
# Needs: a RISC-V gcc (riscv64-unknown-elf-gcc, riscv64-linux-gnu-gcc or
# riscv64-elf-gcc), a host C compiler (for mkfs), qemu-system-riscv64 7.2 or
# newer, OpenSBI firmware, gdb-multiarch (or a riscv64 gdb) and python3.
#
# When everything is present it prints nothing and exits 0. On Debian and
# Ubuntu it installs what is missing with apt-get (through sudo when not
# root) and checks again. Elsewhere it says what to install and exits 1.
#
# Environment:
#   CANOPY_DEPS_DRYRUN=1   print the apt-get commands instead of running them
#   CANOPY_OS_RELEASE      another os-release file (for testing this script)
#   TOOLPREFIX, QEMU       as in the Makefile

DEBIAN_PACKAGES="gcc-riscv64-unknown-elf qemu-system-misc opensbi gdb-multiarch python3"
QEMU=${QEMU:-qemu-system-riscv64}
QEMU_MIN_MAJOR=7
QEMU_MIN_MINOR=2

have() {
  command -v "$1" >/dev/null 2>&1
}

# ---- the individual checks: each returns 0 when the tool is there ----

have_riscv_gcc() {
  if [ -n "$TOOLPREFIX" ]; then
    have "${TOOLPREFIX}gcc"
    return
  fi
  have riscv64-unknown-elf-gcc || have riscv64-linux-gnu-gcc || have riscv64-elf-gcc
}

have_host_cc() {
  have "${HOSTCC:-cc}"
}

have_gdb() {
  have gdb-multiarch || have riscv64-unknown-elf-gdb || have riscv64-elf-gdb ||
    have riscv64-linux-gnu-gdb
}

# OpenSBI as QEMU's "-bios default" finds it: in QEMU's data directory
# (the system one, or share/qemu beside the binary for Homebrew and source
# builds), or Debian's opensbi package.
have_opensbi() {
  fw=opensbi-riscv64-generic-fw_dynamic.bin
  qemu_path=$(command -v "$QEMU" 2>/dev/null)
  qemu_share=""
  if [ -n "$qemu_path" ]; then
    qemu_share=$(dirname "$qemu_path")/../share/qemu
  fi
  for f in /usr/share/qemu/$fw /usr/local/share/qemu/$fw "$qemu_share/$fw" \
           /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin; do
    [ -f "$f" ] && return 0
  done
  return 1
}

# List what is missing, one name per word, on stdout.
missing_tools() {
  have_riscv_gcc || printf '%s ' "riscv64-gcc"
  have_host_cc   || printf '%s ' "cc"
  have "$QEMU"   || printf '%s ' "qemu-system-riscv64"
  have_opensbi   || printf '%s ' "opensbi"
  have_gdb       || printf '%s ' "gdb-multiarch"
  have python3   || printf '%s ' "python3"
}

# ---- QEMU's version ----

# "QEMU emulator version 7.2.22 (Debian ...)" -> "7.2.22"
qemu_version() {
  "$QEMU" --version 2>/dev/null | sed -n 's/.*version \([0-9][0-9]*\.[0-9][0-9]*[.0-9]*\).*/\1/p' | head -n 1
}

# Exit 1 with an explanation if QEMU is older than 7.2.
check_qemu_version() {
  v=$(qemu_version)
  if [ -z "$v" ]; then
    echo "canopy: could not read the version of $QEMU (tried '$QEMU --version')." >&2
    exit 1
  fi
  major=${v%%.*}
  rest=${v#*.}
  minor=${rest%%.*}
  if [ "$major" -gt "$QEMU_MIN_MAJOR" ] ||
     { [ "$major" -eq "$QEMU_MIN_MAJOR" ] && [ "$minor" -ge "$QEMU_MIN_MINOR" ]; }; then
    return 0
  fi
  cat >&2 <<EOF
canopy needs QEMU >= $QEMU_MIN_MAJOR.$QEMU_MIN_MINOR (found $v): older versions hang at boot,
because their virt machine and bundled OpenSBI firmware lack what canopy is
written and tested against (QEMU 7.2 with OpenSBI 1.1), and the hang is
silent. Install a newer QEMU (Debian 12, Ubuntu 24.04 and Homebrew have
one), or build it from source and run
'make qemu QEMU=/path/to/qemu-system-riscv64'.
EOF
  exit 1
}

# ---- installing ----

is_debian_like() {
  os_release=${CANOPY_OS_RELEASE:-/etc/os-release}
  [ -r "$os_release" ] || return 1
  # ID and ID_LIKE, e.g. ID=ubuntu ID_LIKE=debian
  ids=$(sed -n 's/^ID\(_LIKE\)\{0,1\}=//p' "$os_release" | tr -d '"' | tr '\n' ' ')
  case " $ids " in
    *" debian "*|*" ubuntu "*) have apt-get ;;
    *) return 1 ;;
  esac
}

# Run a command as root: directly, through sudo, or (dry run) just print it.
as_root() {
  if [ "${CANOPY_DEPS_DRYRUN:-0}" = 1 ]; then
    echo "would run: $*"
    return 0
  fi
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif have sudo; then
    sudo "$@"
  else
    echo "canopy: need root to install packages, and sudo is not installed." >&2
    echo "canopy: as root, run: $*" >&2
    exit 1
  fi
}

apt_install() {
  pkgs=$DEBIAN_PACKAGES
  have_host_cc || pkgs="$pkgs build-essential"
  echo "canopy: installing $pkgs (missing: $1)" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || exit 1
  # shellcheck disable=SC2086 # $pkgs is a list of words
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs || exit 1
}

# What to tell people on systems we do not install on.
print_manual_help() {
  missing=$1
  echo "canopy: missing: $missing" >&2
  if have brew; then
    echo "canopy: on macOS: brew install qemu riscv64-elf-gcc riscv64-elf-gdb python3" >&2
  elif have dnf; then
    echo "canopy: on Fedora: sudo dnf install qemu-system-riscv gdb python3, plus a riscv64 ELF gcc" >&2
  elif have pacman; then
    echo "canopy: on Arch: sudo pacman -S qemu-system-riscv qemu-system-riscv-firmware riscv64-elf-gcc riscv64-elf-gdb python" >&2
  fi
  echo "canopy: in general: a riscv64 ELF gcc, qemu-system-riscv64 >= 7.2 with its" >&2
  echo "canopy: OpenSBI firmware, gdb-multiarch (or a riscv64 gdb) and python3." >&2
}

# ---- main ----

missing=$(missing_tools)
if [ -n "$missing" ]; then
  if ! is_debian_like; then
    print_manual_help "$missing"
    exit 1
  fi
  apt_install "$missing"
  if [ "${CANOPY_DEPS_DRYRUN:-0}" = 1 ]; then
    echo "canopy: dry run, nothing installed" >&2
    exit 1
  fi
  missing=$(missing_tools)
  if [ -n "$missing" ]; then
    echo "canopy: still missing after apt-get install: $missing" >&2
    exit 1
  fi
fi
check_qemu_version
exit 0
