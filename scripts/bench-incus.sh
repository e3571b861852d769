#!/usr/bin/env bash
# bench-incus.sh setup|cleanup - the Incus peer of the benchmark (issue 7).
#
# setup: installs Incus 6 (container-only daemon, incus-base) from bookworm-backports,
# starts incusd if it is not running (systemd is not PID 1 here), makes a btrfs storage pool
# on a loop file, imports the agent's own rootfs (debian/trixie from the image store) as an
# image, and a profile with a root disk on that pool and one NIC on a plain bridge of its own.
# Every object is named ivbench-*. Prints "ready" on success; on failure prints the reason as
# its last line and exits non-zero (the benchmark reports it and goes on).
# cleanup: removes every ivbench-* instance, image, profile, pool and the bridge, and stops
# the incusd this script started.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=bench-incus
need_root "$step"

pool=ivbench-pool
image=ivbench-trixie
profile=ivbench
bridge=ivbench-ibr
pidfile=/run/ivbench-incusd.pid
workdir=/var/lib/intervirt-bench-incus
rootfs=$(image_path "$INTERVIRT_DEFAULT_IMAGE")/rootfs

install() {
  if [ -x /usr/libexec/incus/incusd ] && command -v incus >/dev/null && command -v mkfs.btrfs >/dev/null; then
    return
  fi
  local src=/etc/apt/sources.list.d/intervirt-bookworm-backports.sources
  . /etc/os-release
  if [ "${VERSION_CODENAME:-}" = bookworm ] && [ ! -f "$src" ]; then
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$INTERVIRT_DEBIAN_MIRROR" >"$src"
  fi
  log "$step" "installing incus-base, incus-client, btrfs-progs"
  apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  local target=()
  [ "${VERSION_CODENAME:-}" = bookworm ] && target=(-t bookworm-backports)
  # incus-base is the container-only daemon (the incus package adds QEMU for VMs).
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${target[@]}" \
    incus-base incus-client btrfs-progs >/dev/null
}

start_daemon() {
  if incus query /1.0 >/dev/null 2>&1; then
    return
  fi
  mkdir -p /var/log/incus
  exec 8>&- 9>&- || true
  if hybrid_cgroups; then
    # Like libvirtd: liblxc cannot use the hybrid layout's unified mount.
    mount --make-rshared /
    setsid unshare -m --propagation slave sh -c 'umount /sys/fs/cgroup/unified && echo $$ >'"$pidfile"' && exec /usr/libexec/incus/incusd --group root' \
      </dev/null >>/var/log/incus/ivbench-incusd.log 2>&1 &
  else
    setsid sh -c 'echo $$ >'"$pidfile"' && exec /usr/libexec/incus/incusd --group root' \
      </dev/null >>/var/log/incus/ivbench-incusd.log 2>&1 &
  fi
  incus admin waitready --timeout 60 || { echo "incusd did not become ready (see /var/log/incus/ivbench-incusd.log)"; exit 1; }
  log "$step" "started incusd (pid $(cat "$pidfile"))"
}

setup() {
  grep -qw btrfs /proc/filesystems || { echo "this kernel cannot mount btrfs"; exit 1; }
  install
  start_daemon
  if ! incus storage show "$pool" >/dev/null 2>&1; then
    incus storage create "$pool" btrfs size=6GiB >/dev/null
  fi
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip link set "$bridge" up
  fi
  if ! incus profile show "$profile" >/dev/null 2>&1; then
    incus profile create "$profile" >/dev/null
    incus profile device add "$profile" root disk path=/ pool="$pool" >/dev/null
    incus profile device add "$profile" eth0 nic nictype=bridged parent="$bridge" name=eth0 >/dev/null
  fi
  if ! incus image info "$image" >/dev/null 2>&1; then
    [ -d "$rootfs" ] || { echo "no image rootfs at $rootfs (run ./intervirt prepare)"; exit 1; }
    rm -rf "$workdir"; mkdir -p "$workdir"
    cat >"$workdir/metadata.yaml" <<META
architecture: x86_64
creation_date: $(date +%s)
properties:
  description: intervirt debian/trixie (benchmark)
  os: debian
  release: trixie
META
    tar -C "$workdir" -cf "$workdir/meta.tar" metadata.yaml
    tar -C "$rootfs" --numeric-owner --xattrs -cf "$workdir/rootfs.tar" .
    incus image import "$workdir/meta.tar" "$workdir/rootfs.tar" --alias "$image" >/dev/null
    rm -rf "$workdir"
  fi
  echo ready
}

cleanup() {
  if incus query /1.0 >/dev/null 2>&1; then
    for c in $(incus list --format csv -c n 2>/dev/null | grep '^ivbench-' || true); do
      incus delete -f "$c" >/dev/null 2>&1 || true
    done
    incus image delete "$image" >/dev/null 2>&1 || true
    incus profile delete "$profile" >/dev/null 2>&1 || true
    incus storage delete "$pool" >/dev/null 2>&1 || true
  fi
  ip link delete "$bridge" >/dev/null 2>&1 || true
  if [ -f "$pidfile" ]; then
    local pid; pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      incus admin shutdown --timeout 30 >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  fi
}

case "${1:-}" in
  setup) setup ;;
  cleanup) cleanup ;;
  *) echo "usage: $0 setup|cleanup" >&2; exit 2 ;;
esac
