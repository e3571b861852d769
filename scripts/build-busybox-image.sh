#!/usr/bin/env bash
# build-busybox-image.sh - the image "ivtest/busybox" for the SSH test: a computer as a foreign
# distribution would be to the agent: no sshd, no apt, no glibc, no systemd. A static busybox
# (Debian's busybox-static, installed by prepare.sh) with its applets as links, an init that
# only waits for its stop signal, and root in /etc/passwd. Cached like any image; atomic rename.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=busybox-image
need_root "$step"
dest=$(image_path ivtest/busybox)
[ -f "$dest/image.json" ] && exit 0
busybox=/bin/busybox
[ -x "$busybox" ] || die "$step" "$busybox is missing (apt-get install busybox-static)"
mkdir -p "$(dirname "$dest")"
exec 9>"$(dirname "$dest")/.busybox.lock"
flock 9
[ -f "$dest/image.json" ] && exit 0
tmp=$(mktemp -d "$(dirname "$dest")/.busybox.build.XXXXXX")
trap 'rm -rf --one-file-system "$tmp"' EXIT
r=$tmp/rootfs
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,root,tmp,var/log,run}
chmod 1777 "$r/tmp"
chmod 700 "$r/root"
cp "$busybox" "$r/bin/busybox"
chroot "$r" /bin/busybox --install -s
# The applet links are absolute (/bin/busybox): replace the link, never write through it.
rm -f "$r/sbin/init"
cat >"$r/sbin/init" <<'INIT'
#!/bin/sh
# A foreign computer's whole boot: wait until told to stop.
trap 'exit 0' TERM INT PWR HUP
while :; do sleep 1 & wait $!; done
INIT
chmod 755 "$r/sbin/init"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
printf 'busybox\n' >"$r/etc/hostname"
printf 'NAME="ivtest busybox"\nID=ivtest\n' >"$r/etc/os-release"
printf '{"distribution":"ivtest","release":"busybox","base":"busybox-static","packages":[]}\n' >"$tmp/image.json"
mv -T "$tmp" "$dest"
trap - EXIT
log "$step" "built ivtest/busybox"
