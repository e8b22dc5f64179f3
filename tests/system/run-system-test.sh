#!/bin/bash
# System test (issue 4): boots Debian bookworm under systemd-nspawn with this
# build installed and checks the socket-activated service end to end, as an
# operator would meet it.  Output is TAP.
#
# Environment (meson sets the first four):
#   MD_BUILD_DIR, MD_SOURCE_DIR, MYDAILYCTL, MD_MESON
#   MD_SYSTEMD_UNIT_DIR       where the build installs the units ("no": skip)
#   MD_SYSTEM_ROOTFS_CACHE    debootstrap cache (default below)
#   MD_SYSTEM_TESTS_REQUIRED  1: missing prerequisites fail instead of skip
#   MD_SYSTEM_KEEP            1: keep the run's directory for a post-mortem
#   MD_STORM_NOTES            notes per client in the kill test (default 1250)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/system/md-tap.sh
. "$here/md-tap.sh"
# shellcheck source=tests/system/md-container.sh
. "$here/md-container.sh"

MD_SOURCE_DIR=${MD_SOURCE_DIR:-$here/../..}
MD_MESON=${MD_MESON:-meson}
cache=${MD_SYSTEM_ROOTFS_CACHE:-/var/cache/mydaily-test/rootfs-bookworm}
unit_dir=${MD_SYSTEMD_UNIT_DIR:-/usr/local/lib/systemd/system}
storm_clients=4
storm_notes=${MD_STORM_NOTES:-1250}
storm_kills=5
# systemd's default start limit is 5 starts in 10 s; kills this far apart
# never trip it, and the unit keeps that protection against crash loops.
kill_spacing_ms=3500
run_id=$$-$RANDOM
state_dir=var/lib/private/mydaily

md_missing_prerequisite () {
  if [ "${MD_SYSTEM_TESTS_REQUIRED:-0}" = 1 ]; then
    md_bail_out "$*"
  fi
  md_skip_all "$*"
}

md_check_prerequisites () {
  local tool
  [ "$(id -u)" = 0 ] || md_missing_prerequisite "needs root (debootstrap, nspawn)"
  for tool in debootstrap systemd-nspawn nsenter ldconfig flock timeout "$MD_MESON"; do
    command -v "$tool" >/dev/null ||
      md_missing_prerequisite "$tool not found"
  done
  [ "$unit_dir" != no ] ||
    md_missing_prerequisite "units not installed (systemdsystemunitdir=no)"
  [ -n "${MD_BUILD_DIR:-}" ] || md_bail_out "MD_BUILD_DIR not set"
  MYDAILYCTL=${MYDAILYCTL:-$MD_BUILD_DIR/src/ctl/mydailyctl}
  [ -x "$MYDAILYCTL" ] || md_bail_out "no mydailyctl at $MYDAILYCTL"
}

storm_pids=()

md_cleanup () {
  local pid
  for pid in "${storm_pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  md_poweroff
  if [ "${MD_SYSTEM_KEEP:-0}" = 1 ]; then
    md_diag "kept $workdir"
  else
    rm -rf "$workdir"
  fi
}

# ---------------------------------------------------------------- helpers

service_state () {
  md_in systemctl is-active mydaily.service 2>/dev/null
}

service_is () {
  [ "$(service_state)" = "$1" ]
}

service_property () {
  md_in systemctl show -p "$1" --value mydaily.service 2>/dev/null
}

socket_is_active () {
  [ "$(md_in systemctl is-active mydaily.socket 2>/dev/null)" = active ]
}

stored_count () {
  local count=0
  if [ -f "$md_root/$state_dir/notes" ]; then
    count=$(wc -l <"$md_root/$state_dir/notes")
  fi
  echo "$count"
}

stored_at_least () {
  [ "$(stored_count)" -ge "$1" ]
}

now_ms () {
  local now=${EPOCHREALTIME/./}
  echo $((now / 1000))
}

# Prints the figure from "Overall exposure level for mydaily.service: 0.2".
security_exposure () {
  md_in systemd-analyze security --no-pager mydaily.service 2>&1 |
    tee "$workdir/security.txt" |
    sed -n 's/.*Overall exposure level for mydaily\.service: \([0-9.]*\).*/\1/p'
}

at_most () {
  awk -v value="$1" -v limit="$2" 'BEGIN { exit !(value != "" && value + 0 <= limit + 0) }'
}

# ---------------------------------------------------------------- checks

units_verify () {
  local out
  out=$(md_in systemd-analyze verify --man=no \
    "$unit_dir/mydaily.socket" "$unit_dir/mydaily.service" 2>&1)
  local status=$?
  [ "$status" -eq 0 ] && [ -z "$out" ] && return 0
  md_diag "systemd-analyze verify: status $status" "$out"
  return 1
}

socket_enable_now () {
  md_in systemctl enable --now mydaily.socket >"$workdir/enable.log" 2>&1 &&
    socket_is_active &&
    [ "$(md_in systemctl is-enabled mydaily.socket)" = enabled ] && return 0
  md_diag <"$workdir/enable.log"
  return 1
}

first_note_text="first note from the system test $run_id"
first_note_id=

add_first_note () {
  local out
  out=$(md_ctl add "$first_note_text" 2>"$workdir/first-add.err")
  first_note_id=$(sed -n 's/^added note \([0-9][0-9]*\)$/\1/p' <<<"$out")
  [ -n "$first_note_id" ] && return 0
  md_diag "mydailyctl add printed: '$out'; stderr:"
  md_diag <"$workdir/first-add.err"
  return 1
}

history_has_first_note () {
  local out
  out=$(md_ctl history -o tsv --no-pager 2>&1)
  printf '%s\n' "$out" | awk -F '\t' -v id="$first_note_id" -v text="$first_note_text" \
    '$1 == id && $2 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z$/ && $3 == text { found = 1 }
     END { exit !found }' && return 0
  md_diag "history (${MD_SERVER:-127.0.0.1:5683}) did not list note $first_note_id:" "$out"
  return 1
}

history_has_first_note_ipv6 () {
  MD_SERVER='[::1]:5683' history_has_first_note
}

journal_note_entry () {
  md_in journalctl --no-pager -o verbose -u mydaily.service \
    "MESSAGE_ID=$note_stored_id" "NOTE_ID=$first_note_id" 2>/dev/null
}

journal_has_first_note () {
  local entry
  entry=$(journal_note_entry)
  grep -q "^ *NOTE_ID=$first_note_id\$" <<<"$entry" &&
    grep -q "^ *PEER=.*127\.0\.0\.1" <<<"$entry"
}

journal_check () {
  md_wait_for 10 journal_has_first_note && return 0
  md_diag "journal entries with MESSAGE_ID=$note_stored_id NOTE_ID=$first_note_id:" \
    "$(journal_note_entry)" "last entries of the unit:" \
    "$(md_in journalctl --no-pager -o verbose -u mydaily.service -n 3 2>&1)"
  return 1
}

# ---- coaps: mydaily-coaps.socket, LoadCredential=keys, ExecReload= ----

coaps_key=

# A key for alice in the container's /etc/mydaily/keys, the coaps socket on,
# and a restart: systemd copies the credential only when the service starts.
coaps_setup () {
  local line keys=$md_root/etc/mydaily/keys
  line=$("$MYDAILYCTL" keygen alice) || return 1
  coaps_key=${line#alice }
  printf '%s\n' "$line" >"$keys" && chmod 600 "$keys" &&
    md_in systemctl enable --now mydaily-coaps.socket >"$workdir/coaps.log" 2>&1 &&
    md_in systemctl restart mydaily.service >>"$workdir/coaps.log" 2>&1 && return 0
  md_diag <"$workdir/coaps.log"
  return 1
}

# POSTs $3 over coaps as $1 with key $2; true when history then lists it.
coaps_post () {
  timeout 60 nsenter -t "$md_pid1" --net coap-client-gnutls -B 10 -u "$1" -k "$2" \
    -m post -e "$3" coaps://127.0.0.1:5684/notes >>"$workdir/coaps.log" 2>&1
  md_ctl history -o tsv --no-pager 2>/dev/null | grep -q "	$3\$"
}

coaps_note_stored () {
  coaps_post alice "$coaps_key" "over coaps $run_id" && return 0
  md_diag <"$workdir/coaps.log"
  return 1
}

keys_loaded_count () {
  md_in journalctl --no-pager -o cat -u mydaily.service \
    "MESSAGE_ID=$keys_loaded_id" 2>/dev/null | grep -c "read .* key(s)"
}

# systemctl reload sends SIGHUP, and the daemon reads the keys again.
coaps_reload_rereads () {
  local before
  before=$(keys_loaded_count)
  md_in systemctl reload mydaily.service >>"$workdir/coaps.log" 2>&1 &&
    md_wait_for 10 eval '[ "$(keys_loaded_count)" -gt "$before" ]' && return 0
  md_diag "KEYS_LOADED entries: before $before, now $(keys_loaded_count)"
  return 1
}

# An empty keys file and a restart: alice's key is gone.
coaps_removed_key_refused () {
  : >"$md_root/etc/mydaily/keys" &&
    md_in systemctl restart mydaily.service >>"$workdir/coaps.log" 2>&1 &&
    ! coaps_post alice "$coaps_key" "after removal $run_id" && return 0
  md_diag <"$workdir/coaps.log"
  return 1
}

coaps_checks () {
  if ! command -v coap-client-gnutls >/dev/null; then
    md_ok "coaps checks # SKIP coap-client-gnutls is not installed"
    return
  fi
  md_check "coaps: mydaily-coaps.socket on, a key in /etc/mydaily/keys, restart" coaps_setup
  md_check "coaps: a POST over DTLS with the key is stored" coaps_note_stored
  md_check "coaps: systemctl reload re-reads the keys (SIGHUP)" coaps_reload_rereads
  md_check "coaps: with the key removed and a restart, nothing is stored" \
    coaps_removed_key_refused
}

# The state directory belongs to the dynamic user the running daemon has.
state_dir_owned_by_daemon () {
  local main_pid uid dir_uid notes_uid link mode
  main_pid=$(service_property MainPID)
  # shellcheck disable=SC2016 # awk's $2, not the shell's
  uid=$(md_in awk '/^Uid:/ { print $2 }' "/proc/$main_pid/status" 2>/dev/null)
  dir_uid=$(stat -c %u "$md_root/$state_dir" 2>/dev/null)
  notes_uid=$(stat -c %u "$md_root/$state_dir/notes" 2>/dev/null)
  mode=$(stat -c %a "$md_root/$state_dir" 2>/dev/null)
  link=$(readlink "$md_root/var/lib/mydaily")
  if [ -n "$uid" ] && [ "$uid" -ge 61184 ] && [ "$uid" -le 65519 ] &&
    [ "$dir_uid" = "$uid" ] && [ "$notes_uid" = "$uid" ] &&
    [ "$mode" = 700 ] && [ "$link" = private/mydaily ]; then
    return 0
  fi
  md_diag "daemon pid $main_pid uid '$uid'; $state_dir uid '$dir_uid' mode '$mode';" \
    "notes uid '$notes_uid'; /var/lib/mydaily -> '$link'"
  return 1
}

status_text_has_count () {
  local count
  count=$(grep -c . <"$workdir/history-after-storm.tsv")
  service_property StatusText | grep -qw -- "$count"
}

status_check () {
  if md_wait_for 10 status_text_has_count &&
    md_in systemctl status --no-pager mydaily.service 2>/dev/null |
    grep -q '^ *Status: ".*[0-9]'; then
    md_diag "StatusText: $(service_property StatusText)"
    return 0
  fi
  md_diag "StatusText: '$(service_property StatusText)'," \
    "notes: $(grep -c . <"$workdir/history-after-storm.tsv")"
  return 1
}

# ------------------------------------------------- kill test (guarantee 2)

storm_dir=

storm_prepare () {
  local client
  storm_dir=$workdir/storm
  mkdir -p "$storm_dir"
  for client in $(seq "$storm_clients"); do
    awk -v run="$run_id" -v c="$client" -v n="$storm_notes" \
      'BEGIN { for (i = 1; i <= n; i++) printf "storm %s client %d note %05d\n", run, c, i }' \
      >"$storm_dir/sent-$client.txt"
    mkfifo "$storm_dir/in-$client"
  done
}

# Lines of round R (1..kills+1) of a client's notes.
storm_round_lines () {
  local client=$1 round=$2 rounds=$((storm_kills + 1))
  awk -v r="$round" -v rounds="$rounds" -v n="$storm_notes" \
    'NR > int(n * (r - 1) / rounds) && NR <= int(n * r / rounds)' \
    "$storm_dir/sent-$client.txt"
}

declare -a storm_fds

storm_start_clients () {
  local client fd
  for client in $(seq "$storm_clients"); do
    # Not through md_ctl: $! must be timeout's pid so that cleanup reaches it.
    timeout 600 nsenter -t "$md_pid1" --net "$MYDAILYCTL" -s 127.0.0.1:5683 \
      --timeout=120 add - <"$storm_dir/in-$client" \
      >"$storm_dir/out-$client" 2>"$storm_dir/err-$client" &
    storm_pids[client]=$!
    exec {fd}>"$storm_dir/in-$client"
    storm_fds[client]=$fd
  done
}

storm_feed_round () {
  local client
  for client in $(seq "$storm_clients"); do
    storm_round_lines "$client" "$1" >&"${storm_fds[client]}"
  done
}

storm_close_inputs () {
  local client fd
  for client in $(seq "$storm_clients"); do
    fd=${storm_fds[client]}
    exec {fd}>&-
  done
}

last_kill_ms=0

kill_spacing_passed () {
  [ $(($(now_ms) - last_kill_ms)) -ge "$kill_spacing_ms" ]
}

service_restarted_from () {
  local pid
  pid=$(service_property MainPID)
  [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$1" ] && service_is active
}

# Feeds one round, waits until the daemon is visibly storing it, then kills
# the daemon with SIGKILL while the clients are mid-stream.
# Notes all clients together send in round R.
storm_round_size () {
  local rounds=$((storm_kills + 1))
  echo $((storm_clients * (storm_notes * $1 / rounds - storm_notes * ($1 - 1) / rounds)))
}

# Polls the notes file every 10 ms for up to 30 s: the daemon stores a round
# in well under a second, so the usual 100 ms poll could miss the stream.
stream_started () {
  local _
  for _ in $(seq 3000); do
    stored_at_least "$1" && return 0
    sleep 0.01
  done
  return 1
}

storm_mid_kills=0

# Feeds one round, waits until the daemon is storing it, and kills the daemon
# with SIGKILL while the clients are mid-stream; counts the kills that landed
# with part of the round still unstored.
storm_kill_round () {
  local round=$1 before round_end at_kill old_pid
  md_wait_for 10 kill_spacing_passed
  old_pid=$(service_property MainPID)
  before=$(stored_count)
  round_end=$((before + $(storm_round_size "$round")))
  storm_feed_round "$round"
  if ! stream_started $((before + 1)); then
    md_diag "round $round: no note stored in 30 s ($(stored_count) total)"
    return 1
  fi
  md_in systemctl kill -s KILL mydaily.service || return 1
  last_kill_ms=$(now_ms)
  at_kill=$(stored_count)
  md_diag "kill $round: $((at_kill - before)) of $((round_end - before)) notes of the round stored"
  [ "$at_kill" -lt "$round_end" ] && storm_mid_kills=$((storm_mid_kills + 1))
  md_wait_for 30 service_restarted_from "$old_pid" && return 0
  md_diag "round $round: no new daemon after the kill (state $(service_state))"
  return 1
}

storm_clients_exited () {
  local pid
  for pid in "${storm_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && return 1
  done
  return 0
}

storm_client_statuses_ok () {
  local client status all_ok=0
  for client in $(seq "$storm_clients"); do
    wait "${storm_pids[client]}"
    status=$?
    if [ "$status" -ne 0 ] ||
      [ "$(grep -c '^added note [0-9]*$' "$storm_dir/out-$client")" -ne "$storm_notes" ]; then
      md_diag "client $client: status $status, $(grep -c . "$storm_dir/out-$client") lines out:" \
        "$(tail -n 5 "$storm_dir/err-$client")"
      all_ok=1
    fi
  done
  storm_pids=()
  return "$all_ok"
}

storm_run () {
  local round restarts_before storm_ok=0
  restarts_before=$(service_property NRestarts)
  storm_prepare
  storm_start_clients
  for round in $(seq "$storm_kills"); do
    storm_kill_round "$round" || { storm_ok=1; break; }
  done
  for round in $(seq $((round + 1)) $((storm_kills + 1))); do
    storm_feed_round "$round"
  done
  storm_close_inputs
  md_check "$storm_kills SIGKILLs while $storm_clients clients stream: daemon restarted each time" \
    [ "$storm_ok" -eq 0 ]
  md_check "every kill landed mid-stream ($storm_mid_kills of $storm_kills)" \
    [ "$storm_mid_kills" -eq "$storm_kills" ]
  restarts=$(($(service_property NRestarts) - restarts_before))
  md_check "systemd restarted the daemon $storm_kills times (NRestarts +$restarts)" \
    [ "$restarts" -eq "$storm_kills" ]
  if ! md_wait_for 600 storm_clients_exited; then
    md_diag "clients still running after 600 s"
  fi
  md_check "every client got an acknowledgement for each of its $storm_notes notes" \
    storm_client_statuses_ok
  md_check "$((storm_clients * storm_notes)) notes in history, each exactly once" \
    storm_history_exact
  md_check "notes file holds each client key exactly once" storm_keys_unique
}

storm_history_exact () {
  md_ctl history -o tsv --no-pager >"$workdir/history-after-storm.tsv" 2>"$workdir/history.err" ||
    { md_diag <"$workdir/history.err"; return 1; }
  cut -f 3- "$workdir/history-after-storm.tsv" | grep "^storm $run_id " | sort \
    >"$storm_dir/stored.txt"
  cat "$storm_dir"/sent-*.txt | sort >"$storm_dir/sent.txt"
  diff -q "$storm_dir/sent.txt" "$storm_dir/stored.txt" >/dev/null && return 0
  md_diag "sent $(grep -c . <"$storm_dir/sent.txt"), stored $(grep -c . <"$storm_dir/stored.txt");" \
    "duplicates: $(uniq -d "$storm_dir/stored.txt" | head -n 3 | tr '\n' '|')" \
    "missing: $(comm -23 "$storm_dir/sent.txt" "$storm_dir/stored.txt" | head -n 3 | tr '\n' '|')"
  return 1
}

storm_keys_unique () {
  local lines keys notes=$md_root/$state_dir/notes
  [ -f "$notes" ] || { md_diag "no $notes"; return 1; }
  lines=$(grep -c "	storm $run_id " "$notes")
  keys=$(grep "	storm $run_id " "$notes" | cut -f 3 |
    grep -x '[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}' |
    sort -u | grep -c .)
  [ "$lines" -eq $((storm_clients * storm_notes)) ] && [ "$keys" -eq "$lines" ] && return 0
  md_diag "notes file: $lines storm lines, $keys distinct UUID keys"
  return 1
}

# WATCHDOG=1 comes every WatchdogSec/2 = 15 s; systemd records each one.
watchdog_pinged_since () {
  local now
  now=$(service_property WatchdogTimestampMonotonic)
  [ -n "$now" ] && [ "$now" != 0 ] && [ "$now" != "$1" ]
}

watchdog_check () {
  local first
  [ "$(service_property WatchdogUSec)" = 30s ] || {
    md_diag "WatchdogUSec=$(service_property WatchdogUSec)"
    return 1
  }
  first=$(service_property WatchdogTimestampMonotonic)
  md_wait_for 40 watchdog_pinged_since "$first" && return 0
  md_diag "no WATCHDOG=1 within 40 s (WatchdogTimestampMonotonic=$first)"
  return 1
}

# ------------------------------------------------- stop and reactivation

stop_is_clean () {
  if ! service_is active; then
    md_diag "mydaily.service is $(service_state) before the stop"
    return 1
  fi
  md_in systemctl stop mydaily.service 2>/dev/null || return 1
  service_is inactive && socket_is_active &&
    [ "$(service_property Result)" = success ] &&
    [ "$(service_property ExecMainStatus)" = 0 ] && return 0
  md_diag "after stop: service $(service_state), Result $(service_property Result)," \
    "ExecMainStatus $(service_property ExecMainStatus)"
  return 1
}

datagram_activates () {
  md_ctl status >"$workdir/status.out" 2>&1 || { md_diag <"$workdir/status.out"; return 1; }
  md_wait_for 10 service_is active
}

# ------------------------------------------------------------- reboot

reboot_container () {
  md_ctl history -o tsv --no-pager >"$workdir/before-reboot.tsv" 2>&1
  md_reboot "$workdir/console.log" && return 0
  md_diag "reboot failed (nspawn status ${md_nspawn_status:-?})"
  md_diag < <(tail -n 20 "$workdir/console.log")
  md_bail_out "container did not come back after reboot"
}

reboot_kept_notes () {
  local expected=$((1 + storm_clients * storm_notes))
  if [ "$(grep -c "^[0-9]" <"$workdir/before-reboot.tsv")" -lt "$expected" ]; then
    md_diag "history before the reboot had fewer than the $expected notes added"
    return 1
  fi
  md_ctl history -o tsv --no-pager >"$workdir/after-reboot.tsv" 2>&1
  cmp -s "$workdir/before-reboot.tsv" "$workdir/after-reboot.tsv" && return 0
  md_diag "history before: $(grep -c . <"$workdir/before-reboot.tsv") lines," \
    "after: $(grep -c . <"$workdir/after-reboot.tsv") lines"
  return 1
}

# ------------------------------------------------------------- main

md_check_prerequisites
workdir=$(mktemp -d "${MD_SYSTEM_WORKDIR:-/var/tmp}/mydaily-system.XXXXXX") ||
  md_bail_out "cannot create a work directory"
trap md_cleanup EXIT
trap 'exit 130' INT TERM HUP

note_stored_id=$(sed -n 's/^#define MD_PROTOCOL_MESSAGE_ID_NOTE_STORED "\([0-9a-f]*\)"$/\1/p' \
  "$MD_SOURCE_DIR/src/common/md-protocol.h")
[ -n "$note_stored_id" ] || md_bail_out "no MD_PROTOCOL_MESSAGE_ID_NOTE_STORED in md-protocol.h"
keys_loaded_id=$(sed -n 's/^#define MD_PROTOCOL_MESSAGE_ID_KEYS_LOADED "\([0-9a-f]*\)"$/\1/p' \
  "$MD_SOURCE_DIR/src/common/md-protocol.h")

if ! md_rootfs_ensure "$cache" "$workdir/debootstrap.log"; then
  md_diag < <(tail -n 20 "$workdir/debootstrap.log" 2>/dev/null)
  md_bail_out "could not build the rootfs cache $cache"
fi
md_root=$workdir/root
if ! md_root_prepare "$cache" "$md_root" "$workdir/install.log"; then
  md_diag < <(tail -n 20 "$workdir/install.log")
  md_bail_out "could not install the build into the container"
fi
if md_boot "$workdir/console.log"; then
  md_ok "container boots to a running system (pid 1 = $md_pid1)"
else
  md_diag < <(tail -n 20 "$workdir/console.log")
  md_bail_out "container did not boot"
fi

md_check "systemd-analyze verify passes for both units" units_verify
exposure=$(security_exposure)
md_check "systemd-analyze security: exposure ${exposure:-?} <= 1.0" at_most "$exposure" 1.0
md_check "systemctl enable --now mydaily.socket" socket_enable_now
md_check "mydaily.service is not running before the first datagram" service_is inactive
md_check "mydailyctl add through 127.0.0.1:5683 stores a note" add_first_note
md_check "the first datagram started mydaily.service" md_wait_for 10 service_is active
md_check "history over IPv4 lists the note" history_has_first_note
md_check "history over IPv6 ([::1]:5683) lists the note" history_has_first_note_ipv6
md_check "journal: NOTE_STORED entry with NOTE_ID= and PEER= (journalctl MESSAGE_ID=)" journal_check
md_check "notes in /$state_dir, owned by the dynamic user, mode 0700" state_dir_owned_by_daemon

storm_run
md_check "systemctl status shows STATUS= with the note count" status_check

md_check "the daemon pings the 30 s watchdog" watchdog_check
md_check "systemctl stop: daemon exits 0, socket stays" stop_is_clean
md_check "the next datagram activates mydaily.service again" datagram_activates

reboot_container
md_ok "systemctl reboot inside the container; it boots again"
md_check "after reboot mydaily.socket listens and the service waits for a datagram" \
  eval 'socket_is_active && service_is inactive'
md_check "notes survive the reboot (history identical)" reboot_kept_notes
md_check "after reboot the state directory still belongs to the daemon's user" \
  eval 'md_wait_for 10 service_is active && state_dir_owned_by_daemon'
coaps_checks

md_tap_finish
