#!/bin/bash
# A notebook found on the LAN is used over DTLS when the user logged in to
# it (issue 11, item 2): the credential refers to the notebook's identity,
# so after the server moves to another address, `mydailyctl add` with no
# -s still finds it and uses the same key.  Plain CoAP from the client to
# the server's unicast address is dropped (nftables in the server's
# namespace; multicast discovery still passes), so a note that arrives came
# over DTLS.  Needs root and nft; exits 77 without them.
set -u
. "$MD_SOURCE_DIR/tests/support/md-lan.sh"
md_lan_require || exit 77
command -v nft >/dev/null || { echo "no nft" >&2; exit 77; }

work=$(mktemp -d)
md_lan_init
trap 'md_lan_cleanup; rm -rf "$work"' EXIT
md_lan_host alpha 10
md_lan_host client 20
. "$MD_SOURCE_DIR/tests/lan/md-lan-mydaily.sh"

ctl() {
  env -u MYDAILY_SERVER -u MYDAILY_KEY_FILE HOME="$work/user" XDG_CONFIG_HOME="$work/user/config" \
    XDG_CACHE_HOME="$work/user/cache" XDG_STATE_HOME="$work/user/state" \
    ip netns exec "$(md_lan_ns client)" "$MYDAILYCTL" --timeout=5 "$@" </dev/null
}
notes_of() { awk -F'\t' '{ print $NF }' "$work/$1/state/notes" 2>/dev/null; }

mkdir -p "$work/alpha"
"$MYDAILYCTL" keygen alice >"$work/alpha/keys"
chmod 600 "$work/alpha/keys"
cp "$work/alpha/keys" "$work/alice.key"
printf '[Server]\nName=alpha\n' >"$work/alpha/mydaily.conf"
ip netns exec "$(md_lan_ns alpha)" "$MYDAILYD" --listen=0.0.0.0:5683 --listen=[::]:5683 \
  --listen-dtls=0.0.0.0:5684 --keys="$work/alpha/keys" --config="$work/alpha/mydaily.conf" \
  --state-directory="$work/alpha/state" >"$work/alpha/log" 2>&1 &
for i in $(seq 30); do
  HOME=$work/home XDG_STATE_HOME=$work/home/state md_lan_exec alpha "$MYDAILYCTL" --timeout=2 \
    --no-queue -s coap://127.0.0.1 status >/dev/null 2>&1 && break
done
id_alpha=$(cat "$work/alpha/state/notebook-id")

# No plain CoAP from the client to alpha's own addresses.
md_lan_exec alpha nft -f - <<NFT
table inet lan {
  chain input {
    type filter hook input priority 0;
    udp dport 5683 fib daddr type local ip saddr $(md_lan_addr client) drop
    udp dport 5683 fib daddr type local ip6 saddr fe80::/10 drop
  }
}
NFT

ctl login --key-file="$work/alice.key" "$(md_lan_addr alpha)" alice >"$work/out" 2>&1
check "login to alpha over DTLS" test $? -eq 0
sed 's/^/# login: /' "$work/out"
out=$(ctl discover)
echo "$out" | sed 's/^/# /'
check "discover: alpha offers DTLS and the key is held" \
  grep -q "^alpha  *$(md_lan_addr alpha)  *$id_alpha  *dtls:5684  *yes$" <<<"$out"

ctl --no-queue add "over DTLS" >"$work/out" 2>"$work/err"
check "add with no -s, plain blocked: stored (so over DTLS)" grep -qx "over DTLS" <(notes_of alpha)
sed 's/^/# stderr: /' "$work/err"
check "says once that it uses alpha over DTLS as alice" \
  grep -q "Using the notebook “alpha” at coaps://alice@$(md_lan_addr alpha):5684" "$work/err"

md_lan_exec alpha ip addr del "$(md_lan_addr alpha)/24" dev eth0
md_lan_exec alpha ip addr add "${md_lan_net}.31/24" dev eth0
ctl --no-queue add "moved, same key" >/dev/null 2>"$work/err"
sed 's/^/# stderr: /' "$work/err"
check "after a move: found by identity, stored over DTLS with the same key" \
  grep -qx "moved, same key" <(notes_of alpha)

[ "$failures" -eq 0 ] || md_server_logs alpha
exit $((failures > 0))
