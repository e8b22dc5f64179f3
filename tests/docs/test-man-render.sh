#!/usr/bin/env bash
# "man PAGE works after install": each built manual renders with man(1)
# without a single groff warning, and has the sections a reader looks for.
# Exit 77 without man-db.
set -u
build=${MD_BUILD_DIR:?}
command -v man >/dev/null || { echo "man-render: no man(1) (man-db)"; exit 77; }

status=0
for page in mydailyctl.1 mydailyd.8 mydaily.conf.5 mydaily-keys.5; do
  file=$build/data/man/$page
  if [ ! -f "$file" ]; then
    echo "FAIL: $page was not built"
    status=1
    continue
  fi
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$file" 2>&1 >/dev/null)
  text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$file" 2>/dev/null)
  if [ -n "$warnings" ]; then
    echo "FAIL: $page: man --warnings says:"
    echo "$warnings" | head -10
    status=1
  fi
  for section in NAME SYNOPSIS DESCRIPTION; do
    if ! grep -q "^$section" <<<"$text"; then
      echo "FAIL: $page renders without a $section section"
      status=1
    fi
  done
  [ "$status" -eq 0 ] && echo "ok: $page renders ($(wc -l <<<"$text") lines)"
done
exit $status
