#!/bin/bash
# Amplification from an unverified LAN source (issue 10): for every resource
# and method of the route table, bad requests and unknown paths, and a bare
# DTLS ClientHello (answered with a HelloVerifyRequest), the bytes sent back
# to a source that never proves its address stay within 3 times what it
# sent, per request (md-plain-probe routes) and in all (nftables counters
# in the client's namespace).  Prints the worst ratio.  Exits 77 without
# root, namespaces or nft.
set -u
. "$MD_SOURCE_DIR/tests/support/md-lan.sh"
. "$MD_SOURCE_DIR/tests/hostile/md-lan-daemon.sh"

md_lan_require || exit 77
command -v nft >/dev/null || { echo "needs nft(8)" >&2; exit 77; }
dir=$(mktemp -d)
md_lan_init
trap 'md_lan_cleanup; rm -rf "$dir"' EXIT
md_lan_host server 10
md_lan_host client 20
md_lan_daemon_start "$dir" || exit 1
server=$(md_lan_addr server)

# Bytes from and to the daemon's ports, as the client's kernel sees them.
md_lan_exec client nft -f - <<NFT || exit 1
table inet count {
  chain in { type filter hook input priority 0; udp sport { 5683, 5684 } counter name back; }
  chain out { type filter hook output priority 0; udp dport { 5683, 5684 } counter name sent; }
  counter back { }
  counter sent { }
}
NFT

status=0
md_lan_probe client "$server" 5683 routes || status=1
md_lan_probe client "$server" 5684 dtls-hello || status=1

# nft counts IP bytes: take off 28 (IPv4 + UDP headers) per packet.
payload_bytes() {
  md_lan_exec client nft list counter inet count "$1" |
    awk '/packets/ { for (i = 1; i <= NF; i++) { if ($i == "packets") p = $(i+1); if ($i == "bytes") b = $(i+1) } }
         END { print b - 28 * p }'
}
back=$(payload_bytes back)
sent=$(payload_bytes sent)
echo "in all: $sent bytes sent, $back bytes back ($(awk -v b="$back" -v s="$sent" 'BEGIN { printf "%.2f", b / s }') x)"
if [ "$back" -gt $((3 * sent)) ]; then
  echo "more than 3 times what was sent came back" >&2
  status=1
fi
exit $status
