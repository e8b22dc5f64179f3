#!/usr/bin/env bash
# The zh_CN catalogue stays at 100%: the strings of today's sources
# (xgettext over po/POTFILES, with the keywords of meson's glib preset) merged
# into po/zh_CN.po leave nothing untranslated or fuzzy, and every source
# file that marks strings is in po/POTFILES.  Each problem is printed with
# the msgid to translate, so the fix is a copy and paste away.
set -uo pipefail
: "${MD_SOURCE_DIR:?}"
for tool in xgettext msgmerge msgfmt msgattrib; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not found (gettext)"; exit 77; }
done
cd "$MD_SOURCE_DIR" || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# POTFILES: one path a line; '#' comments and empty lines skipped.
mapfile -t listed < <(grep -vE '^[[:space:]]*(#|$)' po/POTFILES)
for file in "${listed[@]}"; do
  [ -f "$file" ] || fail "po/POTFILES lists $file, which does not exist"
done
while read -r file; do
  # A here-string, not a pipe: under pipefail, grep -q quitting early would
  # make printf's SIGPIPE fail the check now and then.
  grep -qxF "$file" <<<"$(printf '%s\n' "${listed[@]}")" ||
    fail "$file marks strings for translation but is not in po/POTFILES"
done < <(grep -lE '(^|[^A-Za-z0-9_])(N?C?_|g_dngettext|ngettext) \(' -r src --include='*.[ch]' | sort)

xgettext --package-name=mydaily --from-code=UTF-8 --add-comments \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dngettext:2,3 --keyword=ngettext:1,2 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_strdup_printf:1:c-format --flag=g_set_error:4:c-format \
  --flag=g_prefix_error:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_print:1:c-format --flag=g_printerr:1:c-format \
  -o "$work/mydaily.pot" "${listed[@]}" || { echo "FAIL: xgettext failed"; exit 1; }

# A format macro (G_GSIZE_FORMAT, PRIu64) cuts the msgid xgettext sees, so
# the translation could never be found at run time.
while read -r line; do
  fail "a msgid ends in a bare %, a format macro split it: $line"
done < <(grep -E '^msgid ".*[^%]%"$' "$work/mydaily.pot")

msgmerge --quiet --no-fuzzy-matching -o "$work/zh_CN.po" po/zh_CN.po "$work/mydaily.pot" ||
  { echo "FAIL: msgmerge failed"; exit 1; }
stats=$(msgfmt --check --statistics -o /dev/null "$work/zh_CN.po" 2>&1) || fail "msgfmt --check: $stats"
echo "zh_CN: $stats"
if grep -qE 'untranslated|fuzzy' <<<"$stats"; then
  fail "zh_CN is not at 100%; translate these in po/zh_CN.po (then msgmerge it with the new .pot):"
  msgattrib --untranslated --no-obsolete "$work/zh_CN.po" | sed -n '/^#:/,$p'
  msgattrib --only-fuzzy --no-obsolete "$work/zh_CN.po" | sed -n '/^#:/,$p'
fi

[ $failures -eq 0 ] || exit 1
echo "zh_CN translates every string of the sources"
