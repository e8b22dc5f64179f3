#!/bin/bash
# mydailyd --join-groups (mydaily-discovery.service): joins the discovery
# groups through a passed socket and exits, and the membership stays with
# the socket that systemd-socket-activate (standing in for systemd) holds.
# systemd-socket-activate starts its command at the first datagram (a
# request from the server itself, which must stay queued through two
# --join-groups), as systemd would start mydaily-discovery.service at boot
# whatever waits in the socket; the daemon started afterwards answers it and
# a multicast request from the client.  That a multicast datagram reaches
# the socket with no daemon at all (it starts mydaily.service) is the
# system test's check.  Needs root; exits 77 without namespaces.
set -u
. "$MD_SOURCE_DIR/tests/support/md-lan.sh"
md_lan_require || exit 77
command -v systemd-socket-activate >/dev/null || { echo "no systemd-socket-activate" >&2; exit 77; }

work=$(mktemp -d)
md_lan_init
trap 'kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; md_lan_cleanup; rm -rf "$work"' EXIT
md_lan_host server 10
md_lan_host client 20
. "$MD_SOURCE_DIR/tests/lan/md-lan-mydaily.sh"
printf '[Server]\nName=boot\n' >"$work/mydaily.conf"
mkfifo "$work/go" "$work/done"
exec {go}<>"$work/go" {done}<>"$work/done"

# The holder keeps the socket (fd 3) across the steps; each step waits for a
# line on "go" and reports its exit status on "done".  LISTEN_PID names the
# process that execs mydailyd.
holder_script='
  opts=(--config="$WORK/mydaily.conf" --state-directory="$WORK/state")
  step() { read -r -t 60 _ <"$WORK/go" || exit 1; }
  step; (LISTEN_PID=$BASHPID exec "$MYDAILYD" --join-groups "${opts[@]}"); echo $? >"$WORK/done"
  step; (LISTEN_PID=$BASHPID exec "$MYDAILYD" --join-groups "${opts[@]}"); echo $? >"$WORK/done"
  step; LISTEN_PID=$$ exec "$MYDAILYD" "${opts[@]}"'
WORK=$work ip netns exec "$(md_lan_ns server)" systemd-socket-activate --datagram \
  -l '[::]:5683' --fdname=coap -E WORK -E MYDAILYD bash -c "$holder_script" \
  >>"$work/log" 2>&1 &
holder=$!

run_step() { # the exit status of the holder's next step
  local status
  echo >&"$go" && read -r -t 30 status <&"$done" && echo "$status"
}
groups_joined() {
  local groups
  groups=$(md_lan_exec server ip maddr show dev eth0)
  grep -q 'inet  *224\.0\.1\.187$' <<<"$groups" && grep -q 'inet6  *ff02::fd$' <<<"$groups"
}
not_joined() { ! groups_joined; }
check "before: eth0 is in neither group" not_joined
md_lan_exec server "$MD_PROBE" --window-ms=8000 --query=rt=mydaily.notes 127.0.0.1 lo \
  >"$work/probe-lo" 2>&1 &
probe_lo=$!
check "--join-groups exits 0" test "$(run_step)" = 0
check "the groups stay joined on eth0 after it exited" groups_joined
check "it logged the join" grep -q 'joined the CoAP multicast groups on 1 new' "$work/log"
check "a second --join-groups exits 0" test "$(run_step)" = 0
md_lan_exec client "$MD_PROBE" --window-ms=4000 --query=rt=mydaily.notes 224.0.1.187 eth0 \
  >"$work/probe" 2>&1 &
probe=$!
echo >&"$go"
wait "$probe" "$probe_lo"
sed 's/^/# /' "$work/probe-lo" "$work/probe"
check "the daemon answers the request that waited through both joins" \
  grep -q 'code=2.05.*title="boot"' "$work/probe-lo"
check "and the multicast request from the client" \
  grep -q "from=$(md_lan_addr server):5683 .*code=2.05.*title=\"boot\"" "$work/probe"
[ "$failures" -eq 0 ] || sed "s/^/# log: /" "$work/log" "$work/probe-lo"
exit $((failures > 0))
