#!/bin/sh
# An empty keys file at install, so LoadCredential=keys:/etc/mydaily/keys
# finds one and the service starts; an existing file is never touched.
set -eu
keys="${DESTDIR:-}/etc/mydaily/keys"
if [ ! -e "$keys" ]; then
  install -d -m 0755 "$(dirname "$keys")"
  install -m 0600 /dev/null "$keys"
fi
