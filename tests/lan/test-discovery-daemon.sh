#!/bin/bash
# CoAP multicast discovery, the daemon's side (issue 11, item 1), between
# network namespaces (tests/support/md-lan.sh): two servers, each mydailyd
# under systemd-socket-activate on the dual-stack [::]:5683 that
# mydaily.socket makes, and a client host that sends multicast requests with
# md-probe.  Needs root; exits 77 without namespaces.
set -u
. "$MD_SOURCE_DIR/tests/support/md-lan.sh"
md_lan_require || exit 77
command -v systemd-socket-activate >/dev/null || { echo "no systemd-socket-activate" >&2; exit 77; }

work=$(mktemp -d)
md_lan_init
trap 'md_lan_cleanup; rm -rf "$work"' EXIT
md_lan_host alpha 10
md_lan_host beta 11
md_lan_host client 20
. "$MD_SOURCE_DIR/tests/lan/md-lan-mydaily.sh"

probe() { # probe GROUP [md-probe options]: the answers, one line each
  local group=$1
  shift
  md_lan_exec client "$MD_PROBE" --window-ms=2500 "$@" "$group" eth0
}

# PlainFrom= at its default, loopback only: discovery answers all the same.
export MD_LAN_PLAIN_FROM="127.0.0.0/8 ::1"
md_server_start alpha alpha true || exit 1
md_server_start beta "beta's notebook" true || exit 1

# Every answer within three times its request.
within_budget() {
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         if (v["answer"] + 0 > 3 * v["request"]) bad = 1; n++ }
       END { exit (n == 0 || bad) }' <<<"$1"
}
count() { grep -c "$2" <<<"$1"; }

out=$(probe 224.0.1.187 --query=rt=mydaily.notes)
echo "$out" | sed 's/^/# /'
check "IPv4: both servers answer" test "$(count "$out" 'code=2.05')" -eq 2
check "IPv4: by unicast from alpha's address" grep -q "from=$(md_lan_addr alpha):5683 " <<<"$out"
check "IPv4: by unicast from beta's address" grep -q "from=$(md_lan_addr beta):5683 " <<<"$out"
check "IPv4: NON answers" test "$(count "$out" 'type=NON')" -eq 2
check "IPv4: the link names the notebook" \
  grep -q 'payload=</notes>;rt="mydaily.notes";ct=0;notebook="[0-9a-f-]\{36\}";title="alpha"$' <<<"$out"
check "IPv4: a name with a quote-free apostrophe" grep -q "title=\"beta's notebook\"" <<<"$out"
check "IPv4: no coaps= without a DTLS socket" bash -c '! grep -q coaps= <<<"$1"' _ "$out"
check "IPv4: within 3x the request" within_budget "$out"

out=$(probe 224.0.1.187)
echo "$out" | sed 's/^/# /'
check "a bare request (no filter) is answered too" test "$(count "$out" 'code=2.05')" -eq 2
check "a bare request gets a trimmed link within 3x" within_budget "$out"

out=$(probe ff02::fd --query='rt=mydaily*')
echo "$out" | sed 's/^/# /'
check "IPv6 ff02::fd: both answer, from link-local addresses" \
  test "$(count "$out" 'from=fe80::.*code=2.05.*notebook=')" -eq 2
check "IPv6: within 3x the request" within_budget "$out"

out=$(probe 224.0.1.187 --con --query=rt=mydaily.notes)
check "a CON request gets NON answers, never an ACK" \
  test "$(count "$out" 'type=NON')" -eq 2 -a "$(count "$out" 'type=ACK')" -eq 0

for query in rt=mydaily.note rt=core.rd if=core.rd; do
  out=$(probe 224.0.1.187 --query=$query)
  check "?$query: no answer" test -z "$out"
done
# A unicast request from the client gets nothing (PlainFrom=), so what
# the groups answer is discovery's alone.
out=$(md_lan_exec client "$MD_PROBE" --window-ms=1000 --query=rt=mydaily.notes "$(md_lan_addr alpha)" eth0)
check "unicast from outside PlainFrom=: no answer" test -z "$out"
out=$(probe 224.0.1.187 --path=notes)
check "GET /notes to the group: no answer (no notes, no error)" test -z "$out"
out=$(probe 224.0.1.187 --path=status)
check "GET /status to the group: no answer" test -z "$out"

md_server_stop alpha
md_server_stop beta
md_server_start alpha alpha false || exit 1
md_server_start beta beta false || exit 1
out=$(probe 224.0.1.187 --query=rt=mydaily.notes)
check "Discovery=false: neither answers (IPv4)" test -z "$out"
out=$(probe ff02::fd)
check "Discovery=false: neither answers (IPv6)" test -z "$out"

[ "$failures" -eq 0 ] || md_server_logs alpha beta
exit $((failures > 0))
