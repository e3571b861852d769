#!/usr/bin/env bash
# build-image.sh [NAME] - build (or confirm) an image in the image store.
#
# Store layout: ${INTERVIRT_IMAGE_DIR:-/var/lib/intervirt/images}/<distribution>/<release>/
#   rootfs/      the root filesystem (used read-only as the overlay lower layer)
#   image.json   distribution, release, built_at, packages, ... (written last)
# A build happens in a temporary sibling directory (.<release>.build.XXXXXX) and is renamed
# into place only when complete, so an interrupted build never looks cached.
# Built locally: debian/<release> (debootstrap; aliases such as 13 -> trixie from the agent's
# table, see INTERVIRT_IMAGE_ALIASES in lib.sh) and
# intervirtos/current (scripts/build-intervirtos.sh).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=image
need_root "$step"

name=$(resolve_image "${1:-$INTERVIRT_DEFAULT_IMAGE}") ||
  die "$step" "bad image name '${1:-}' (expected DISTRIBUTION/RELEASE, e.g. debian/trixie)"
dist=${name%%/*} rel=${name#*/}
dest=$(image_path "$name")
# intervirtos/current has its own builder (derived from the default Debian image).
[ "$name" = intervirtos/current ] && exec "$INTERVIRT_ROOT/scripts/build-intervirtos.sh"

if image_cached "$name"; then
  log "$step" "$name is already built at $dest"
  exit 0
fi
[ "$dist" = debian ] ||
  die "$step" "only debian/<release> and intervirtos/current can be built locally (asked for $name)"
command -v debootstrap >/dev/null || die "$step" "debootstrap is missing (run ./intervirt prepare)"
[ -e "/usr/share/debootstrap/scripts/$rel" ] ||
  die "$step" "debootstrap does not know the release '$rel'"

packages=(iproute2 iputils-ping systemd-sysv netcat-openbsd procps dbus)
parent=$(dirname "$dest")
mkdir -p "$parent"

# One builder per image at a time; the lock also makes removing stale builds safe.
lock_build "$step" "$parent/.$rel.lock" "$name"
if image_cached "$name"; then
  log "$step" "$name was built meanwhile at $dest"
  exit 0
fi

# Unmount whatever an interrupted debootstrap left mounted below $1, then remove it
# without ever crossing into another filesystem.
remove_tree() {
  local dir=$1 m
  [ -e "$dir" ] || return 0
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(findmnt -rn -o TARGET | awk -v d="$dir/" 'index($0, d) == 1' | sort -r)
  rm -rf --one-file-system "$dir"
}
for stale in "$parent/.$rel.build."*; do
  [ -e "$stale" ] || continue
  log "$step" "removing interrupted build $stale"
  remove_tree "$stale"
done
# A release directory without image.json is not a finished build either.
[ -e "$dest" ] && { log "$step" "removing incomplete $dest"; remove_tree "$dest"; }

tmp=$(mktemp -d "$parent/.$rel.build.XXXXXX")
chmod 755 "$tmp"
trap 'remove_tree "$tmp"' EXIT
rootfs=$tmp/rootfs
start=$(now)
log "$step" "debootstrap $rel from $INTERVIRT_DEBIAN_MIRROR into $tmp (minbase + ${packages[*]})"
include=$(IFS=,; echo "${packages[*]}")
if ! debootstrap --variant=minbase --include="$include" "$rel" "$rootfs" \
    "$INTERVIRT_DEBIAN_MIRROR" >"$tmp/debootstrap.log" 2>&1; then
  tail -n 20 "$tmp/debootstrap.log" >&2
  die "$step" "debootstrap $rel failed (log above)"
fi
bootstrap_seconds=$(elapsed "$start")

# --- make the rootfs a good libvirt LXC container root --------------------------------
# machine-id: empty, so systemd takes the container's id from libvirt's container_uuid
# (the domain uuid) instead of every container sharing one id.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
# hostname: none, so the container keeps the hostname libvirt gives it (the domain name).
rm -f "$rootfs/etc/hostname"
# resolv.conf: debootstrap copied the build host's; the agent decides per container.
printf '# Written by the Intervirt agent when the container gets internet access.\n' \
  >"$rootfs/etc/resolv.conf"
# root stays locked (as debootstrap leaves it): nobody logs in; the agent enters
# containers with setns/nsenter. No network configuration: minbase has no ifupdown and
# systemd-networkd has no .network files, so libvirt's and the agent's addresses stand.
rm -f "$rootfs/etc/network/interfaces"
# No periodic apt runs: containers of a simulated network should not wander onto the
# internet on their own; the agent's `update` command upgrades them when asked.
rm -f "$rootfs"/etc/systemd/system/timers.target.wants/apt-daily{,-upgrade}.timer
# Do the first-boot work once here instead of in every container (and its upper layer):
# ldconfig.service and systemd-journal-catalog-update.service run only while
# /etc/.updated and /var/.updated are older than /usr (ConditionNeedsUpdate).
chroot "$rootfs" ldconfig
chroot "$rootfs" journalctl --update-catalog
usr_nsec=$(stat -c '%.9Y' "$rootfs/usr" | tr -d .)
for d in etc var; do
  printf 'TIMESTAMP_NSEC=%s\n' "$usr_nsec" >"$rootfs/$d/.updated"
done
# Downloaded packages are not needed in the image.
rm -f "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin
rm -rf "$rootfs"/var/lib/apt/lists/*_Packages "$rootfs"/var/log/bootstrap.log
rm -f "$tmp/debootstrap.log"

size=$(du -sxb "$rootfs" | cut -f1)
installed=$(chroot "$rootfs" dpkg-query -W -f '.\n' | wc -l)
pkgjson=$(printf '"%s",' "${packages[@]}"); pkgjson=[${pkgjson%,}]
cat >"$tmp/image.json" <<JSON
{
  "distribution": "$dist",
  "release": "$rel",
  "built_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "builder": "debootstrap --variant=minbase",
  "mirror": "$INTERVIRT_DEBIAN_MIRROR",
  "architecture": "$(dpkg --print-architecture)",
  "packages": $pkgjson,
  "installed_package_count": $installed,
  "size_bytes": $size,
  "build_seconds": $(elapsed "$start")
}
JSON
mv -T "$tmp" "$dest"   # rename(2): atomic, the image appears complete or not at all
trap - EXIT
log "$step" "built $name at $dest in $(elapsed "$start") s (debootstrap ${bootstrap_seconds} s, $((size / 1024 / 1024)) MiB, $installed packages)"
