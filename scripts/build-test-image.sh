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
  apt_mounts_off "$tmp/rootfs"
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
start=$(now)
cp -a "$base/rootfs" "$tmp/rootfs"
r=$tmp/rootfs
apt_mounts_on "$r"
chroot_apt_install "$r" "$tmp/apt.log" ifupdown isc-dhcp-client network-manager ||
  die "$step" "installing the network managers failed"
rm -f "$r"/var/cache/apt/archives/*.deb
rm -rf "$r"/var/lib/apt/lists/*_Packages
umount -l "$r/proc"
umount -l "$r/etc/resolv.conf"
printf '{"distribution":"ivtest","release":"netcfg","base":"%s","packages":["ifupdown","isc-dhcp-client","network-manager"]}\n' \
  "$INTERVIRT_DEFAULT_IMAGE" >"$tmp/image.json"
rm -f "$tmp/apt.log"
mv -T "$tmp" "$dest"
trap - EXIT
log "$step" "built ivtest/netcfg in $(elapsed "$start") s"
