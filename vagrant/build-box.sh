#!/usr/bin/env bash
# build-box.sh - build (or confirm) the Debian 13 vagrant-libvirt box of the appliance.
# Prints the path of the box file on stdout; everything else goes to stderr.
#
# No box can be downloaded here, so the box is made from the Debian mirror:
#   debootstrap trixie (minbase + kernel, GRUB, systemd, sshd, sudo, python3)
#   + the appliance's heavy packages (libvirt LXC, nftables, OpenJDK 21, debootstrap ...):
#     installing them under TCG takes minutes, at build time seconds; the playbook then
#     only confirms them
#   + the host's default image debian/trixie (no debootstrap inside the slow VM)
#   → ext4 made straight into a raw file at a 1 MiB offset (the host kernel has neither
#     partition scanning of loop devices nor device-mapper), GRUB's boot code written
#     with dd, grub.cfg by hand → qcow2 → box (metadata.json + box.img + Vagrantfile).
# The box is cached under $INTERVIRT_BOX_DIR, named after a hash of this script, of the
# scripts/lib.sh helpers it builds with, and of the image it carries: a change to any of
# them builds a new box.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
step=box
need_root "$step"

box_dir=${INTERVIRT_BOX_DIR:-/var/cache/intervirt/boxes}
release=trixie
image=$INTERVIRT_DEFAULT_IMAGE
image_dir=$(image_path "$image")
image_cached "$image" || die "$step" "the default image $image is not built (run ./intervirt image)"

key=$( { cat "${BASH_SOURCE[0]}" "$INTERVIRT_ROOT/scripts/lib.sh"; cat "$image_dir/image.json"; } | sha256sum | cut -c1-12)
box=$box_dir/intervirt-debian13-$key.box
if [ -s "$box" ]; then
  log "$step" "cached: $box"
  printf '%s\n' "$box"
  exit 0
fi

for tool in debootstrap sfdisk mkfs.ext4 qemu-img; do
  command -v "$tool" >/dev/null || die "$step" "$tool is missing (scripts/e2e.sh installs the host packages)"
done
vagrant_pub=$(ls /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub 2>/dev/null | head -n 1)
[ -n "$vagrant_pub" ] || die "$step" "Vagrant's insecure public key is missing (install vagrant)"

mkdir -p "$box_dir"
exec 9>"$box_dir/.build.lock"
flock 9
work=$(mktemp -d "$box_dir/.build.XXXXXX")
rootfs=$work/rootfs
cleanup() {
  unbind_host_dirs "$rootfs"
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
start=$(now)

# --- 1. the root filesystem -----------------------------------------------------------
base=(systemd systemd-sysv systemd-resolved udev dbus linux-image-amd64 grub-pc-bin
      openssh-server sudo python3 python3-apt iproute2 iputils-ping procps ca-certificates)
log "$step" "debootstrap $release (minbase + ${#base[@]} packages) from $INTERVIRT_DEBIAN_MIRROR"
if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${base[*]}")" \
    "$release" "$rootfs" "$INTERVIRT_DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" >&2
  die "$step" "debootstrap failed (log above)"
fi
log "$step" "debootstrap done in $(elapsed "$start") s"

# The appliance's packages (the role's list; it confirms them at provisioning time).
heavy=(libvirt-daemon-system libvirt-daemon-driver-lxc libvirt-clients nftables
       dnsmasq-base openjdk-21-jre-headless debootstrap debian-archive-keyring xz-utils
       netcat-openbsd)
bind_host_dirs "$rootfs"
services_off "$rootfs"   # start no service here
# Split drivers (the network driver has its own package in newer releases): take what exists.
for p in libvirt-daemon-driver-network; do
  chroot "$rootfs" apt-cache show "$p" >/dev/null 2>&1 && heavy+=("$p")
done
t=$(now)
if ! chroot "$rootfs" apt-get install -y -q --no-install-recommends "${heavy[@]}" \
    >"$work/apt.log" 2>&1; then
  tail -n 20 "$work/apt.log" >&2
  die "$step" "apt-get install in the box failed (log above)"
fi
log "$step" "installed ${heavy[*]} in $(elapsed "$t") s"
chroot "$rootfs" apt-get clean
services_on "$rootfs"
unbind_host_dirs "$rootfs"

# --- 2. make it a Vagrant box ---------------------------------------------------------
uuid=$(cat /proc/sys/kernel/random/uuid)
echo intervirt >"$rootfs/etc/hostname"
printf '127.0.1.1 intervirt\n' >>"$rootfs/etc/hosts"
: >"$rootfs/etc/machine-id"                       # a new id on first boot
printf 'UUID=%s / ext4 errors=remount-ro 0 1\n' "$uuid" >"$rootfs/etc/fstab"
cat >"$rootfs/etc/systemd/network/80-uplink.network" <<'EOF'
[Match]
Name=eth*
[Network]
DHCP=yes
EOF
chroot "$rootfs" systemctl enable systemd-networkd systemd-resolved >/dev/null 2>&1
ln -sf ../run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"
chroot "$rootfs" useradd -m -s /bin/bash vagrant
install -d -m 700 -o 1000 -g 1000 "$rootfs/home/vagrant/.ssh"
install -m 600 -o 1000 -g 1000 "$vagrant_pub" "$rootfs/home/vagrant/.ssh/authorized_keys"
printf 'vagrant ALL=(ALL) NOPASSWD: ALL\nDefaults:vagrant !requiretty\n' >"$rootfs/etc/sudoers.d/vagrant"
chmod 440 "$rootfs/etc/sudoers.d/vagrant"
printf 'UseDNS no\n' >"$rootfs/etc/ssh/sshd_config.d/vagrant.conf"
# No periodic apt runs in a lab appliance.
rm -f "$rootfs"/etc/systemd/system/timers.target.wants/apt-daily{,-upgrade}.timer

# The default container image, as built on this host.
mkdir -p "$rootfs/var/lib/intervirt/images/debian"
cp -a "$image_dir" "$rootfs/var/lib/intervirt/images/$image"

# --- 3. disk: MBR + one ext4 partition at 1 MiB, GRUB in the gap ----------------------
kernel=$(cd "$rootfs/boot" && ls vmlinuz-* | sort -V | tail -n 1)
initrd=initrd.img-${kernel#vmlinuz-}
[ -f "$rootfs/boot/$initrd" ] || die "$step" "no $initrd in the box"
write_grub_cfg "$rootfs" "$uuid" "$kernel" "$initrd" ro console=ttyS0,115200n8 net.ifnames=0 quiet
disk_gib=20    # sparse; the containers' upper layers and more images fit
raw=$work/disk.raw
truncate -s "${disk_gib}G" "$raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$raw"
fs_bytes=$(( disk_gib * 1024 * 1024 * 1024 - 1048576 ))
t=$(now)
mkfs.ext4 -q -F -U "$uuid" -L root -O ^orphan_file,^metadata_csum_seed \
  -E offset=1048576 -d "$rootfs" "$raw" "$(( fs_bytes / 1024 ))k"
chroot "$rootfs" grub-mkimage -O i386-pc -o /tmp/core.img -p '(hd0,msdos1)/boot/grub' \
  biosdisk part_msdos ext2 search search_fs_uuid normal linux configfile
core=$rootfs/tmp/core.img
[ "$(stat -c %s "$core")" -lt $(( 2047 * 512 )) ] || die "$step" "core.img does not fit before the partition"
dd if="$rootfs/usr/lib/grub/i386-pc/boot.img" of="$raw" bs=440 count=1 conv=notrunc status=none
dd if="$core" of="$raw" bs=512 seek=1 conv=notrunc status=none
log "$step" "disk made in $(elapsed "$t") s"

t=$(now)
qemu-img convert -O qcow2 "$raw" "$work/box.img"
rm -f "$raw"
cat >"$work/metadata.json" <<EOF
{"provider": "libvirt", "format": "qcow2", "virtual_size": $disk_gib}
EOF
cat >"$work/Vagrantfile" <<'EOF'
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.driver = "qemu"
  end
end
EOF
tar -C "$work" -cf "$work/box.tar" metadata.json Vagrantfile box.img
mv "$work/box.tar" "$box"
# Older boxes of this script are superseded.
find "$box_dir" -maxdepth 1 -name 'intervirt-debian13-*.box' ! -name "${box##*/}" -delete
log "$step" "built $box ($(( $(stat -c %s "$box") / 1024 / 1024 )) MiB) in $(elapsed "$start") s (qcow2 $(elapsed "$t") s)"
printf '%s\n' "$box"
