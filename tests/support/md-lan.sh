# A LAN of network namespaces for tests that need other machines: hosts
# joined by veth pairs to one bridge, with RFC 1918 addresses (10.231.N.0/24
# per test run) and IPv6 link-local addresses, multicast included.
#
#   . tests/support/md-lan.sh
#   md_lan_require || exit 77          # root, ip(8), namespaces
#   md_lan_init                        # the bridge; cleanup on EXIT
#   md_lan_host server 10              # namespace "server", 10.231.N.10
#   md_lan_host client 20
#   md_lan_exec client mydailyctl -s "$(md_lan_addr server)" history
#
# Everything lives in namespaces named after this shell's pid, so parallel
# tests never meet, and md_lan_cleanup (run on EXIT) kills what runs in them
# and deletes them.

md_lan_prefix="mdl$$"
md_lan_net=""
md_lan_hosts=()

# Non-zero (and a reason on stderr) when this machine cannot make a LAN.
md_lan_require() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "md-lan: needs root for network namespaces" >&2
    return 1
  fi
  if ! command -v ip >/dev/null; then
    echo "md-lan: needs ip(8) (iproute2)" >&2
    return 1
  fi
  if ! ip netns add "${md_lan_prefix}-probe" 2>/dev/null; then
    echo "md-lan: cannot create a network namespace here" >&2
    return 1
  fi
  ip netns delete "${md_lan_prefix}-probe"
}

# The namespace name of host $1.
md_lan_ns() {
  echo "${md_lan_prefix}-$1"
}

# Host $1's IPv4 address.
md_lan_addr() {
  local var="md_lan_addr_$1"
  echo "${!var}"
}

md_lan_init() {
  # A per-run /24 out of 10.231.0.0/16 keeps concurrent runs apart.
  md_lan_net="10.231.$(($$ % 250 + 1))"
  trap md_lan_cleanup EXIT
  ip netns add "$(md_lan_ns hub)"
  md_lan_exec hub ip link set lo up
  md_lan_exec hub ip link add br0 type bridge mcast_snooping 0
  md_lan_exec hub ip link set br0 up
}

# md_lan_host NAME N: a namespace with eth0 at $md_lan_net.N/24 on the bridge,
# loopback up, and multicast routed out of eth0.
md_lan_host() {
  local name=$1 n=$2 ns hub_end
  ns=$(md_lan_ns "$name")
  hub_end="v${n}"
  ip netns add "$ns"
  md_lan_hosts+=("$name")
  ip link add eth0 netns "$ns" type veth peer name "$hub_end" netns "$(md_lan_ns hub)"
  md_lan_exec hub ip link set "$hub_end" master br0 up
  # No duplicate address detection: the link-local address is usable at once.
  md_lan_exec "$name" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
  md_lan_exec "$name" ip link set lo up
  md_lan_exec "$name" ip addr add "$md_lan_net.$n/24" dev eth0
  md_lan_exec "$name" ip link set eth0 up
  md_lan_exec "$name" ip route add 224.0.0.0/4 dev eth0
  printf -v "md_lan_addr_$name" '%s' "$md_lan_net.$n"
}

# md_lan_exec NAME CMD...: runs CMD in host NAME's namespace.
md_lan_exec() {
  local name=$1
  shift
  ip netns exec "$(md_lan_ns "$name")" "$@"
}

md_lan_cleanup() {
  local name pid
  for name in "${md_lan_hosts[@]}" hub; do
    for pid in $(ip netns pids "$(md_lan_ns "$name")" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null
    done
    ip netns delete "$(md_lan_ns "$name")" 2>/dev/null
  done
  return 0
}
