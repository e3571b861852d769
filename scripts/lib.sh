# shellcheck shell=bash
# Common helpers for the intervirt scripts. Source it; do not run it.

INTERVIRT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export INTERVIRT_ROOT
# The host's package and kernel-setting lists, shared with the Ansible role.
INTERVIRT_ROLE_FILES=$INTERVIRT_ROOT/ansible/roles/intervirt_agent/files
export DEBIAN_FRONTEND=noninteractive
: "${INTERVIRT_IMAGE_DIR:=/var/lib/intervirt/images}"
: "${INTERVIRT_LIBVIRT_URI:=lxc:///system}"
: "${INTERVIRT_DEBIAN_MIRROR:=http://deb.debian.org/debian}"
LIBVIRTD_SUPERVISOR_PIDFILE=/run/intervirt-libvirtd-supervisor.pid
export INTERVIRT_IMAGE_DIR INTERVIRT_LIBVIRT_URI INTERVIRT_DEBIAN_MIRROR

# JVM options of the agent (./intervirt run and the benchmark start it with these): a small
# serial-GC heap that starts at 16 MB (it grows to ~36, not to the 64 committed from the start)
# and the C1 compiler only keep it near 150 MB RSS and start it in ~0.8 s; its work is waiting
# on the kernel, not computing. C1 compiles a method after a tenth of the usual calls (20, not
# 200): a learner's session is short, and its first requests of a kind ran interpreted (bench,
# fresh agent at N = 100: Connect p50 0.63-0.67 -> 0.47-0.48 ms; RSS within its run-to-run
# spread of 148-165 MiB). The young generation stays at 8 MB (it grew to ~21, touched in full at
# every cycle; its collections take ~1-2 ms whatever its size): RSS at N = 100 -6 to -9 MiB.
# Empty = JVM defaults.
: "${INTERVIRT_AGENT_JAVA_OPTS=-XX:+UseSerialGC -Xms16m -Xmx64m -XX:MaxNewSize=8m -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=0.1 -Xss512k}"
export INTERVIRT_AGENT_JAVA_OPTS
# glibc gives every thread that calls malloc its own arena (up to 8 per core); the agent's
# request threads call libnftables and netlink through JNA: 2 arenas save ~20 MB of RSS at
# N = 100 (172 -> 151 MiB, latencies unchanged). Inherited by the agents the scripts start.
: "${MALLOC_ARENA_MAX:=2}"
export MALLOC_ARENA_MAX

# The image that prepare builds and the tests use.
INTERVIRT_DEFAULT_IMAGE=debian/trixie

# log STEP MESSAGE... : one line on stderr, prefixed with the step.
log() { local step=$1; shift; printf '%s: %s\n' "$step" "$*" >&2; }
die() { local step=$1; shift; printf '%s: error: %s\n' "$step" "$*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "$1" "must run as root (libvirt LXC, mounts, sysctls)"
}

# Monotonic-ish seconds with decimals, for timings.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# True when the host has hybrid cgroups (v1 controllers on a tmpfs /sys/fs/cgroup plus
# cgroup2 at /sys/fs/cgroup/unified): libvirt_lxc fails there unless libvirtd runs in a
# mount namespace without the unified mount.
hybrid_cgroups() {
  [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] &&
    [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]
}

# True when libvirtd answers on the LXC URI.
libvirt_answers() {
  timeout 10 virsh -q -c "$INTERVIRT_LIBVIRT_URI" list >/dev/null 2>&1
}

# The release aliases of the image store (debian/13 -> trixie): the agent's own table, read
# here so both resolve a name alike. The Ansible role installs it at the same place below
# the agent's home.
INTERVIRT_IMAGE_ALIASES=$INTERVIRT_ROOT/src/main/resources/dev/intervirt/agent/image/aliases.properties

# image_alias NAME -> prints the release NAME (distribution/alias) stands for; nothing if none.
image_alias() {
  [ -r "$INTERVIRT_IMAGE_ALIASES" ] || {
    printf 'image aliases: %s is missing\n' "$INTERVIRT_IMAGE_ALIASES" >&2
    return 1
  }
  awk -v key="$1" '
    /^[[:space:]]*(#|$)/ { next }
    { i = index($0, "="); k = substr($0, 1, i - 1); v = substr($0, i + 1)
      gsub(/^[[:space:]]+|[[:space:]]+$/, "", k); gsub(/^[[:space:]]+|[[:space:]]+$/, "", v)
      if (i > 0 && k == key) { print v; exit } }' "$INTERVIRT_IMAGE_ALIASES"
}

# resolve_image NAME -> prints "distribution/release" (aliases resolved), or fails.
resolve_image() {
  local name=${1:-$INTERVIRT_DEFAULT_IMAGE}
  local dist=${name%%/*} rel=${name#*/} alias
  [ "$dist" != "$name" ] && [ -n "$rel" ] || return 1
  alias=$(image_alias "$dist/$rel") || return 1
  [ -n "$alias" ] && rel=$alias
  case "$dist/$rel" in
    */*/*|*' '*|*..*) return 1 ;;
  esac
  printf '%s/%s\n' "$dist" "$rel"
}

# The Debian release name of this machine (bookworm, trixie …).
debian_codename() { . /etc/os-release && printf '%s\n' "${VERSION_CODENAME:-}"; }

image_path() { printf '%s/%s\n' "$INTERVIRT_IMAGE_DIR" "$1"; }

# True when the image directory holds a complete build. A build is renamed into place
# only after it finished (image.json written last), so both present means complete.
image_cached() {
  local dir; dir=$(image_path "$1")
  [ -f "$dir/image.json" ] && [ -d "$dir/rootfs" ]
}

# ensure_agent_jar STEP: (re)build target/intervirt-agent.jar when it is missing or older than
# any pom.xml or source file. Prints where it is.
ensure_agent_jar() {
  local step=$1 jar=$INTERVIRT_ROOT/target/intervirt-agent.jar stale= newer start
  if [ ! -f "$jar" ]; then
    stale="target/intervirt-agent.jar is missing"
  else
    newer=$(cd "$INTERVIRT_ROOT" && find . \( -name target -o -name .git -o -name node_modules \) -prune -o \
      -type f \( -name pom.xml -o -path '*/src/*' \) -newer "$jar" -print -quit)
    [ -z "$newer" ] || stale="${newer#./} is newer than the jar"
  fi
  if [ -n "$stale" ]; then
    log "$step" "building target/intervirt-agent.jar ($stale)"
    start=$(now)
    (cd "$INTERVIRT_ROOT" && mvn -B -q --no-transfer-progress -DskipTests package </dev/null) >&2 ||
      die "$step" "mvn package failed"
    [ -f "$jar" ] || die "$step" "mvn package did not produce target/intervirt-agent.jar"
    log "$step" "built target/intervirt-agent.jar in $(elapsed "$start") s"
  fi
  printf '%s\n' "$jar"
}

# The recipe of intervirtos/current (scripts/build-intervirtos.sh); raise it when the image
# must change on machines that cached an older build (prepare then rebuilds it).
#   1 (no number): the first build;  2: the client's daemon.json, incus.conf and package list
INTERVIRTOS_RECIPE=2

# image_recipe DIR -> the "recipe" number in DIR/image.json (0 when there is none).
image_recipe() {
  sed -n 's/^ *"recipe": *\([0-9][0-9]*\).*/\1/p' "$1/image.json" 2>/dev/null | head -n 1 | grep . || echo 0
}

# True when DIR holds a complete intervirtos build of the current recipe.
intervirtos_current() {
  [ -f "$1/image.json" ] && [ -d "$1/rootfs" ] && [ -f "$1/rootfs/etc/docker/daemon.json" ] &&
    [ "$(image_recipe "$1")" -ge "$INTERVIRTOS_RECIPE" ]
}

# True when an overlay mount (a running container) uses DIR/rootfs as its lower layer.
image_in_use() {
  awk -v d="lowerdir=$1/rootfs" '/ - overlay / { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == d) f = 1 }
    END { exit !f }' /proc/self/mountinfo
}

# install_missing STEP LOG PACKAGE...: apt-get installs those of the packages that are not
# installed (no recommends: vagrant-libvirt's would pull in systemd), its output in LOG and
# its tail on stderr when it fails. Sets INSTALLED to how many it installed.
install_missing() {
  local step=$1 apt_log=$2 p missing=()
  shift 2
  for p in "$@"; do
    [ "$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
  done
  INSTALLED=${#missing[@]}
  [ "$INSTALLED" -gt 0 ] || return 0
  log "$step" "installing ${missing[*]}"
  if ! { apt-get -q -o DPkg::Lock::Timeout=600 update &&
         apt-get install -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold \
           --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    die "$step" "apt-get failed (full log: $apt_log)"
  fi
}

# lock_build STEP LOCKFILE NAME: one builder of NAME at a time, by a lock on fd 9 that is
# held until the script exits; says so when it has to wait for another build.
lock_build() {
  exec 9>"$2"
  flock -n 9 || { log "$1" "waiting for another build of $3"; flock 9; }
}

# services_off ROOTFS: package installs in the chroot start no service (policy-rc.d says
# no); services_on ROOTFS lets them start again.
services_off() {
  printf '#!/bin/sh\nexit 101\n' >"$1/usr/sbin/policy-rc.d"
  chmod 755 "$1/usr/sbin/policy-rc.d"
}
services_on() { rm -f "$1/usr/sbin/policy-rc.d"; }

# bind_host_dirs ROOTFS: the host's /proc, /sys and /dev in a debootstrapped chroot.
# unbind_host_dirs ROOTFS undoes it, skipping what is not mounted (it runs from cleanup traps).
bind_host_dirs() {
  local m
  for m in proc sys dev dev/pts; do mount --bind "/$m" "$1/$m"; done
}
unbind_host_dirs() {
  local m
  for m in dev/pts dev proc sys; do
    mountpoint -q "$1/$m" 2>/dev/null && umount -l "$1/$m"
  done
  return 0
}

# apt_mounts_on ROOTFS: the host's resolv.conf and a /proc in an image's copied root
# filesystem, for apt-get in it. apt_mounts_off ROOTFS undoes it, quiet where nothing is
# mounted (cleanup traps, interrupted builds).
apt_mounts_on() {
  mount --bind /etc/resolv.conf "$1/etc/resolv.conf"
  mount -t proc proc "$1/proc"
}
apt_mounts_off() {
  umount -l "$1/proc" 2>/dev/null || true
  umount -l "$1/etc/resolv.conf" 2>/dev/null || true
}

# chroot_apt_install ROOTFS LOG PACKAGE...: apt-get update and install (no recommends) in
# the chroot, with no service started there; output in LOG, and on failure its tail on
# stderr and a false return.
chroot_apt_install() {
  local root=$1 apt_log=$2
  shift 2
  services_off "$root" || return 1
  if ! { chroot "$root" apt-get -q update &&
         chroot "$root" apt-get -q -y --no-install-recommends install "$@"; } >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    return 1
  fi
  services_on "$root"
}

# write_grub_cfg ROOTFS UUID KERNEL INITRD ARG...: a grub.cfg that boots KERNEL at once from
# the ext4 partition UUID of an MBR disk, with ARGs on the kernel's command line.
write_grub_cfg() {
  local rootfs=$1 uuid=$2 kernel=$3 initrd=$4
  shift 4
  mkdir -p "$rootfs/boot/grub"
  cat >"$rootfs/boot/grub/grub.cfg" <<GRUB
set timeout=0
insmod part_msdos
insmod ext2
search --no-floppy --fs-uuid --set=root $uuid
linux /boot/$kernel root=UUID=$uuid $*
initrd /boot/$initrd
boot
GRUB
}
