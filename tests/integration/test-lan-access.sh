#!/bin/bash
# The plain port closed beyond loopback, seen from a LAN peer (issue 10, item
# 5): a server namespace runs mydailyd on the dual-stack [::]:5683 and
# [::]:5684 that systemd-socket-activate passes it, as mydaily.socket's (so
# IPv4 peers arrive IPv4-mapped), and a client namespace with an RFC 1918
# address tries it.
#   - By default the plain port gives the peer no answer at all: libcoap's
#     client times out, the peer's raw datagrams get nothing back (not even
#     an RST) while /status's plain-refused grows, and DTLS with a key works.
#   - With PlainFrom= naming the LAN, plain reads answer; a write from an
#     address that never answers Echo is not executed, and coap-client-notls
#     (which does Echo) gets its write stored once.
# Needs root (network namespaces), systemd-socket-activate, coap-client-notls,
# coap-client-gnutls and python3; exits 77 (skip) without them.
set -u

: "${MD_SOURCE_DIR:?}" "${MYDAILYD:?}" "${MYDAILYCTL:?}"
. "$MD_SOURCE_DIR/tests/support/md-lan.sh"

peer="$MD_SOURCE_DIR/tests/support/md-lan-peer.py"
hello="$MD_SOURCE_DIR/tests/fuzz/corpus/dtls/frame-01" # a gnutls ClientHello
for tool in systemd-socket-activate coap-client-notls coap-client-gnutls python3 timeout; do
  if ! command -v "$tool" >/dev/null; then
    echo "skip: needs $tool"
    exit 77
  fi
done
md_lan_require || exit 77

failures=0
ok() { echo "ok - $*"; }
not_ok() {
  echo "not ok - $*"
  failures=$((failures + 1))
}
check() { # check DESCRIPTION CMD...: ok when CMD succeeds
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

work=$(mktemp -d /tmp/md-lan-access-XXXXXX)
md_lan_init
trap 'md_lan_cleanup; rm -rf "$work"' EXIT
md_lan_host server 10
md_lan_host client 20
server=$(md_lan_addr server)
lan="${server%.*}.0/24"

"$MYDAILYCTL" keygen alice >"$work/keys"
chmod 0600 "$work/keys"
key=$(cut -d' ' -f2 "$work/keys")
daemon_pid=

# coap-client-notls in host $1 with the rest of the arguments; at most 10 s.
plain_client() {
  local host=$1
  shift
  md_lan_exec "$host" timeout 10 coap-client-notls -B 3 "$@" 2>/dev/null
}

# The value of /status line $1, read from loopback inside the server.
status_value() {
  plain_client server -m get coap://127.0.0.1/status | sed -n "s/^$1: //p"
}

# Waits (bounded) until /status answers from loopback; FALSE if it never does.
wait_ready() {
  local i
  for i in $(seq 100); do
    [ -n "$(status_value notes)" ] && return 0
    kill -0 "$daemon_pid" 2>/dev/null || return 1
  done
  return 1
}

# start_daemon CONFIG-TEXT: a fresh mydailyd in the server namespace.
start_daemon() {
  stop_daemon
  printf '%s\n' "$1" >"$work/mydaily.conf"
  # It starts mydailyd on the first datagram: wait_ready's.  Not through
  # md_lan_exec, a function: its subshell's pid would not be the daemon's.
  ip netns exec "$(md_lan_ns server)" systemd-socket-activate --datagram -l '[::]:5683' -l '[::]:5684' \
    --fdname=coap:coaps "$MYDAILYD" --keys="$work/keys" --state-directory="$work/state" \
    --config="$work/mydaily.conf" 2>>"$work/daemon.log" &
  daemon_pid=$!
  wait_ready || {
    cat "$work/daemon.log"
    echo "Bail out! mydailyd did not start"
    exit 1
  }
}

stop_daemon() {
  if [ -n "$daemon_pid" ]; then
    kill -TERM "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
    daemon_pid=
  fi
}

# Waits (bounded) until plain-refused is at least $1.
wait_refused() {
  local i
  for i in $(seq 50); do
    [ "$(status_value plain-refused)" -ge "$1" ] 2>/dev/null && return 0
  done
  return 1
}

# A command for the peer (run in the client namespace) that waits as
# wait_refused $1 does.
write_barrier() {
  cat >"$work/barrier.sh" <<EOF
#!/bin/bash
for i in \$(seq 50); do
  v=\$(ip netns exec $(md_lan_ns server) timeout 10 coap-client-notls -B 3 -m get \\
    coap://127.0.0.1/status 2>/dev/null | sed -n 's/^plain-refused: //p')
  [ "\${v:-0}" -ge $1 ] && exit 0
done
exit 1
EOF
  echo "bash $work/barrier.sh"
}

notes_with() { # how many lines of the notes file hold $1
  grep -c -F -- "$1" "$work/state/notes" 2>/dev/null || true
}

# ---- by default: loopback only ------------------------------------------------

start_daemon "[Server]"
check "the plain port serves loopback inside the server" [ "$(status_value plain-refused)" = 0 ]
plain_client server -m post -e "written on the server" coap://127.0.0.1/notes >/dev/null
check "... and takes its writes" [ "$(notes_with 'written on the server')" = 1 ]

out=$(plain_client client -B 2 -m get "coap://$server/notes")
check "coap-client-notls from the LAN gets nothing" [ -z "$out" ]
check "its datagrams were refused, and counted" wait_refused 1

before=$(status_value plain-refused)
check "raw datagrams from the LAN get nothing back, not even an RST" \
  md_lan_exec client python3 "$peer" silent "$server" 5683 5684 "$hello" \
  "$(write_barrier "$((before + 4))")"
check "plain-refused counted all four" [ "$(status_value plain-refused)" -ge "$((before + 4))" ]
check "the LAN's POST stored nothing" [ "$(notes_with 'from the LAN')" = 0 ]
check "the refusals were logged once, at a limited rate" \
  [ "$(grep -c 'from outside PlainFrom=' "$work/daemon.log")" = 1 ]

md_lan_exec client timeout 20 coap-client-gnutls -B 5 -u alice -k "$key" -m post \
  -e "over DTLS from the LAN" "coaps://$server/notes" >/dev/null 2>&1
check "DTLS with a key from the LAN stores a note" [ "$(notes_with 'over DTLS from the LAN')" = 1 ]
out=$(md_lan_exec client timeout 20 coap-client-gnutls -B 5 -u alice -k "$key" -m get \
  "coaps://$server/notes" 2>/dev/null)
check "DTLS with a key from the LAN reads the notes" grep -q -F "over DTLS from the LAN" <<<"$out"

# ---- PlainFrom= with the LAN ----------------------------------------------------

start_daemon "$(printf '[Server]\nPlainFrom=127.0.0.0/8 ::1 %s\n' "$lan")"
before=$(status_value plain-refused)
out=$(plain_client client -m get "coap://$server/notes")
check "with PlainFrom= the LAN reads the notes in plain" \
  grep -q -F "written on the server" <<<"$out"

check "a write that never answers Echo is challenged each time" \
  md_lan_exec client python3 "$peer" write-no-echo "$server" 5683 "never proven"
check "... and not executed" [ "$(notes_with 'never proven')" = 0 ]

plain_client client -m post -e "plain from the LAN" "coap://$server/notes" >/dev/null
check "coap-client-notls's write (with Echo) is stored once" \
  [ "$(notes_with 'plain from the LAN')" = 1 ]
check "nothing from the LAN was refused" [ "$(status_value plain-refused)" = "$before" ]

stop_daemon
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed; the daemon's log:"
  cat "$work/daemon.log"
  exit 1
fi
exit 0
