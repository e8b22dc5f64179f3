#!/bin/bash
# A spoofed observer registration (issue 11): /latest is registered for an
# address that never answers (a namespace whose nftables drop everything it
# receives, counting it).  At most one notification goes there, and then
# the observer is dropped (/status says 0 observers), so a spoofed
# registration costs the victim one small datagram.  Exits 77 without root,
# namespaces or nft.
set -u
. "$MD_SOURCE_DIR/tests/support/md-lan.sh"
. "$MD_SOURCE_DIR/tests/hostile/md-lan-daemon.sh"

md_lan_require || exit 77
command -v nft >/dev/null || { echo "needs nft(8)" >&2; exit 77; }
dir=$(mktemp -d)
md_lan_init
trap 'md_lan_cleanup; rm -rf "$dir"' EXIT
md_lan_host server 10
md_lan_host victim 20
md_lan_daemon_start "$dir" || exit 1
server=$(md_lan_addr server)

# The victim receives, counts and drops: it never ACKs, never resets.
md_lan_exec victim nft -f - <<NFT || exit 1
table inet victim {
  counter from_daemon { }
  chain in { type filter hook input priority 0; policy drop; udp sport 5683 counter name from_daemon; }
}
NFT
datagrams() {
  md_lan_exec victim nft list counter inet victim from_daemon |
    awk '/packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i+1) }'
}
observers() {
  md_lan_probe server 127.0.0.1 5683 status | sed -n 's/^observers: //p'
}

md_lan_probe victim "$server" 5683 register || exit 1
# The registration's answer arrives (and is dropped): the daemon took it.
for i in $(seq 1 50); do
  [ "$(datagrams)" -ge 1 ] && break
  md_lan_probe server 127.0.0.1 5683 status >/dev/null
done
echo "victim got $(datagrams) datagram(s) for its registration; observers: $(observers)"
[ "$(observers)" = 1 ] || { echo "the registration was not taken" >&2; exit 1; }
before=$(datagrams)

md_lan_probe server 127.0.0.1 5683 post "first note after the spoofed registration" || exit 1
# Unacknowledged, the observer is dropped after MD_OBSERVE_ACK_WAIT_US (3 s):
# no event announces it, so /status is polled, for at most 10 s.
dropped=no
deadline=$((SECONDS + 10))
for i in $(seq 1 200); do
  if [ "$(observers)" = 0 ]; then
    dropped=yes
    break
  fi
  [ $SECONDS -lt $deadline ] || break
  sleep 0.1
done
md_lan_probe server 127.0.0.1 5683 post "second note" || exit 1
md_lan_probe server 127.0.0.1 5683 post "third note" || exit 1
md_lan_probe server 127.0.0.1 5683 status >/dev/null
notifications=$(($(datagrams) - before))
echo "notifications to the victim: $notifications; observer dropped: $dropped"
[ "$notifications" -eq 1 ] || { echo "expected exactly one notification" >&2; exit 1; }
[ "$dropped" = yes ] || { echo "the observer was not dropped" >&2; exit 1; }
exit 0
