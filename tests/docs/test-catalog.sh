#!/usr/bin/env bash
# data/mydaily.catalog against src/common/md-protocol.h: every MESSAGE_ID
# has an English entry and a zh_CN one, there is no entry for an id the code
# does not log, every entry has its headers, and every @FIELD@ it fills in
# is a field the daemon logs.  Then journalctl itself compiles the catalog
# (--update-catalog into a scratch root) and lists every id.
set -uo pipefail
: "${MD_SOURCE_DIR:?}"
catalog=$MD_SOURCE_DIR/data/mydaily.catalog
header=$MD_SOURCE_DIR/src/common/md-protocol.h
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

mapfile -t ids < <(grep -oE '^#define MD_PROTOCOL_MESSAGE_ID_[A-Z_]+ "[0-9a-f]{32}"' "$header" |
  grep -oE '[0-9a-f]{32}')
[ "${#ids[@]}" -gt 0 ] || fail "no MESSAGE_ID in $header"
for id in "${ids[@]}"; do
  grep -qx -- "-- $id" "$catalog" || fail "$id has no entry"
  grep -qx -- "-- $id zh_CN" "$catalog" || fail "$id has no zh_CN entry"
done
while read -r id; do
  grep -qx "$id" <<<"$(printf '%s\n' "${ids[@]}")" || fail "entry $id is not a MESSAGE_ID of $header"
done < <(grep -oE '^-- [0-9a-f]{32}' "$catalog" | cut -c4- | sort -u)

# Each entry: "-- ID [LANG]", headers up to an empty line, then a body.
awk '
  function check() {
    if (id == "") return
    if (!subject) print "FAIL: " id ": no Subject:"
    if (!defined) print "FAIL: " id ": no \"Defined-By: mydaily\""
    if (!documented) print "FAIL: " id ": no \"Documentation: man:...\""
    if (body == 0) print "FAIL: " id ": no text"
  }
  /^#/ && id == "" { next }
  /^-- / { check(); id = substr($0, 4); in_headers = 1; subject = defined = documented = body = 0; next }
  id == "" && NF { print "FAIL: line " NR ": text before the first \"-- ID\""; next }
  in_headers && /^$/ { in_headers = 0; next }
  in_headers {
    if ($0 ~ /^Subject: ./) subject = 1
    else if ($0 == "Defined-By: mydaily") defined = 1
    else if ($0 ~ /^Documentation: man:[a-z.-]+\([158]\)$/) documented = 1
    else print "FAIL: " id ": unexpected header line: " $0
    next
  }
  NF { body++ }
  END { check() }
' "$catalog" >"${TMPDIR:-/tmp}/catalog-check.$$"
while read -r line; do fail "${line#FAIL: }"; done <"${TMPDIR:-/tmp}/catalog-check.$$"
rm -f "${TMPDIR:-/tmp}/catalog-check.$$"

# @FIELD@: MESSAGE and the fields md-protocol.h names.
mapfile -t fields < <(grep -oE '^#define MD_PROTOCOL_FIELD_[A-Z_]+ "[A-Z_]+"' "$header" |
  grep -oE '"[A-Z_]+"' | tr -d '"')
while read -r field; do
  grep -qx "$field" <<<"$(printf '%s\n' MESSAGE "${fields[@]}")" ||
    fail "@$field@ is not a field the daemon logs"
done < <(grep -v '^#' "$catalog" | grep -oE '@[A-Z_]+@' | tr -d @ | sort -u)

if command -v journalctl >/dev/null; then
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/usr/lib/systemd/catalog"
  cp "$catalog" "$root/usr/lib/systemd/catalog/"
  if ! errors=$(journalctl --root="$root" --update-catalog 2>&1) || [ -n "$errors" ]; then
    fail "journalctl --update-catalog: $errors"
  fi
  listed=$(journalctl --root="$root" --list-catalog 2>&1)
  for id in "${ids[@]}"; do
    grep -q "^$id mydaily: " <<<"$listed" || fail "journalctl --list-catalog does not list $id"
  done
else
  echo "journalctl not found: only the format was checked"
fi

if [ $failures -gt 0 ]; then
  echo "$failures problem(s) in data/mydaily.catalog"
  exit 1
fi
echo "${#ids[@]} MESSAGE_IDs, each with an English and a zh_CN entry"
