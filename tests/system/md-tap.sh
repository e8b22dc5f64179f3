# shellcheck shell=bash
# TAP output for the system test: results on stdout, everything else as
# "# " comment lines or in the run's log files.

md_tap_count=0
md_tap_failed=0

md_ok () {
  md_tap_count=$((md_tap_count + 1))
  echo "ok $md_tap_count - $*"
}

md_not_ok () {
  md_tap_count=$((md_tap_count + 1))
  md_tap_failed=$((md_tap_failed + 1))
  echo "not ok $md_tap_count - $*"
}

# md_check DESCRIPTION COMMAND...: one TAP line from a command's status.
md_check () {
  local description=$1
  shift
  if "$@"; then
    md_ok "$description"
  else
    md_not_ok "$description"
  fi
}

# Diagnostics: each argument, or stdin when there is none, as comment lines.
md_diag () {
  if [ $# -gt 0 ]; then
    printf '%s\n' "$@" | sed 's/^/# /'
  else
    sed 's/^/# /'
  fi
}

# Meson's TAP parser treats a non-zero exit as an error, so under meson a skip
# is "1..0 # SKIP" with status 0; run by hand it is the usual 77.
md_skip_all () {
  echo "1..0 # SKIP $*"
  exit "${MD_SKIP_STATUS:-77}"
}

md_bail_out () {
  echo "Bail out! $*"
  exit 1
}

md_tap_finish () {
  echo "1..$md_tap_count"
  [ "$md_tap_failed" -eq 0 ]
}

# md_wait_for SECONDS COMMAND...: poll a condition until it holds or the
# deadline passes; at most 10 polls a second.
md_wait_for () {
  local deadline=$((SECONDS + $1))
  shift
  while ! "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
