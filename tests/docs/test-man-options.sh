#!/usr/bin/env bash
# Every option that --help shows is in the manual, in the right place:
#   mydailyctl --help               -> mydailyctl(1), GLOBAL OPTIONS
#   mydailyctl COMMAND --help       -> mydailyctl(1), the "## COMMAND" section
#   mydailyd --help                 -> mydailyd(8), OPTIONS
#   mydailyd --print-config keys    -> mydaily.conf(5), OPTIONS
# and every command of "mydailyctl --help" answers --help with status 0 and
# a usage line.  It prints every miss, then fails if there was one.
set -uo pipefail
: "${MYDAILYCTL:?}" "${MYDAILYD:?}" "${MD_SOURCE_DIR:?}"
man_dir=$MD_SOURCE_DIR/data/man
export LC_ALL=C.UTF-8 LANGUAGE=
misses=0

miss() {
  echo "MISSING: $*"
  misses=$((misses + 1))
}

# The lines of manual $1 from the heading matching $2 to the next heading of
# the same or a higher level.
section() {
  awk -v want="$2" '
    /^#+ / { level = index($0, " ") - 1
             if (inside && level <= depth) inside = 0
             if ($0 ~ want) { inside = 1; depth = level; next } }
    inside' "$1"
}

# The option names ("-n", "--lines") in --help output on stdin.
options_of() {
  grep -E '^  +-' | grep -oE '(^|[ ,])--?[A-Za-z0-9][A-Za-z0-9-]*' | tr -d ' ,'
}

# check_options WHAT TEXT HELP: each option in HELP appears in TEXT as a word.
check_options() {
  local what=$1 text=$2 option
  while read -r option; do
    [ "$option" = -h ] || [ "$option" = --help ] && continue
    grep -qE -- "(^|[^A-Za-z0-9-])$option([^A-Za-z0-9-]|\$)" <<<"$text" ||
      miss "$what: $option is not documented"
  done < <(options_of <<<"$3")
}

ctl_man=$man_dir/mydailyctl.1.scd
top_help=$("$MYDAILYCTL" --help) || miss "mydailyctl --help failed"
check_options "mydailyctl(1) GLOBAL OPTIONS" "$(section "$ctl_man" '^# GLOBAL OPTIONS')" \
  "$top_help"

# The commands: the lines under "Commands:" up to the first empty one.
mapfile -t commands < <(awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
                             on { print $1 }' <<<"$top_help")
[ "${#commands[@]}" -gt 0 ] || miss "mydailyctl --help lists no command"
for command in "${commands[@]}"; do
  help=$("$MYDAILYCTL" "$command" --help 2>&1)
  status=$?
  [ $status -eq 0 ] || miss "mydailyctl $command --help exits $status"
  grep -qE "^  mydailyctl $command \[OPTION" <<<"$help" ||
    miss "mydailyctl $command --help has no usage line"
  text=$(section "$ctl_man" "^## $command( |\$)")
  [ -n "$text" ] || miss "mydailyctl(1) has no section \"## $command\""
  check_options "mydailyctl(1) ## $command" "$text" "$help"
done

d_help=$("$MYDAILYD" --help) || miss "mydailyd --help failed"
check_options "mydailyd(8) OPTIONS" "$(section "$man_dir/mydailyd.8.scd" '^# OPTIONS')" \
  "$d_help"

conf_text=$(section "$man_dir/mydaily.conf.5.scd" '^# OPTIONS')
# An empty file: the defaults, whatever /etc/mydaily/mydaily.conf says.
empty=$(mktemp)
trap 'rm -f "$empty"' EXIT
config=$("$MYDAILYD" --print-config --config="$empty") || miss "mydailyd --print-config failed"
while read -r key; do
  grep -qF "*$key*=" <<<"$conf_text" || miss "mydaily.conf(5) OPTIONS: $key= is not documented"
done < <(grep -oE '^[A-Za-z][A-Za-z0-9]*=' <<<"$config" | tr -d =)
grep -qE '^[A-Za-z]+=' <<<"$config" || miss "mydailyd --print-config shows no key"

if [ $misses -gt 0 ]; then
  echo "$misses item(s) missing from the manuals in data/man/"
  exit 1
fi
echo "every option and setting is in the manuals"
