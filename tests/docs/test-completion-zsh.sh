#!/usr/bin/env bash
# data/_mydailyctl in a real interactive zsh (md-zsh-complete.zsh): the
# commands, options and -o formats come out of the built mydailyctl, and -s
# offers the hosts of the stored credentials.  Skips without zsh.
set -uo pipefail
: "${MYDAILYCTL:?}" "${MD_SOURCE_DIR:?}"
command -v zsh >/dev/null || { echo "SKIP: zsh is not installed"; exit 77; }
command -v timeout >/dev/null || { echo "SKIP: no timeout(1)"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/fpath" "$work/bin" "$work/config/mydaily"
cp "$MD_SOURCE_DIR/data/_mydailyctl" "$work/fpath/"
# The program under its own name, as a user types it.
ln -s "$MYDAILYCTL" "$work/bin/mydailyctl"
printf '# HOST:PORT NOTEBOOK NAME KEY\nnotes.example:5684 - alice %s\n' \
  "$(printf 'k%.0s' {1..40})" >"$work/config/mydaily/credentials"
chmod 600 "$work/config/mydaily/credentials"  # mydailyctl refuses one that others may read

result=$(HOME=$work XDG_CONFIG_HOME=$work/config ZDOTDIR=$work \
  timeout 30 zsh -f "$(dirname "$0")/md-zsh-complete.zsh" "$work/fpath" "$work/bin" \
  'mydailyctl hi' 'mydailyctl history -o ' 'mydailyctl follow --output=j' \
  'mydailyctl history --no-p' 'mydailyctl --ti' 'mydailyctl st' \
  'mydailyctl -s notes.ex' 'mydailyctl -s notes.example:5684 hi' 'mydailyctl logout notes')
status=$?
[ $status -eq 77 ] && { echo "SKIP: zsh has no zpty module"; exit 77; }
expected='history
json short tsv
json
--no-pager
--timeout
status
notes.example:5684
history
notes.example:5684'
if [ $status -ne 0 ] || [ "$result" != "$expected" ]; then
  echo "zsh exited $status; completions differ (expected | got):"
  paste -d'|' <(echo "$expected") <(echo "$result")
  exit 1
fi
echo "zsh completes commands, options, -o formats and stored hosts"
