#!/bin/bash
# mydailyctl finds notebooks on the LAN (issue 11, item 2): `mydailyctl
# discover` in a client namespace lists the notebooks of server namespaces.
# Needs root; exits 77 without namespaces.
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

# mydailyctl as a user of the client host, with a home of its own.
ctl() {
  HOME=$work/user XDG_CONFIG_HOME=$work/user/config XDG_CACHE_HOME=$work/user/cache \
    XDG_STATE_HOME=$work/user/state md_lan_exec client "$MYDAILYCTL" "$@"
}

md_server_start alpha "alpha 厨房" true || exit 1
id_alpha=$(sed -n 1p "$work/alpha/state/notebook-id" 2>/dev/null)

out=$(ctl discover)
status=$?
echo "$out" | sed 's/^/# /'
check "discover: exit 0 with one notebook" test "$status" -eq 0
check "discover: a heading and one line (its IPv4 and IPv6 answers merged)" \
  test "$(wc -l <<<"$out")" -eq 2
check "discover: name, address, identity, plain, no key" \
  grep -q "^alpha 厨房  *$(md_lan_addr alpha)  *$id_alpha  *plain  *no$" <<<"$out"

json=$(ctl discover -o json --wait=1)
echo "$json" | sed 's/^/# /'
check "discover -o json: the IPv4 address" \
  grep -q "\"address\":\"$(md_lan_addr alpha)\",\"server\":\"$(md_lan_addr alpha):5683\",\"notebook\":\"$id_alpha\"" <<<"$json"
check "discover -o json: the link-local address too" grep -q '"address":"fe80::[0-9a-f:]*%eth0"' <<<"$json"

md_server_start beta beta true || exit 1
out=$(ctl discover)
echo "$out" | sed 's/^/# /'
check "two servers: both listed" test "$(grep -c ' plain ' <<<"$out")" -eq 2
check "two servers: beta's address" grep -q "^beta  *$(md_lan_addr beta) " <<<"$out"

ctl discover --wait=0 >/dev/null 2>&1
check "discover --wait=0: a usage error" test $? -eq 64

md_server_stop alpha
md_server_stop beta
md_server_start alpha alpha false || exit 1
out=$(ctl discover 2>&1)
status=$?
check "Discovery=false: nothing found, exit 2" test "$status" -eq 2
check "Discovery=false: says so" grep -q "no notebook answered" <<<"$out"

[ "$failures" -eq 0 ] || md_server_logs alpha beta
exit $((failures > 0))
