#!/bin/sh
# test_bench.sh: does make bench's report (tests/bench.py) hold every
# operation? Feeds bench.py's table and CSV code with made-up program
# output for every operation user/bench.c prints, for canopy and xv6, and
# checks the table has a row per operation, the CSV a row per operation
# with a value in every column canopy measures, and that a missing
# operation is reported, and a failed -icount boot only loses the
# instruction column; and that the scaling table (make bench-scale) has a
# row per hart count and its columns. No QEMU. Prints "test NAME: OK|FAIL why".
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
python3 - "$ROOT/tests" <<'PY'
import csv, io, contextlib, sys
sys.path.insert(0, sys.argv[1])
import bench

def output(ops, counters=True):
    lines = ["bench clock=rdtime instret=yes"]
    for i, op in enumerate(ops):
        extra = " satp=2 tlb=3 disk=%d" % i if counters else ""
        lines.append("bench %s n=10 time=%d instret=%d%s" % (op, 100 * (i + 1), 5000, extra))
    return "\n".join(lines) + "\n"

def runs(ops, counters=True):
    rows, skipped = bench.parse_bench(output(ops, counters))
    return [(0.5, rows, skipped), (0.6, rows, skipped)]

failed = []
def check(name, ok, why):
    print("test %s: %s" % (name, "OK" if ok else "FAIL " + why))
    if not ok:
        failed.append(name)

canopy_runs, xv6_runs = runs(bench.OPS), runs(bench.XV6_OPS, counters=False)
canopy, xv6 = bench.per_op(canopy_runs), bench.per_op(xv6_runs)
out = io.StringIO()
with contextlib.redirect_stdout(out):
    bench.main_table(canopy)
    bench.ratio_table(canopy, xv6)
text = out.getvalue()
table_ops = [l.split("|")[0].strip() for l in text.splitlines() if "|" in l]
missing = [op for op in bench.OPS + [bench.BOOT] if op not in table_ops]
check("bench_table_every_op", not missing, "no row for %s" % missing)
header = text.splitlines()[0]
cols = ["us/op", "guest instr/op", "satp/op", "tlb flushes/op", "disk writes/op"]
check("bench_table_columns", all(c in header for c in cols), "header is %r" % header)

bench.write_csv("bench.csv", canopy, xv6)
rows = list(csv.DictReader(open("bench.csv")))
csv_ops = [r["op"] for r in rows]
check("bench_csv_row_per_op", csv_ops == [bench.BOOT] + bench.OPS,
      "CSV rows %s" % csv_ops)
empty = [(r["op"], k) for r in rows if r["op"] != bench.BOOT
         for k in ("us_per_op", "instr_per_op", "satp_per_op", "tlb_per_op", "disk_per_op")
         if r[k] == ""]
check("bench_csv_values", not empty, "empty cells %s" % empty[:3])
check("bench_csv_ratios", all(r["time_ratio"] for r in rows if r["op"] in bench.XV6_OPS),
      "an xv6 operation has no time ratio")

short = runs(bench.OPS[:3])
check("bench_missing_op_reported", bench.missing_ops(short) == bench.OPS[3:],
      "missing_ops said %s" % bench.missing_ops(short))
no_icount = bench.per_op([canopy_runs[0], None])
check("bench_without_icount_boot", all(r["instr"] is None for r in no_icount.values())
      and no_icount["getpid"]["us"] > 0 and not bench.missing_ops([canopy_runs[0], None]),
      "a failed -icount boot should leave only the instructions out")

# make bench-scale: one row per hart count, a ratio for each operation,
# "-" for a hart count whose boot failed.
def scale_rows(n):
    out = "bench clock=rdtime instret=yes\n" + "".join(
        "bench %s n=%d time=1 instret=%d\n" % (op, 10 * n, 1000 * n * (i + 1))
        for i, (op, _) in enumerate(bench.SCALE_OPS))
    return bench.parse_bench(out)
results = {n: scale_rows(n) for n in (1, 2, 4)}
results[8] = None
out = io.StringIO()
with contextlib.redirect_stdout(out):
    bench.scale_table(bench.scale_per_op(results))
lines = out.getvalue().splitlines()
harts = [l.split("|")[0].strip() for l in lines[2:]]
check("bench_scale_row_per_harts", harts == ["1", "2", "4", "8"], "rows %s" % harts)
want = ["harts"] + ["%s %s" % (name, c) for _, name in bench.SCALE_OPS
                    for c in ("instr/op", "ratio")]
check("bench_scale_columns", [c.strip() for c in lines[0].split("|")] == want,
      "header is %r" % lines[0])
cells = [c.strip() for c in lines[2].split("|")]
check("bench_scale_ratio_one", cells[2] == "1.00" and cells[4] == "1.00",
      "the first row's ratios are %r" % cells)
check("bench_scale_failed_boot", lines[-1].split("|")[1].strip() == "-",
      "a failed boot's row is %r" % lines[-1])
sys.exit(1 if failed else 0)
PY
