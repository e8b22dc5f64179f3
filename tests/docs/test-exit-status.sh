#!/usr/bin/env bash
# The exit statuses of mydailyctl (the MdCtlExit enum) are each in the one
# table of mydailyctl(1)'s EXIT STATUS, and the README's table has the same
# statuses, no more.
set -uo pipefail
: "${MD_SOURCE_DIR:?}"
header=$MD_SOURCE_DIR/src/ctl/mydailyctl.h
manual=$MD_SOURCE_DIR/data/man/mydailyctl.1.scd
readme=$MD_SOURCE_DIR/README.md

code=$(grep -oE '^ *MD_CTL_EXIT_[A-Z_]+ = [0-9]+' "$header" | grep -oE '[0-9]+$' | sort -n | uniq)
# scdoc table rows: "|  64" opens the row of status 64.
in_manual=$(awk '/^# EXIT STATUS/ { on = 1; next } on && /^# / { exit } on' "$manual" |
  grep -oE '^\| +[0-9]+' | grep -oE '[0-9]+' | sort -n | uniq)
# The README's table: "| 64 | ...", under the "exit status" header row.
in_readme=$(awk '/^\| exit status \|/ { on = 1; next } on && !/^\|/ { exit } on' "$readme" |
  grep -oE '^\| [0-9]+ ' | grep -oE '[0-9]+' | sort -n | uniq)

status=0
[ -n "$code" ] || { echo "no MD_CTL_EXIT_ value in $header"; exit 1; }
if [ "$code" != "$in_manual" ]; then
  echo "mydailyctl(1) EXIT STATUS lists:" $in_manual "; the code has:" $code
  status=1
fi
if [ "$code" != "$in_readme" ]; then
  echo "README's exit status table lists:" $in_readme "; the code has:" $code
  status=1
fi
[ $status -eq 0 ] && echo "exit statuses" $code "are in mydailyctl(1) and the README"
exit $status
