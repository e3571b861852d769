#!/usr/bin/env bash
# prepare.sh - make this machine able to run the agent and its tests. Idempotent: a run that
# finds the host in place says "host: nothing to do", then runs the smoke test.
#   1. Debian packages (apt-get only when something is missing)
#   2. virtlogd + libvirtd running and answering on lxc:///system (start-libvirtd.sh)
#   3. kernel settings: forwarding on, bridge netfilter off, overlayfs present
#   4. the default image and intervirtos/current in the image store (build-image.sh)
#   5. the smoke test: the agent jar (built if stale) adds, starts, links, pings and removes two
#      containers with names of its own, and prints its timing
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
# What every agent host needs: the Ansible role's list (one source for both), then what only
# a developer machine or CI needs on top (the build, the tests' probes).
packages=()
while read -r name releases; do
  case "$name" in ''|'#'*) continue ;; esac
  if [ -z "$releases" ] || [[ " $releases " == *" $(debian_codename) "* ]]; then packages+=("$name"); fi
done <"$INTERVIRT_ROLE_FILES/host-packages.txt"
# busybox-static: the tests' offline Docker image and the foreign-like image ivtest/busybox.
packages+=(
  netcat-openbsd socat python3-minimal busybox-static
  maven openjdk-17-jdk-headless
)
apt_log=$(mktemp /tmp/intervirt-apt.XXXXXX.log)
install_missing "$step" "$apt_log" "${packages[@]}"
rm -f "$apt_log"
if [ "$INSTALLED" -gt 0 ]; then
  log "$step" "installed $INSTALLED package(s) in $(elapsed "$start") s"
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
raise_sysctl() {
  local key=$1 want=$2 file=/proc/sys/${1//.//}
  [ -e "$file" ] || return 0
  [ "$(cat "$file")" -ge "$want" ] && return 0
  sysctl -qw "$key=$want"
  log "$step" "sysctl $key=$want"
  changed=1
}
# Docker inside IntervirtOS computers needs the role's kernel-modules.txt and a computer
# cannot load modules; on kernels without loadable modules (these build machines) they are
# built in. Loaded before the bridge keys below, which exist only with br_netfilter.
moddir=/lib/modules/$(uname -r)
if [ -d "$moddir" ]; then
  while read -r m _; do
    case "$m" in ''|'#'*) continue ;; esac
    grep -q "^$m " /proc/modules && continue
    grep -q "/$m\.ko" "$moddir/modules.builtin" 2>/dev/null && continue
    if modprobe "$m" 2>/dev/null; then log "$step" "loaded kernel module $m"; changed=1; fi
  done <"$INTERVIRT_ROLE_FILES/kernel-modules.txt"
fi
# The role's lists (installed there as /etc/sysctl.d files): each value at least the listed one;
# the bridge netfilter keys exactly (they exist only while br_netfilter is loaded).
while read -r key _ value; do
  case "$key" in ''|'#'*) continue ;; esac
  raise_sysctl "$key" "$value"
done <"$INTERVIRT_ROLE_FILES/sysctl.conf"
while read -r key _ value; do
  case "$key" in ''|'#'*) continue ;; esac
  set_sysctl "$key" "$value"
done <"$INTERVIRT_ROLE_FILES/sysctl-bridge.conf"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
  die "$step" "the kernel has no overlayfs (container roots are overlay mounts)"

# --- 4. default image -----------------------------------------------------------------
if ! image_cached "$INTERVIRT_DEFAULT_IMAGE"; then
  "$INTERVIRT_ROOT/scripts/build-image.sh" "$INTERVIRT_DEFAULT_IMAGE"
  changed=1
fi
# The client's own lab image (ssh with an empty root password, docker); the tests use it.
# Rebuilt when the cached one is of an older recipe (e.g. lacks the client's daemon.json).
if ! intervirtos_current "$(image_path intervirtos/current)"; then
  "$INTERVIRT_ROOT/scripts/build-image.sh" intervirtos/current
  changed=1
fi
# A build of an older recipe that running containers still used was moved aside: removed
# once no overlay uses the image any more.
if ! image_in_use "$(image_path intervirtos/current)"; then
  for old in "$(image_path intervirtos)"/.current.old.*; do
    [ -d "$old" ] || continue
    rm -rf --one-file-system "$old"
    log "$step" "removed the replaced build $old"
    changed=1
  done
fi

if [ "$changed" -eq 0 ]; then
  log "$step" "host: nothing to do"
else
  log "$step" "host done in $(elapsed "$start") s"
fi

# --- 5. smoke test --------------------------------------------------------------------
# Through the agent's own code path, with names of its own (ivsmoke, ivsbr0, ivs<n>): two
# containers added, started, linked, one pings the other, both removed. A host piece that is
# missing fails here, with the agent's reason, instead of in the tests later.
[ "${INTERVIRT_SKIP_SMOKE_TEST:-}" = 1 ] && exit 0
jar=$(ensure_agent_jar "$step")
smoke_log=$(mktemp /tmp/intervirt-smoke.XXXXXX.log)
if ! java $INTERVIRT_AGENT_JAVA_OPTS -jar "$jar" --smoke-test >"$smoke_log.out" 2>"$smoke_log"; then
  cat "$smoke_log.out" >&2
  tail -n 30 "$smoke_log" >&2
  die "$step" "the smoke test failed (agent log: $smoke_log)"
fi
log "$step" "$(cat "$smoke_log.out")"
rm -f "$smoke_log" "$smoke_log.out"
