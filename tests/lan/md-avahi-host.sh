#!/bin/sh
# md-avahi-host.sh SERVICES_DIR CMD...: a system bus and avahi-daemon of
# their own for a LAN test host, then CMD.  Run it under `unshare -m` in the
# host's network namespace: the mounts (over /run and /etc/avahi/services)
# stay in that mount namespace, and the machine's own bus and Avahi, if
# any, are never touched.
set -e
services=$1
shift
mount --make-rprivate /
# A /run of its own: nothing is created on the machine's.
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus /run/avahi-daemon
mount --bind "$services" /etc/avahi/services
dbus-daemon --system --fork
avahi-daemon --daemonize --no-chroot --no-drop-root --no-rlimits
exec "$@"
