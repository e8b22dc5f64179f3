# What the LAN tests share (sourced after tests/support/md-lan.sh):
# mydailyd in a host namespace as systemd runs it, and TAP-ish checks.
#
#   md_server_start HOST NAME DISCOVERY   mydailyd on [::]:5683 in HOST
#                                         (PlainFrom= $MD_LAN_PLAIN_FROM, default the LAN)
#   md_server_stop HOST
#   check DESCRIPTION COMMAND...          "ok - ..." or "not ok - ..."
#
# $work must be a scratch directory; $MYDAILYD and $MYDAILYCTL the builds.

failures=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok - $what"; else echo "not ok - $what"; failures=$((failures + 1)); fi
}

declare -A md_server_pid
# mydailyd under systemd-socket-activate on the dual-stack [::]:5683 that
# mydaily.socket makes, woken by a unicast request (socket activation starts
# it on the first datagram, and it joins the groups as it starts); returns
# once it answered.
md_server_start() {
  local host=$1 name=$2 discovery=$3 i
  mkdir -p "$work/$host"
  # PlainFrom= lets the LAN use plain CoAP (tests that add without DTLS);
  # discovery answers whatever it says.
  printf '[Server]\nName=%s\nDiscovery=%s\nPlainFrom=%s\n' "$name" "$discovery" \
    "${MD_LAN_PLAIN_FROM-127.0.0.0/8 ::1 10.231.0.0/16 fe80::/10}" >"$work/$host/mydaily.conf"
  # Not md_lan_exec: a function run with & is a subshell, and $! must be
  # the daemon (ip netns exec and systemd-socket-activate exec it).
  ip netns exec "$(md_lan_ns "$host")" systemd-socket-activate --datagram -l '[::]:5683' \
    "$MYDAILYD" --config="$work/$host/mydaily.conf" --state-directory="$work/$host/state" \
    >>"$work/$host/log" 2>&1 &
  md_server_pid[$host]=$!
  for i in $(seq 30); do
    HOME=$work/home XDG_CACHE_HOME=$work/cache XDG_STATE_HOME=$work/state \
      md_lan_exec "$host" "$MYDAILYCTL" --timeout=2 --no-queue -s 127.0.0.1 status \
      >/dev/null 2>&1 && return 0
  done
  echo "# $host never answered:" >&2
  cat "$work/$host/log" >&2
  return 1
}

md_server_stop() {
  kill "${md_server_pid[$1]}" 2>/dev/null
  wait "${md_server_pid[$1]}" 2>/dev/null
}

md_server_logs() {
  local host
  for host in "$@"; do sed "s/^/# $host: /" "$work/$host/log"; done
}
