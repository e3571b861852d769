#!/usr/bin/env bash
# prepare.sh - make this machine able to run the agent and its tests. Idempotent: a run
# that finds everything in place prints the single line "prepare: nothing to do".
#   1. Debian packages (apt-get only when something is missing)
#   2. virtlogd + libvirtd running and answering on lxc:///system (start-libvirtd.sh)
#   3. kernel settings: forwarding on, bridge netfilter off, overlayfs present
#   4. the default image and intervirtos/current in the image store (build-image.sh)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=prepare
need_root "$step"
start=$(now)
changed=0
# One prepare at a time (tests, CI and developers may start several at once).
exec 8>/run/intervirt-prepare.lock
flock 8

# --- 1. packages ----------------------------------------------------------------------
packages=(
  libvirt-daemon libvirt-daemon-driver-lxc libvirt-clients dnsmasq-base
  nftables iproute2 iputils-ping netcat-openbsd socat
  util-linux mount procps
  debootstrap debian-archive-keyring xz-utils ca-certificates
  python3-minimal
  maven openjdk-17-jdk-headless
)
missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "$step" "installing ${missing[*]}"
  apt_log=$(mktemp /tmp/intervirt-apt.XXXXXX.log)
  apt_opts=(-y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold)
  if ! { apt-get -q -o DPkg::Lock::Timeout=600 update &&
         apt-get install "${apt_opts[@]}" --no-install-recommends "${missing[@]}"; } \
       >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    die "$step" "apt-get failed (full log: $apt_log)"
  fi
  rm -f "$apt_log"
  log "$step" "installed ${#missing[@]} package(s) in $(elapsed "$start") s"
  changed=1
fi

# --- 2. libvirt -----------------------------------------------------------------------
# start-libvirtd.sh prints only when it had something to do.
out=$("$INTERVIRT_ROOT/scripts/start-libvirtd.sh" 2>&1) || { printf '%s\n' "$out" >&2; exit 1; }
if [ -n "$out" ]; then printf '%s\n' "$out" >&2; changed=1; fi

# --- 3. kernel settings ---------------------------------------------------------------
set_sysctl() {
  local key=$1 want=$2 file=/proc/sys/${1//.//}
  [ -e "$file" ] || return 0
  [ "$(cat "$file")" = "$want" ] && return 0
  sysctl -qw "$key=$want"
  log "$step" "sysctl $key=$want"
  changed=1
}
set_sysctl net.ipv4.ip_forward 1
set_sysctl net.ipv6.conf.all.forwarding 1
# Every container's systemd takes several inotify instances: the default 128 (per uid, and
# all containers run as root) stops boots after about 25 containers.
raise_sysctl() {
  local key=$1 want=$2 file=/proc/sys/${1//.//}
  [ -e "$file" ] || return 0
  [ "$(cat "$file")" -ge "$want" ] && return 0
  sysctl -qw "$key=$want"
  log "$step" "sysctl $key=$want"
  changed=1
}
raise_sysctl fs.inotify.max_user_instances 8192
raise_sysctl fs.inotify.max_user_watches 1048576
# The neighbour tables are shared by all network namespaces: a full mesh of 100 containers
# holds ~9,900 IPv4 (and as many IPv6) entries; past gc_thresh3 the kernel logs "neighbor
# table overflow" and pings between linked containers fail for ~30 s (seen by the benchmark).
raise_sysctl net.ipv4.neigh.default.gc_thresh2 16384
raise_sysctl net.ipv6.neigh.default.gc_thresh2 16384
raise_sysctl net.ipv4.neigh.default.gc_thresh3 32768
raise_sysctl net.ipv6.neigh.default.gc_thresh3 32768
# With br_netfilter loaded, bridged container traffic would also pass the ip/ip6/arp
# hooks; the agent's routing rules assume it does not (libvirt recommends 0 as well).
if [ -d /proc/sys/net/bridge ]; then
  for t in iptables ip6tables arptables; do
    set_sysctl "net.bridge.bridge-nf-call-$t" 0
  done
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
  die "$step" "the kernel has no overlayfs (container roots are overlay mounts)"

# --- 4. default image -----------------------------------------------------------------
if ! image_cached "$INTERVIRT_DEFAULT_IMAGE"; then
  "$INTERVIRT_ROOT/scripts/build-image.sh" "$INTERVIRT_DEFAULT_IMAGE"
  changed=1
fi
# The client's own lab image (ssh with an empty root password, docker); the tests use it.
if ! image_cached intervirtos/current; then
  "$INTERVIRT_ROOT/scripts/build-image.sh" intervirtos/current
  changed=1
fi

if [ "$changed" -eq 0 ]; then
  log "$step" "nothing to do"
else
  log "$step" "done in $(elapsed "$start") s"
fi
