#!/bin/sh
# An empty keys file at install, so LoadCredential=keys:/etc/mydaily/keys
# finds one and the service starts; an existing file is never touched.
# Not into a DESTDIR: a package (debian/) makes the file in its postinst
# instead, since a keys file that is part of the package would be replaced
# on upgrade and shipped with a mode dpkg resets.
set -eu
[ -z "${DESTDIR:-}" ] || exit 0
keys=/etc/mydaily/keys
if [ ! -e "$keys" ]; then
  install -d -m 0755 "$(dirname "$keys")"
  install -m 0600 /dev/null "$keys"
fi
