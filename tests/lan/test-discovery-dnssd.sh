#!/bin/bash
# DNS-SD (issue 11, item 3): data/avahi/mydaily.service announced by an
# avahi-daemon in a server namespace, found by `mydailyctl discover` in a
# client namespace through its own avahi-daemon's D-Bus API, and merged with
# the multicast CoAP answer of the same host.  Each host gets a system bus
# and an avahi-daemon of its own (md-avahi-host.sh, in a private mount
# namespace).  Needs root, avahi-daemon, avahi-browse and dbus-daemon;
# exits 77 without them.
set -u
. "$MD_SOURCE_DIR/tests/support/md-lan.sh"
md_lan_require || exit 77
for tool in avahi-daemon avahi-browse dbus-daemon unshare systemd-socket-activate; do
  command -v "$tool" >/dev/null || { echo "no $tool" >&2; exit 77; }
done
[ -d /etc/avahi/services ] || { echo "no /etc/avahi/services" >&2; exit 77; }

work=$(mktemp -d)
md_lan_init
trap 'md_lan_cleanup; rm -rf "$work"' EXIT
md_lan_host alpha 10
md_lan_host gamma 12
md_lan_host client 20
. "$MD_SOURCE_DIR/tests/lan/md-lan-mydaily.sh"
avahi_host=$MD_SOURCE_DIR/tests/lan/md-avahi-host.sh

mkdir -p "$work/services" "$work/none"
cp "$MD_SOURCE_DIR/data/avahi/mydaily.service" "$work/services/"
# alpha: a notebook that also announces itself; gamma: only the
# announcement (a notebook whose CoAP answers do not reach us).
md_server_start alpha alpha true || exit 1
for host in alpha gamma; do
  ip netns exec "$(md_lan_ns "$host")" unshare -m sh "$avahi_host" "md-$host-$$" "$work/services" \
    sleep 600 >"$work/avahi-$host.log" 2>&1 &
done

# On the client: wait (bounded) until its Avahi resolved both, then discover.
cat >"$work/client.sh" <<SCRIPT
for i in \$(seq 20); do
  n=\$(timeout 10 avahi-browse -rtp _coaps._udp 2>/dev/null | grep -c '^=;eth0;IPv4;')
  [ "\$n" -ge 2 ] && break
done
[ "\$n" -ge 2 ] || echo "# the client's Avahi resolved \$n of 2 announcements" >&2
exec "$MYDAILYCTL" discover -o json --wait=2
SCRIPT
out=$(HOME=$work/user XDG_STATE_HOME=$work/user/state \
  ip netns exec "$(md_lan_ns client)" unshare -m sh "$avahi_host" "md-client-$$" "$work/none" bash "$work/client.sh")
echo "$out" | sed 's/^/# /'
id_alpha=$(cat "$work/alpha/state/notebook-id")

check "alpha: one entry, CoAP and DNS-SD merged" \
  grep -q "\"address\":\"$(md_lan_addr alpha)\",.*\"notebook\":\"$id_alpha\",\"coaps_port\":5684,.*\"dns_sd\":true" <<<"$out"
check "gamma: listed from DNS-SD alone, no identity, coaps://" \
  grep -q "\"address\":\"$(md_lan_addr gamma)\",\"server\":\"coaps://$(md_lan_addr gamma):5684\",\"notebook\":\"\",.*\"dns_sd\":true" <<<"$out"
check "gamma: named as Avahi announced it" grep -q "\"name\":\"mydaily on md-gamma-$$\",\"address\":\"$(md_lan_addr gamma)\"" <<<"$out"

[ "$failures" -eq 0 ] || md_server_logs alpha
exit $((failures > 0))
