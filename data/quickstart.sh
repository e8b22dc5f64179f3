#!/usr/bin/env bash
# Command A of the README: on Debian 12 as root, install the build
# dependencies, build and install mydaily, start the service and open the
# interactive notebook.
#
# Where systemd is PID 1 the socket unit is enabled (the daemon starts on the
# first datagram).  Elsewhere (containers, CI machines) mydailyd runs in the
# background under systemd-socket-activate on localhost:5683, with its notes
# in $MD_STATE_DIRECTORY (default /var/lib/mydaily) and its log in
# /var/log/mydaily.log.
set -euo pipefail
cd "$(dirname "$0")/.."

state_dir=${MD_STATE_DIRECTORY:-/var/lib/mydaily}
build_deps=(meson ninja-build gcc pkg-config gettext libglib2.0-dev libsystemd-dev
            libjson-glib-dev libedit-dev libgnutls28-dev bash-completion scdoc systemd less)

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${build_deps[@]}"

meson setup --reconfigure build/release >/dev/null 2>&1 || meson setup build/release
meson install -C build/release
ldconfig

libexecdir=$(meson introspect build/release --buildoptions |
  python3 -c 'import json,sys; o={x["name"]:x["value"] for x in json.load(sys.stdin)}; print(o["prefix"]+"/"+o["libexecdir"])' 2>/dev/null ||
  echo /usr/local/libexec)

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now mydaily.socket mydaily-coaps.socket
  echo "mydaily.socket is enabled; the notes live in /var/lib/mydaily (journalctl -u mydaily)"
elif ! mydailyctl --timeout=1 status >/dev/null 2>&1; then
  mkdir -p "$state_dir"
  setsid systemd-socket-activate --datagram -l 127.0.0.1:5683 -l '[::1]:5683' \
    "$libexecdir/mydailyd" --state-directory="$state_dir" \
    </dev/null >>/var/log/mydaily.log 2>&1 &
  echo "systemd is not PID 1 here: mydailyd runs under systemd-socket-activate on"
  echo "localhost:5683, notes in $state_dir, log in /var/log/mydaily.log"
fi

exec mydailyctl
