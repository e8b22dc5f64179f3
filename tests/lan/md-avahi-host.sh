#!/bin/sh
# md-avahi-host.sh NAME SERVICES_DIR CMD...: a system bus and avahi-daemon
# of their own for the LAN test host NAME (its mDNS host name, unique, so
# the daemons never spend seconds resolving a name conflict), then CMD.  Run it under `unshare -m` in the
# host's network namespace: the mounts (over /run and /etc/avahi/services)
# stay in that mount namespace, and the machine's own bus and Avahi, if
# any, are never touched.
set -e
name=$1
services=$2
shift 2
mount --make-rprivate /
# A /run of its own: nothing is created on the machine's.
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus /run/avahi-daemon
mount --bind "$services" /etc/avahi/services
printf '[server]\nhost-name=%s\nuse-ipv4=yes\nuse-ipv6=yes\n[publish]\npublish-workstation=no\n' \
  "$name" >/run/avahi-daemon.conf
dbus-daemon --system --fork
avahi-daemon --daemonize --no-chroot --no-drop-root --no-rlimits -f /run/avahi-daemon.conf
exec "$@"
