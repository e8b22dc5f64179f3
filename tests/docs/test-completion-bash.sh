#!/usr/bin/env bash
# data/mydailyctl.bash-completion in a real bash with bash-completion: the
# commands, options and -o formats come out of the built mydailyctl, and -s
# offers the hosts of the stored credentials.
set -uo pipefail
: "${MYDAILYCTL:?}" "${MD_SOURCE_DIR:?}"
framework=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
[ -r "$framework" ] || { echo "SKIP: bash-completion is not installed ($framework)"; exit 77; }

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/config/mydaily"
printf '# HOST:PORT NOTEBOOK NAME KEY\nnotes.example:5684 - alice %s\n' \
  "$(printf 'k%.0s' {1..40})" >"$home/config/mydaily/credentials"
chmod 600 "$home/config/mydaily/credentials"  # mydailyctl refuses one that others may read

# A mydailyctl whose discover finds one notebook (the real one would ask
# the LAN): it prints what `discover -o json` does.
cat >"$home/mydailyctl-discover" <<SCRIPT
#!/bin/sh
case "\$1" in
  discover) echo '{"name":"Office","address":"found.example","server":"coaps://found.example:5684","notebook":"0b7c0c8e-3a3c-4a4e-9d0e-6f1f2f6d1a11","coaps_port":5684,"key":false,"dns_sd":true}' ;;
  *) exec "$MYDAILYCTL" "\$@" ;;
esac
SCRIPT
chmod +x "$home/mydailyctl-discover"

# Each line: the words typed (the last is the one completed), then the
# completions expected, sorted and joined by spaces.
result=$(HOME=$home XDG_CONFIG_HOME=$home/config bash --norc --noprofile -c '
  source "$1"; source "$2"; program=$3
  complete_line() {
    COMP_WORDS=("$program" "$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
    _mydailyctl 2>/dev/null
    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"; echo
  }
  complete_line hi
  complete_line history -o ""
  complete_line follow --output=j
  complete_line history --no-p
  complete_line --ti
  complete_line st
  complete_line -s notes.ex
  complete_line --server=notes.ex
  complete_line -s notes.example:5684 hi
  complete_line logout notes
  program=$4
  complete_line di
  # bash splits "coaps://fo" at the colon; the reply drops what precedes it.
  complete_line -s coaps://fo
' bash "$framework" "$MD_SOURCE_DIR/data/mydailyctl.bash-completion" "$MYDAILYCTL" \
  "$home/mydailyctl-discover")
expected='history
json short tsv
json
--no-pager
--timeout=
status
notes.example:5684
notes.example:5684
history
notes.example:5684
discover
//found.example:5684'
if [ "$result" != "$expected" ]; then
  echo "completions differ (expected | got):"
  paste -d'|' <(echo "$expected") <(echo "$result")
  exit 1
fi
echo "bash completes commands, options, -o formats and stored hosts"
