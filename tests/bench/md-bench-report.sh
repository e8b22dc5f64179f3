#!/usr/bin/env bash
# The one command behind docs/performance.md: every figure, in one run.
#
#   tests/bench/md-bench-report.sh [BUILD_DIR]     (default: build)
#   ninja -C BUILD_DIR bench-report                (the same, through meson)
#
# It runs md-bench in full (about 3 minutes on a 2-CPU VM), with mydailyd
# profiled under the largest ingest load, and leaves in BUILD_DIR/bench-report/
#   metrics.txt       every metric line of the run
#   table.md          the tables to paste into docs/performance.md
#   ingest.dat        the data docs/performance.gp plots
#   perf.data         the profile; perf-report.txt and perf-children.txt read it
# and draws docs/performance.png from ingest.dat.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
out=$build/bench-report
mkdir -p "$out"

# Under `ninja bench-report` meson has built everything already; a second
# ninja in the same tree would fight the first.
if [ -z "${MESON_BUILD_ROOT:-}" ]; then
  ninja -C "$build" >/dev/null
fi

profile=()
if command -v perf >/dev/null; then
  profile=(--profile)
else
  echo "md-bench-report: perf is not installed, no profile" >&2
fi
rm -f "$out/perf.data"
"$build/tests/bench/md-bench" --report-dir="$out" "${profile[@]}" | tee "$out/metrics.txt"

# startup.md holds two more rows of the targets table that ends ingest.md.
cat "$out/ingest.md" "$out/startup.md" >"$out/table.md"

if command -v gnuplot >/dev/null; then
  gnuplot -e "datafile='$out/ingest.dat'; outfile='$src/docs/performance.png'" \
    "$src/docs/performance.gp"
else
  echo "md-bench-report: gnuplot is not installed, no plot" >&2
fi

if [ -f "$out/perf.data" ]; then
  # Self time by function, and time including callees: where the time goes.
  perf report -i "$out/perf.data" --stdio --no-children --sort dso,symbol -g none \
    --percent-limit 0.5 >"$out/perf-report.txt" 2>/dev/null
  perf report -i "$out/perf.data" --stdio --children --sort symbol -g none \
    --percent-limit 2 >"$out/perf-children.txt" 2>/dev/null
fi

echo "md-bench-report: $out/table.md, $out/ingest.dat, $src/docs/performance.png" >&2
