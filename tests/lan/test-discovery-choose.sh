#!/bin/bash
# mydailyctl with no -s and no $MYDAILY_SERVER on a LAN machine (issue 11,
# item 2): nothing on localhost, so it asks the LAN.  One notebook: used,
# said once on stderr, remembered by identity; found again by identity at a
# new address; with several and no terminal, a clear error; the remembered
# one is kept when others appear.  Needs root; exits 77 without namespaces.
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

# mydailyctl as a user of the client host: no -s, no $MYDAILY_SERVER, and
# no terminal (stdin from /dev/null).
ctl() {
  env -u MYDAILY_SERVER HOME="$work/user" XDG_CONFIG_HOME="$work/user/config" \
    XDG_CACHE_HOME="$work/user/cache" XDG_STATE_HOME="$work/user/state" \
    ip netns exec "$(md_lan_ns client)" "$MYDAILYCTL" --timeout=5 "$@" </dev/null
}
# TEXT is the last field, in the 4- and 5-field formats alike.
notes_of() { awk -F'\t' '{ print $NF }' "$work/$1/state/notes" 2>/dev/null; }

md_server_start alpha alpha true || exit 1
id_alpha=$(cat "$work/alpha/state/notebook-id")

ctl add "first from the LAN" >"$work/out" 2>"$work/err"
status=$?
sed 's/^/# stderr: /' "$work/err"
check "add with no -s: exit 0" test "$status" -eq 0
check "add with no -s: the note is in alpha's notebook" grep -qx "first from the LAN" <(notes_of alpha)
check "add with no -s: says which notebook it uses" \
  grep -q "Using the notebook “alpha” at coap://$(md_lan_addr alpha):5683" "$work/err"
check "the choice is remembered by identity" grep -qx "Identity=$id_alpha" "$work/user/state/mydaily/notebook"

ctl add "second" >/dev/null 2>"$work/err"
check "second add: stored" grep -qx "second" <(notes_of alpha)
check "second add: nothing said on stderr" test ! -s "$work/err"

# alpha moves to another address: found again by its identity.
md_lan_exec alpha ip addr del "$(md_lan_addr alpha)/24" dev eth0
md_lan_exec alpha ip addr add "${md_lan_net}.30/24" dev eth0
ctl add "after the move" >/dev/null 2>"$work/err"
check "after a move: stored in alpha's notebook" grep -qx "after the move" <(notes_of alpha)
check "after a move: the new address remembered" \
  grep -qx "Server=${md_lan_net}.30:5683" "$work/user/state/mydaily/notebook"

# beta appears: the remembered alpha is still the one used.
md_server_start beta beta true || exit 1
ctl add "with two around" >/dev/null 2>"$work/err"
check "two notebooks, alpha remembered: alpha used" grep -qx "with two around" <(notes_of alpha)
check "two notebooks, alpha remembered: nothing in beta" test -z "$(notes_of beta)"

# A new user with two notebooks and no terminal: an error listing both.
rm -rf "$work/user"
ctl add "nowhere" >/dev/null 2>"$work/err"
status=$?
sed 's/^/# stderr: /' "$work/err"
check "two notebooks, nothing chosen, no terminal: exit 64" test "$status" -eq 64
check "the error tells to use -s" grep -q "choose one with -s" "$work/err"
check "the error lists alpha and beta" \
  grep -q "alpha  ${md_lan_net}.30:5683  $id_alpha" "$work/err" -a -n "$(grep -c ' beta ' "$work/err")"
check "nothing stored anywhere" test -z "$(grep -x nowhere <(notes_of alpha; notes_of beta))"

[ "$failures" -eq 0 ] || md_server_logs alpha beta
exit $((failures > 0))
