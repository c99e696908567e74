#!/bin/sh
# test_xv6_compat.sh: does a program written for xv6-riscv build unchanged
# against canopy's headers and C library? Compiles tests/xv6compat/*.c with
# the flags of user/ programs (make print-ucc) and links each with the
# user library, in a scratch directory. Needs a built tree (make).
# Prints "test NAME: OK" or "test NAME: FAIL why"; exits 1 on a failure.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failed=0

ok()   { echo "test $1: OK"; }
fail() { echo "test $1: FAIL $2"; failed=1; }

UCC=$(make -s -C "$ROOT" print-ucc) || exit 1
ULD=$(make -s -C "$ROOT" print-uld) || exit 1
ULIB="user/lib/usys.o user/lib/ulib.o user/lib/printf.o user/lib/umalloc.o user/lib/testlib.o"
make -s -C "$ROOT" $ULIB >/dev/null || exit 1

for src in "$ROOT"/tests/xv6compat/*.c; do
  name=$(basename "$src" .c)
  test=xv6compat_$name
  if ! (cd "$ROOT" && $UCC -c -o "$TMP/$name.o" "$src") >"$TMP/$name.err" 2>&1; then
    fail "$test" "does not compile: $(grep -m1 error "$TMP/$name.err")"
  elif ! (cd "$ROOT" && $ULD -o "$TMP/_$name" "$TMP/$name.o" $ULIB) >"$TMP/$name.err" 2>&1; then
    fail "$test" "does not link: $(head -c 300 "$TMP/$name.err")"
  else
    ok "$test"
  fi
done

# The old-style format must have been a warning, not silently accepted:
# otherwise the test above proves nothing about -Wno-error=format.
if (cd "$ROOT" && $UCC -c -o "$TMP/w.o" tests/xv6compat/xv6style.c 2>&1) |
   grep -q Wformat; then
  ok xv6compat_format_is_a_warning
else
  fail xv6compat_format_is_a_warning "compiling xv6style.c gave no -Wformat warning"
fi
exit $failed
