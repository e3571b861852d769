#!/usr/bin/env bash
# appliance.sh [--test] - build the disk the Intervirt desktop client boots:
#   target/appliance/intervirt-appliance.qcow2 and intervirt-appliance.qcow2.sha256
# from the Debian mirror and this repository only:
#   1. host packages (apt-get, only what is missing)
#   2. the agent jar; the images the disk carries (in the image store, read only)
#   3. a BARE Debian 13 root filesystem: debootstrap minbase + python3 (what Ansible's
#      chroot connection needs), nothing else
#   4. the SAME Ansible role as any host (ansible/appliance.yml) through the chroot
#      connection: its own package install runs on the bare system (the packages it
#      installed are listed), then its appliance part (kernel, systemd, DHCP, no login,
#      the agent enabled at boot, shutdown/reboot/update configured)
#   5. the images copied in; ext4 made straight into a raw file at a 1 MiB offset (the
#      host kernel has neither partition scanning of loop devices nor device-mapper), GRUB's
#      boot code written with dd, grub.cfg by hand (timeout 0, serial console)
#   6. qemu-img convert -c (compressed qcow2) + the .sha256 text the client downloads
# With --test, scripts/appliance-test.sh boots the result afterwards with the client's
# command line. Knobs (environment):
#   INTERVIRT_APPLIANCE_DISK_GIB   virtual disk size in GiB (20; sparse, costs nothing)
#   INTERVIRT_APPLIANCE_IMAGES     images carried, ready without network
#                                  ("intervirtos/current debian/trixie")
#   INTERVIRT_APPLIANCE_MEMORY_MIB memory limit of each computer in the appliance (256)
#   INTERVIRT_APPLIANCE_STOP_GRACE_SECONDS  graceful stop of a computer before a hard stop
#                                  (4: under the emulated CPU a computer's systemd takes longer
#                                  than the client's 10 s per reply with the default)
#   INTERVIRT_APPLIANCE_JAVA_OPTS  the agent's JVM options in the appliance
#                                  (INTERVIRT_AGENT_JAVA_OPTS without its lower compile
#                                  threshold, + the class-data archive)
#   INTERVIRT_APPLIANCE_OUT        output directory (target/appliance)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=appliance
need_root "$step"

run_test=0
case "${1:-}" in
  --test) run_test=1 ;;
  "") ;;
  *) die "$step" "unknown argument '$1' (only --test)" ;;
esac

root=$INTERVIRT_ROOT
out=${INTERVIRT_APPLIANCE_OUT:-$root/target/appliance}
disk_gib=${INTERVIRT_APPLIANCE_DISK_GIB:-20}
read -r -a images <<<"${INTERVIRT_APPLIANCE_IMAGES:-intervirtos/current debian/trixie}"
memory_mib=${INTERVIRT_APPLIANCE_MEMORY_MIB:-256}
stop_grace=${INTERVIRT_APPLIANCE_STOP_GRACE_SECONDS:-4}
# (+ the class-data archive the role dumps at build time: tasks/appliance.yml). Without
# -XX:CompileThresholdScaling: on one emulated vCPU the compiler competes with the agent's start
# (one CPU on this machine: 1.14-1.29 -> 1.32-1.44 s to listening; the appliance: 13.6-13.7 ->
# 19.1 s in one run), and its first requests were not faster there (Connect at 10: 43-46 -> 58 ms).
java_opts=${INTERVIRT_APPLIANCE_JAVA_OPTS:-${INTERVIRT_AGENT_JAVA_OPTS/ -XX:CompileThresholdScaling=0.1/}}
name=intervirt-appliance.qcow2
release=trixie
[[ $disk_gib =~ ^[0-9]+$ ]] && [ "$disk_gib" -ge 4 ] || die "$step" "INTERVIRT_APPLIANCE_DISK_GIB must be a number ≥ 4"
mkdir -p "$out"
logs=$out/logs
mkdir -p "$logs"
start=$(now)
timings=()
phase_start=
begin() { phase_start=$(now); log "$step" "== $1"; }
end() { timings+=("$(printf '%-40s %7s s' "$1" "$(elapsed "$phase_start")")"); }

# One build at a time (one output directory).
exec 8>/run/intervirt-appliance-build.lock
flock 8

# --- 1. host packages -----------------------------------------------------------------
begin "host packages"
packages=(debootstrap debian-archive-keyring e2fsprogs fdisk grub-pc-bin qemu-utils
          qemu-system-x86 ansible ansible-lint python3 maven openjdk-17-jdk-headless)
install_missing "$step" "$logs/host-apt.log" "${packages[@]}"
end "host packages ($INSTALLED new)"

# --- 2. jar and images ----------------------------------------------------------------
begin "jar + images"
jar=$root/target/intervirt-agent.jar
if [ ! -f "$jar" ] || [ -n "$(find "$root/src/main" "$root/pom.xml" -newer "$jar" -print -quit)" ]; then
  (cd "$root" && mvn -B -q --no-transfer-progress -DskipTests package </dev/null) >"$logs/package.log" 2>&1 ||
    { tail -n 40 "$logs/package.log" >&2; die "$step" "mvn package failed"; }
fi
for image in "${images[@]}"; do
  image_cached "$image" || "$root/scripts/build-image.sh" "$image"
done
end "jar + images"

work=$(mktemp -d "$out/.build.XXXXXX")
rootfs=$work/rootfs
cleanup() {
  local rc=$?
  set +e
  unbind_host_dirs "$rootfs"
  if [ "$rc" -ne 0 ] && [ "${INTERVIRT_APPLIANCE_KEEP:-}" = 1 ]; then
    log "$step" "INTERVIRT_APPLIANCE_KEEP=1: the unfinished build stays in $work"
  else
    rm -rf --one-file-system "$work"
  fi
  if [ ${#timings[@]} -gt 0 ]; then
    log "$step" "timings:"
    printf '  %s\n' "${timings[@]}" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 3. a bare Debian 13 --------------------------------------------------------------
begin "debootstrap"
log "$step" "debootstrap $release minbase + python3 from $INTERVIRT_DEBIAN_MIRROR (log: $logs/debootstrap.log)"
# No documentation, manual pages or translations in the disk (set before any package).
mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/01-intervirt-appliance-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
EOF
debootstrap --variant=minbase --include=python3 "$release" "$rootfs" "$INTERVIRT_DEBIAN_MIRROR" \
  >"$logs/debootstrap.log" 2>&1 || {
    cat "$rootfs/debootstrap/debootstrap.log" >>"$logs/debootstrap.log" 2>/dev/null
    tail -n 20 "$logs/debootstrap.log" >&2; die "$step" "debootstrap failed (log: $logs/debootstrap.log)"; }
chroot "$rootfs" dpkg-query -W -f '${Package}\n' | sort >"$work/packages.before"
log "$step" "bare system: $(wc -l <"$work/packages.before") packages"
end "debootstrap (bare, minbase + python3)"

# --- 4. the role, through the chroot connection ---------------------------------------
begin "ansible (chroot)"
bind_host_dirs "$rootfs"
services_off "$rootfs"   # start no service in the chroot
# The carried images, as the role expects them: present, so it only confirms them.
for image in "${images[@]}"; do
  mkdir -p "$rootfs/var/lib/intervirt/images/${image%/*}"
  cp -a "$(image_path "$image")" "$rootfs/var/lib/intervirt/images/$image"
done
uuid=$(cat /proc/sys/kernel/random/uuid)
prefetch=$(IFS=,; echo "${images[*]}")
extra=$(python3 - "$jar" "$uuid" "$prefetch" "$java_opts" "$memory_mib" "$stop_grace" "${images[@]}" <<'EOF'
import json, sys
jar, uuid, prefetch, java_opts, memory, grace = sys.argv[1:7]
print(json.dumps({
    "intervirt_agent_jar": jar,
    "intervirt_agent_appliance_root_uuid": uuid,
    "intervirt_agent_images": sys.argv[7:],
    "intervirt_agent_java_options": java_opts,
    "intervirt_agent_environment": {
        # The carried images are there; no download or build at every boot.
        "INTERVIRT_PREFETCH_IMAGES": prefetch,
        "INTERVIRT_MEMORY_MIB": memory,
        "INTERVIRT_STOP_GRACE_SECONDS": grace,
    },
}))
EOF
)
log "$step" "ansible-playbook -c community.general.chroot ansible/appliance.yml (log: $logs/ansible.log)"
if ! ANSIBLE_CONFIG=$root/ansible/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
     ansible-playbook -v -c community.general.chroot -i "$rootfs," -e "$extra" \
       "$root/ansible/appliance.yml" </dev/null >"$logs/ansible.log" 2>&1; then
  grep -E '^(fatal|failed)|FAILED|msg' "$logs/ansible.log" | tail -n 30 >&2
  die "$step" "the playbook failed (log: $logs/ansible.log)"
fi
grep -A3 'PLAY RECAP' "$logs/ansible.log" | grep -v '^$' >&2 || true
(cd "$root/ansible" && ansible-lint --offline >"$logs/ansible-lint.log" 2>&1) ||
  { tail -n 30 "$logs/ansible-lint.log" >&2; die "$step" "ansible-lint --offline found problems"; }
chroot "$rootfs" dpkg-query -W -f '${Package}\n' | sort >"$work/packages.after"
installed=$(comm -13 "$work/packages.before" "$work/packages.after")
log "$step" "the role installed $(printf '%s\n' "$installed" | grep -c .) packages on the bare system:"
printf '%s\n' "$installed" | fmt -w 100 | sed 's/^/  /' >&2
for p in libvirt-daemon libvirt-daemon-driver-lxc libvirt-daemon-driver-network nftables openjdk-21-jre-headless linux-image-amd64 systemd-sysv; do
  grep -qx "$p" "$work/packages.after" || die "$step" "the role did not install $p"
done
for p in openssh-server qemu-system-x86; do
  if grep -qx "$p" "$work/packages.after"; then die "$step" "$p is in the disk"; fi
done
services_on "$rootfs"
unbind_host_dirs "$rootfs"
end "ansible (the role on the bare system)"

# --- 5. the disk ----------------------------------------------------------------------
begin "disk"
kernel=$(cd "$rootfs/boot" && ls vmlinuz-* | sort -V | tail -n 1)
# Smaller download: kernel drivers no VM of the client has (graphics, sound, radios, cameras,
# InfiniBand, staging), and the carried images' identical files stored once (hard links:
# images are read-only lower layers of the computers' overlays, replaced whole, never edited).
modules=$rootfs/lib/modules/${kernel#vmlinuz-}/kernel
[ -d "$modules" ] || modules=$rootfs/usr/lib/modules/${kernel#vmlinuz-}/kernel
for d in drivers/gpu drivers/media drivers/net/wireless drivers/infiniband drivers/staging \
         drivers/bluetooth drivers/iio drivers/isdn drivers/input/touchscreen sound \
         net/bluetooth net/wireless net/mac80211; do
  rm -rf "${modules:?}/$d"
done
chroot "$rootfs" depmod "${kernel#vmlinuz-}"
hardlink -q "$rootfs/var/lib/intervirt/images" >/dev/null
initrd=initrd.img-${kernel#vmlinuz-}
[ -f "$rootfs/boot/$initrd" ] || die "$step" "no $initrd in the disk"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log \
  "$rootfs"/tmp/* "$rootfs"/var/tmp/*
: >"$rootfs/etc/machine-id"                       # a new id on first boot
# /usr is not newer than /etc and /var: no ldconfig or catalog rebuild at the first boot.
date -u +'TIMESTAMP_NSEC=%s%N' | tee "$rootfs/etc/.updated" >"$rootfs/var/.updated"
write_grub_cfg "$rootfs" "$uuid" "$kernel" "$initrd" \
  rw console=ttyS0,115200n8 quiet loglevel=3 net.ifnames=0 systemd.show_status=false
raw=$work/disk.raw
truncate -s "${disk_gib}G" "$raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$raw"
fs_bytes=$(( disk_gib * 1024 * 1024 * 1024 - 1048576 ))
mkfs.ext4 -q -F -U "$uuid" -L intervirt -O ^orphan_file,^metadata_csum_seed \
  -E offset=1048576 -d "$rootfs" "$raw" "$(( fs_bytes / 1024 ))k"
grub-mkimage -O i386-pc -o "$work/core.img" -p '(hd0,msdos1)/boot/grub' \
  biosdisk part_msdos ext2 search search_fs_uuid normal linux configfile
[ "$(stat -c %s "$work/core.img")" -lt $(( 2047 * 512 )) ] || die "$step" "core.img does not fit before the partition"
dd if=/usr/lib/grub/i386-pc/boot.img of="$raw" bs=440 count=1 conv=notrunc status=none
dd if="$work/core.img" of="$raw" bs=512 seek=1 conv=notrunc status=none
used=$(du -sm "$rootfs" | cut -f1)
rm -rf --one-file-system "$rootfs"
end "disk (ext4 ${used} MiB used of ${disk_gib} GiB)"

begin "qcow2"
qemu-img convert -c -O qcow2 "$raw" "$work/$name"
rm -f "$raw"
mv "$work/$name" "$out/$name"
# The text the client downloads next to the disk and compares (sha256sum's format).
(cd "$out" && sha256sum "$name" >"$name.sha256.new" && mv "$name.sha256.new" "$name.sha256")
end "qcow2 -c"
log "$step" "built $out/$name: $(( $(stat -c %s "$out/$name") / 1024 / 1024 )) MiB compressed, ${disk_gib} GiB virtual, images: ${images[*]}"
log "$step" "sha256: $(cut -d' ' -f1 "$out/$name.sha256")"
log "$step" "done in $(elapsed "$start") s"

if [ "$run_test" -eq 1 ]; then
  "$root/scripts/appliance-test.sh" "$out/$name"
fi
