# shellcheck shell=bash
# A booted Debian container for the system test: a cached debootstrap rootfs,
# a throw-away copy per run, systemd-nspawn --boot with a private network
# namespace (loopback only), and helpers to run commands inside.  The
# package's dependencies are in the cache: the container has no network.
#
# The caller sets md_root (the container's root directory); set here are
# md_nspawn_pid and md_pid1 (the container's PID 1 as seen from the host).
# shellcheck disable=SC2154 # md_root comes from the caller

md_rootfs_packages=systemd,systemd-sysv,dbus,libglib2.0-0,libjson-glib-1.0-0,libsystemd0,libedit2,libgnutls30,iproute2
md_container_path=/usr/sbin:/usr/bin:/sbin:/bin

# The Debian mirror apt uses here: the first URI serving bookworm in a
# deb822 .sources file or a one-line .list entry.  MD_DEBIAN_MIRROR wins.
md_debian_mirror () {
  if [ -n "${MD_DEBIAN_MIRROR:-}" ]; then
    echo "$MD_DEBIAN_MIRROR"
    return
  fi
  local found
  found=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '/^$/ { uri = ""; suites = "" }
         /^URIs:/ { uri = $2 }
         /^Suites:/ { suites = $0 }
         uri != "" && suites ~ /[ \t]bookworm([ \t]|$)/ { print uri; exit }')
  if [ -z "$found" ]; then
    found=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed 's/\[[^]]*\]//' |
      awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
  fi
  echo "${found:-http://deb.debian.org/debian}"
}

# debootstrap fetches with wget, which takes apt's proxy from the environment.
md_export_apt_proxy () {
  local proxy
  proxy=$(apt-config dump 2>/dev/null |
    sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p' | head -n 1)
  if [ -n "$proxy" ] && [ -z "${http_proxy:-}" ]; then
    export http_proxy=$proxy
  fi
}

# Builds the cache once, atomically: debootstrap into a temporary directory
# and rename it, under a lock, so that an interrupted or concurrent run never
# sees half a rootfs.
md_rootfs_ensure () {
  local cache=$1 log=$2
  [ -x "$cache/lib/systemd/systemd" ] && return 0
  mkdir -p "$(dirname "$cache")" || return 1
  (
    flock -w 900 9 || exit 1
    [ -x "$cache/lib/systemd/systemd" ] && exit 0
    rm -rf "$cache.tmp"
    md_export_apt_proxy
    debootstrap --variant=minbase --include="$md_rootfs_packages" \
      bookworm "$cache.tmp" "$(md_debian_mirror)" >"$log" 2>&1 &&
      mv -T "$cache.tmp" "$cache"
  ) 9>"$cache.lock"
}

# Copies the cache and puts the package file in the copy's /var/tmp, for
# the booted container to install.  The cache holds the package's run-time
# dependencies (md_rootfs_packages), so no network is needed.
md_root_prepare () {
  local cache=$1 root=$2 deb=$3
  cp -a --reflink=auto "$cache" "$root" || return 1
  install -m 0644 "$deb" "$root/var/tmp/"
}

# The container's PID 1: a descendant of nspawn (at most two levels down)
# that is PID 1 in its own PID namespace.
md_find_pid1 () {
  local parent child grandchild
  parent=$1
  # shellcheck disable=SC2013 # the children files hold words (pids)
  for child in $(cat /proc/"$parent"/task/*/children 2>/dev/null); do
    for grandchild in "$child" $(cat /proc/"$child"/task/*/children 2>/dev/null); do
      if awk '/^NSpid:/ { exit !(NF == 3 && $3 == 1) }' \
        /proc/"$grandchild"/status 2>/dev/null; then
        echo "$grandchild"
        return 0
      fi
    done
  done
  return 1
}

md_pid1_found () {
  md_pid1=$(md_find_pid1 "$md_nspawn_pid") && [ -n "$md_pid1" ]
}

md_system_is_up () {
  local state
  local md_in_timeout=170
  state=$(md_in systemctl is-system-running --wait 2>/dev/null)
  [ "$state" = running ] || [ "$state" = degraded ]
}

# Boots md_root.  --private-network gives the container a network namespace
# of its own with only loopback in it: the shipped socket unit listens on its
# real port 5683 there without touching the host's, and the host's client
# joins that namespace (nsenter --net) to talk to 127.0.0.1 and ::1.
md_boot () {
  local console_log=$1
  systemd-nspawn --quiet -D "$md_root" --machine=mydaily-test --boot \
    --register=no --keep-unit --private-network --console=read-only \
    >>"$console_log" 2>&1 </dev/null &
  md_nspawn_pid=$!
  md_pid1=
  md_wait_for 30 md_pid1_found || return 1
  md_wait_for 180 md_system_is_up
}

md_nspawn_running () {
  [ -n "${md_nspawn_pid:-}" ] && kill -0 "$md_nspawn_pid" 2>/dev/null
}

md_nspawn_gone () {
  ! md_nspawn_running
}

# Waits for nspawn to exit and reports its status (133 means a reboot).
md_reap_nspawn () {
  md_wait_for "$1" md_nspawn_gone || return 1
  wait "$md_nspawn_pid"
  md_nspawn_status=$?
  md_nspawn_pid=
  return 0
}

# Orderly shutdown: SIGTERM makes nspawn ask the container's systemd to power
# off.  If that hangs, SIGKILL to the container's PID 1 ends its whole PID
# namespace, and nspawn with it.
md_poweroff () {
  md_nspawn_running || return 0
  kill -TERM "$md_nspawn_pid" 2>/dev/null
  md_reap_nspawn 90 && return 0
  [ -n "${md_pid1:-}" ] && kill -KILL "$md_pid1" 2>/dev/null
  md_reap_nspawn 30
}

# Reboots from inside, as an operator would; nspawn exits with 133 and is
# started again on the same root.
md_reboot () {
  local console_log=$1
  md_in systemctl reboot >/dev/null 2>&1
  md_reap_nspawn 90 || return 1
  [ "$md_nspawn_status" -eq 133 ] || return 1
  md_boot "$console_log"
}

# Runs a command inside the container (all namespaces, clean environment).
md_in () {
  timeout "${md_in_timeout:-120}" nsenter -t "$md_pid1" -a \
    env -i PATH="$md_container_path" LC_ALL=C.UTF-8 SYSTEMD_PAGER= \
    SYSTEMD_COLORS=0 "$@"
}

# Runs the build's mydailyctl on the host, inside the container's network
# namespace.  MD_SERVER overrides the address.
md_ctl () {
  timeout 600 nsenter -t "$md_pid1" --net \
    "$MYDAILYCTL" -s "${MD_SERVER:-127.0.0.1:5683}" "$@"
}
