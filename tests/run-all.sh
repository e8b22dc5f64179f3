#!/usr/bin/env bash
# Command B of the README: on Debian 12 as root, install what the tests need
# and run every test.
#
#   0. the style: every C file under src/ and tests/ as clang-format leaves
#      it (a failed step otherwise); every build below uses -Dwerror=true;
#   1. the normal build: unit, integration, interop and system suites, then
#      the benchmark in its short mode (md-bench --short);
#   2. the whole suite again in an ASan+UBSan build (the system suite boots a
#      container with the normal build, so it runs once, in step 1);
#   3. every libFuzzer target for $MD_FUZZ_SECONDS (default 60) seconds.
#
# It ends with one line "N passed, N failed, N skipped" over all of them and
# exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
builds=${MD_BUILD_ROOT:-$top/build}
fuzz_seconds=${MD_FUZZ_SECONDS:-60}

deps=(meson ninja-build gcc clang clang-format libclang-rt-14-dev pkg-config gettext
      libglib2.0-dev libsystemd-dev libjson-glib-dev libedit-dev libgnutls28-dev bash-completion
      scdoc zsh man-db
      libcoap3-bin gnutls-bin tshark systemd systemd-container debootstrap iproute2
      nftables util-linux procps less python3
      # DNS-SD: the LAN test runs an avahi-daemon per namespace host
      avahi-daemon avahi-utils dbus
      # the Debian package, built and installed by the system test
      build-essential debhelper dpkg-dev lintian)

install_deps() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "run-all: not root, not installing packages (tests that need root skip)"
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends "${deps[@]}"
}

# meson test over one build; its results land in meson-logs/testlog.json.
run_suite() {
  local dir=$1; shift
  meson test -C "$dir" --print-errorlogs "$@"
}

run_fuzzers() {
  local dir=$builds/fuzz status=0
  CC=clang setup_build "$dir" -Dfuzzing=true -Db_lundef=false || return 1
  : >"$dir/fuzz-results.txt"
  # One target per seed corpus folder: tests/fuzz/corpus/NAME -> fuzz-NAME.
  for seeds in "$top"/tests/fuzz/corpus/*/; do
    local name target corpus
    name=fuzz-$(basename "$seeds")
    target=$dir/tests/fuzz/$name
    if [ ! -x "$target" ]; then
      echo "run-all: $name was not built"
      echo "fail $name" >>"$dir/fuzz-results.txt"
      status=1
      continue
    fi
    corpus=$(mktemp -d)
    cp -r "$seeds". "$corpus/"
    echo "run-all: $name for ${fuzz_seconds}s"
    # Crash inputs go to the build tree, not the current directory.
    if "$target" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
        -artifact_prefix="$dir/$name-" "$corpus" \
        >"$dir/$name.log" 2>&1; then
      echo "pass $name" >>"$dir/fuzz-results.txt"
      grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units)' "$dir/$name.log" || true
    else
      tail -40 "$dir/$name.log"
      echo "fail $name" >>"$dir/fuzz-results.txt"
      status=1
    fi
    rm -rf "$corpus"
  done
  return $status
}

summarize() {
  python3 - "$builds" <<'PY'
import json, pathlib, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for log in pathlib.Path(sys.argv[1]).glob("*/meson-logs/testlog.json"):
    for line in log.read_text().splitlines():
        result = json.loads(line)["result"]
        key = {"OK": "passed", "EXPECTEDFAIL": "passed", "SKIP": "skipped"}.get(result, "failed")
        counts[key] += 1
for name in ("fuzz/fuzz-results.txt", "step-failures.txt"):
    results = pathlib.Path(sys.argv[1], name)
    if results.exists():
        for line in results.read_text().splitlines():
            counts["passed" if line.startswith("pass") else "failed"] += 1
print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
sys.exit(1 if counts["failed"] else 0)
PY
}

# A step that fails before meson writes its log (setup, build, a crashed
# meson test) still counts as a failure in the summary.
step_failed() {
  echo "run-all: $1 failed"
  echo "fail $1" >>"$builds/step-failures.txt"
}

# setup_build DIR OPTIONS...: configure (again) and build one tree; a
# warning is an error.
setup_build() {
  local dir=$1; shift
  { meson setup --reconfigure "$dir" -Dwerror=true "$@" >/dev/null 2>&1 ||
      meson setup "$dir" -Dwerror=true "$@"; } &&
    ninja -C "$dir"
}

# The tree is formatted with the repository's .clang-format.
check_format() {
  local files
  mapfile -t files < <(find "$top/src" "$top/tests" -name '*.[ch]' | sort)
  [ "${#files[@]}" -gt 0 ] || return 1
  clang-format --dry-run -Werror "${files[@]}"
}

install_deps || { echo "run-all: installing packages failed"; exit 1; }
mkdir -p "$builds"
rm -f "$builds"/*/meson-logs/testlog.json "$builds/step-failures.txt" \
  "$builds/fuzz/fuzz-results.txt"

check_format || step_failed "clang-format check"

# As root the container suite must run: a missing tool is a failure, not a skip.
release_options=()
[ "$(id -u)" -eq 0 ] && release_options+=(-Dsystem_tests=enabled)
if setup_build "$builds/release" "${release_options[@]}"; then
  run_suite "$builds/release" || [ -f "$builds/release/meson-logs/testlog.json" ] ||
    step_failed "meson test (release)"
  # The benchmark in its short mode, so that it keeps working: a failed run
  # counts, its figures are not judged.
  if "$builds/release/tests/bench/md-bench" --short >"$builds/release/md-bench-short.txt"; then
    echo "pass md-bench --short" >>"$builds/step-failures.txt"
  else
    step_failed "md-bench --short"
  fi
else
  step_failed "release build"
fi

if setup_build "$builds/asan" -Db_sanitize=address,undefined -Db_lundef=false; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite "$builds/asan" --no-suite system --timeout-multiplier 3 ||
    [ -f "$builds/asan/meson-logs/testlog.json" ] || step_failed "meson test (asan)"
else
  step_failed "asan build"
fi

run_fuzzers || [ -f "$builds/fuzz/fuzz-results.txt" ] || step_failed "fuzz build"

summarize
