#!/usr/bin/env bash
# build-test-image.sh - the image "ivtest/netcfg" for the network-configuration test: the default
# debian/trixie image plus ifupdown, isc-dhcp-client and NetworkManager, i.e. an image whose own
# network configuration would take eth0 over if the agent let it. Derived from the cached
# default image (no second debootstrap); cached like any image; atomic rename when complete.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=test-image
need_root "$step"
base=$(image_path "$INTERVIRT_DEFAULT_IMAGE")
dest=$(image_path ivtest/netcfg)
[ -f "$dest/image.json" ] && exit 0
[ -d "$base/rootfs" ] || "$INTERVIRT_ROOT/scripts/build-image.sh" "$INTERVIRT_DEFAULT_IMAGE"
mkdir -p "$(dirname "$dest")"
exec 9>"$(dirname "$dest")/.netcfg.lock"
flock 9
[ -f "$dest/image.json" ] && exit 0
tmp=$(mktemp -d "$(dirname "$dest")/.netcfg.build.XXXXXX")
cleanup() {
  umount -l "$tmp/rootfs/proc" 2>/dev/null || true
  umount -l "$tmp/rootfs/etc/resolv.conf" 2>/dev/null || true
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
start=$(now)
cp -a "$base/rootfs" "$tmp/rootfs"
r=$tmp/rootfs
mount --bind /etc/resolv.conf "$r/etc/resolv.conf"
mount -t proc proc "$r/proc"
# No service may start inside the build.
printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
chmod 755 "$r/usr/sbin/policy-rc.d"
export DEBIAN_FRONTEND=noninteractive
if ! { chroot "$r" apt-get -q update &&
       chroot "$r" apt-get -q -y --no-install-recommends install ifupdown isc-dhcp-client network-manager; } \
     >"$tmp/apt.log" 2>&1; then
  tail -n 20 "$tmp/apt.log" >&2
  die "$step" "installing the network managers failed"
fi
rm -f "$r/usr/sbin/policy-rc.d" "$r"/var/cache/apt/archives/*.deb
rm -rf "$r"/var/lib/apt/lists/*_Packages
umount -l "$r/proc"
umount -l "$r/etc/resolv.conf"
printf '{"distribution":"ivtest","release":"netcfg","base":"%s","packages":["ifupdown","isc-dhcp-client","network-manager"]}\n' \
  "$INTERVIRT_DEFAULT_IMAGE" >"$tmp/image.json"
rm -f "$tmp/apt.log"
mv -T "$tmp" "$dest"
trap - EXIT
log "$step" "built ivtest/netcfg in $(elapsed "$start") s"
