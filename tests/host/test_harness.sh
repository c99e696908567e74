#!/bin/sh
# test_harness.sh: does the test driver (tests/run.py) fail when it should?
# Runs it against tests/fake_qemu.py, a stand-in that boots instantly and
# breaks in one way per mode, and checks the exit status and the verdict
# lines: a clean run passes, and a panic, a failing usertest, a hang, a
# machine that ignores poweroff and one that never boots each fail with
# the test that names them. Prints "test NAME: OK" or "test NAME: FAIL why".
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failed=0

ok()   { echo "test $1: OK"; }
fail() { echo "test $1: FAIL $2"; failed=1; }

# run MODE SCALE GROUPS: the driver's output in $TMP/MODE.out, status in $rc
run() {
  FAKE_QEMU_MODE=$1 CANOPY_TEST_OUT="$TMP/out" python3 "$ROOT/tests/run.py" --qemu-cmd "python3 $ROOT/tests/fake_qemu.py" \
    --timeout-scale "$2" --only "$3" >"$TMP/$1.out" 2>&1
  rc=$?
}

# expect NAME MODE WANT_RC PATTERN...: each pattern must match a line
expect() {
  name=$1 mode=$2 want=$3
  shift 3
  if [ "$rc" != "$want" ]; then
    fail "$name" "exit status $rc, want $want: $(tail -n 3 "$TMP/$mode.out" | tr '\n' ' ')"
    return
  fi
  for pat in "$@"; do
    if ! grep -Eq "$pat" "$TMP/$mode.out"; then
      fail "$name" "no line matches '$pat': $(tail -n 5 "$TMP/$mode.out" | tr '\n' ' ')"
      return
    fi
  done
  ok "$name"
}

run clean 1 shell,usertests
expect harness_clean_run_passes clean 0 '^[1-9][0-9]* passed, 0 failed$' '^no_kernel_panic: OK$'
run panic 1 usertests
expect harness_panic_fails panic 1 '^no_kernel_panic: FAIL' ' failed$'
run fail 1 usertests
expect harness_failed_usertest_fails fail 1 '^usertests_copyout: FAIL' '^usertests_complete: FAIL'
run hang 0.05 usertests
expect harness_hang_times_out hang 1 '^usertests_forktest: FAIL \(timed out'
run nopoweroff 0.3 usertests
expect harness_no_poweroff_fails nopoweroff 1 '^poweroff_exits_qemu: FAIL'
run noboot 0.05 usertests
expect harness_no_boot_fails noboot 1 '^boot_to_prompt: FAIL \(timed out'
exit $failed
