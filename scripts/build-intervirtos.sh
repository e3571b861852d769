#!/usr/bin/env bash
# build-intervirtos.sh - the image "intervirtos/current" as the client's recipe
# (incus/intervirt-os.yaml) defines it: the default debian/trixie image (debootstrap from
# INTERVIRT_DEBIAN_MIRROR) plus the client's package list (ca-certificates, curl,
# openssh-server, sudo, systemd, inetutils-telnet, inetutils-ping, arping, dnsutils, tcpdump,
# traceroute, docker.io, docker-compose; and iproute2 and docker-cli, which the recipe gets
# through recommends), its files /etc/docker/daemon.json and
# /etc/ssh/sshd_config.d/incus.conf (root logs in with an EMPTY password), ssh and docker
# enabled (the agent gives computers whose root has dockerd what Docker needs). image.json
# says "recipe": INTERVIRTOS_RECIPE; a cached image of an older recipe is rebuilt.
# Derived from the cached default image (no second debootstrap); built in a temporary
# sibling directory and renamed into place only when complete (atomic).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=intervirtos
need_root "$step"
name=intervirtos/current
base=$(image_path "$INTERVIRT_DEFAULT_IMAGE")
dest=$(image_path "$name")
if intervirtos_current "$dest"; then
  log "$step" "$name is already built at $dest"
  exit 0
fi
image_cached "$INTERVIRT_DEFAULT_IMAGE" || "$INTERVIRT_ROOT/scripts/build-image.sh" "$INTERVIRT_DEFAULT_IMAGE"
parent=$(dirname "$dest")
mkdir -p "$parent"
lock_build "$step" "$parent/.current.lock" "$name"
if intervirtos_current "$dest"; then
  log "$step" "$name was built meanwhile at $dest"
  exit 0
fi
for stale in "$parent/.current.build."*; do
  [ -e "$stale" ] || continue
  log "$step" "removing interrupted build $stale"
  apt_mounts_off "$stale/rootfs"
  rm -rf --one-file-system "$stale"
done
# Builds of an older recipe, moved aside while containers used them: mount options name
# the path at mount time ($dest), so they are kept while any overlay uses $dest.
image_in_use "$dest" || for old in "$parent/.current.old."*; do
  [ -e "$old" ] || continue
  log "$step" "removing replaced build $old"
  rm -rf --one-file-system "$old"
done
if [ -e "$dest" ] && ! image_cached "$name"; then
  log "$step" "removing incomplete $dest"
  rm -rf --one-file-system "$dest"
fi

# The client's list; iproute2 and docker-cli come with it through recommends, which this
# build leaves out (--no-install-recommends keeps apparmor, git, needrestart … away).
packages=(ca-certificates curl openssh-server sudo systemd inetutils-telnet inetutils-ping
  arping dnsutils tcpdump traceroute docker.io docker-compose iproute2 docker-cli)
tmp=$(mktemp -d "$parent/.current.build.XXXXXX")
chmod 755 "$tmp"
r=$tmp/rootfs
cleanup() {
  apt_mounts_off "$r"
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
start=$(now)
log "$step" "copying $INTERVIRT_DEFAULT_IMAGE, then apt-get install ${packages[*]}"
cp -a "$base/rootfs" "$r"
apt_mounts_on "$r"
chroot_apt_install "$r" "$tmp/apt.log" "${packages[@]}" ||
  die "$step" "apt-get install failed (log above)"

# --- ssh: root with an empty password -------------------------------------------------
chroot "$r" passwd -q -d root
mkdir -p "$r/etc/ssh/sshd_config.d"
# The client's file, as its recipe writes it.
cat >"$r/etc/ssh/sshd_config.d/incus.conf" <<'CONF'
PermitRootLogin yes
PasswordAuthentication yes
PermitEmptyPasswords yes
CONF
cat >"$r/etc/ssh/sshd_config.d/intervirt.conf" <<'CONF'
# Intervirt lab computer, besides the client's incus.conf: no reverse lookups (computers
# often have no DNS), keyboard-interactive as well as password for the empty password.
KbdInteractiveAuthentication yes
UseDNS no
CONF
# pam_unix must accept the empty password (Debian's common-auth has nullok; make sure).
grep -q 'pam_unix.so.*nullok' "$r/etc/pam.d/common-auth" ||
  sed -i 's/^\(auth.*pam_unix\.so.*\)$/\1 nullok/' "$r/etc/pam.d/common-auth"
# Host keys: none in the image, so that every container makes its own at its first start
# (sshd-keygen.service only runs on a "first boot", which an overlay root may not look like).
rm -f "$r"/etc/ssh/ssh_host_*
mkdir -p "$r/etc/systemd/system/ssh.service.d"
cat >"$r/etc/systemd/system/ssh.service.d/intervirt-hostkeys.conf" <<'CONF'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
CONF
# --- docker: the client's daemon.json ------------------------------------------------------
mkdir -p "$r/etc/docker"
cat >"$r/etc/docker/daemon.json" <<'JSON'
{
  "ipv6": true,
  "fixed-cidr-v6": "2001:db8:1::/64"
}
JSON
chroot "$r" systemctl enable ssh.service docker.service containerd.service >/dev/null 2>&1 ||
  die "$step" "systemctl enable ssh docker failed"
[ -L "$r/etc/systemd/system/multi-user.target.wants/ssh.service" ] || die "$step" "ssh.service is not enabled"
[ -L "$r/etc/systemd/system/multi-user.target.wants/docker.service" ] || die "$step" "docker.service is not enabled"

rm -f "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin
rm -rf "$r"/var/lib/apt/lists/*_Packages
umount -l "$r/proc"
umount -l "$r/etc/resolv.conf"
printf '# Written by the Intervirt agent when the container gets internet access.\n' >"$r/etc/resolv.conf"
size=$(du -sxb "$r" | cut -f1)
pkgjson=$(printf '"%s",' "${packages[@]}"); pkgjson=[${pkgjson%,}]
cat >"$tmp/image.json" <<JSON
{
  "distribution": "intervirtos",
  "release": "current",
  "base": "$INTERVIRT_DEFAULT_IMAGE",
  "recipe": $INTERVIRTOS_RECIPE,
  "built_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "mirror": "$INTERVIRT_DEBIAN_MIRROR",
  "packages": $pkgjson,
  "size_bytes": $size,
  "build_seconds": $(elapsed "$start")
}
JSON
rm -f "$tmp/apt.log"
if [ -e "$dest" ]; then
  # An image of an older recipe: move it aside (a running container's overlay may still
  # use it as its lower layer; it is removed by a later build once nothing uses it).
  log "$step" "replacing $dest (recipe $(image_recipe "$dest") < $INTERVIRTOS_RECIPE)"
  old=$(mktemp -d "$parent/.current.old.XXXXXX")
  if image_in_use "$dest"; then
    mv -T "$dest" "$old"
  else
    mv -T "$dest" "$old"
    rm -rf --one-file-system "$old"
  fi
fi
mv -T "$tmp" "$dest"
trap - EXIT
log "$step" "built $name at $dest in $(elapsed "$start") s ($((size / 1024 / 1024)) MiB)"
