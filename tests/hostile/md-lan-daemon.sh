# Shared by the LAN tests: mydailyd in namespace "server" of tests/support/
# md-lan.sh, plain on 5683 and DTLS on 5684, with a history and a key.
#
#   . tests/hostile/md-lan-daemon.sh
#   md_lan_daemon_start DIR   # after md_lan_host server N; waits until it answers
#   md_lan_probe HOST ARGS... # md-plain-probe ARGS... in HOST's namespace

md_lan_probe() {
  local host=$1
  shift
  md_lan_exec "$host" "$MD_PLAIN_PROBE" "$@"
}

# A history of about 20 KB in old 4-field lines, which every version reads.
md_lan_daemon_history() {
  local id
  for id in $(seq 1 300); do
    printf '%s\t2026-11-30T08:00:00Z\t-\tnote %s of the history a LAN peer asks for\n' "$id" "$id"
  done
}

md_lan_daemon_start() {
  local dir=$1 tries args
  mkdir -p "$dir/state"
  md_lan_daemon_history >"$dir/state/notes"
  "$MYDAILYCTL" keygen alice >"$dir/keys"
  chmod 600 "$dir/keys"
  args=(--listen=0.0.0.0:5683 --listen-dtls=0.0.0.0:5684 --keys="$dir/keys"
    --state-directory="$dir/state")
  # Once PlainFrom= exists, plain answers only the sources it lists.
  if "$MYDAILYD" --print-config 2>/dev/null | grep -q '^#* *PlainFrom='; then
    printf '[Server]\nPlainFrom=127.0.0.0/8 %s.0/24\n' "$md_lan_net" >"$dir/mydaily.conf"
    args+=(--config="$dir/mydaily.conf")
  fi
  md_lan_exec server "$MYDAILYD" "${args[@]}" 2>"$dir/mydailyd.log" &
  for tries in $(seq 1 20); do
    if md_lan_probe server 127.0.0.1 5683 status >/dev/null 2>&1; then
      return 0
    fi
  done
  echo "mydailyd did not answer:" >&2
  cat "$dir/mydailyd.log" >&2
  return 1
}
