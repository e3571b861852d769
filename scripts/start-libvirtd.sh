#!/usr/bin/env bash
# start-libvirtd.sh - make sure virtlogd and libvirtd run and libvirtd answers on the
# LXC URI. Prints nothing when both already run (so prepare can say "nothing to do").
#
# systemd is not PID 1 on these machines, so the daemons are started by hand: virtlogd
# with -d, libvirtd under scripts/libvirtd-supervisor.sh, which restarts it as systemd would.
# Hybrid cgroups (v1 controllers on a tmpfs /sys/fs/cgroup + cgroup2 at
# /sys/fs/cgroup/unified) make libvirt_lxc fail with "Unable to create directory
# /sys/fs/cgroup/unified": there libvirtd runs in its own mount namespace without that
# mount. The root mount is made rshared first and the namespace is a slave, so overlay
# mounts made on the host after libvirtd started still reach libvirtd (otherwise:
# "cannot find init path '/sbin/init' relative to container root").
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=libvirtd
need_root "$step"

mkdir -p /var/log/libvirt /var/lib/libvirt /run/libvirt
# The daemons must not inherit prepare's lock (fd 8) or the caller's pipes: they write
# their own logs under /var/log/libvirt.
exec 8>&- 9>&-
daemon_io=/var/log/libvirt/daemons.stderr

# The QEMU driver comes with libvirt-daemon and refuses to load without its user, which
# libvirt-daemon-system (not installed: it wants systemd) would create.
if ! getent passwd libvirt-qemu >/dev/null; then
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin \
    -g libvirt-qemu libvirt-qemu
  log "$step" "created system user libvirt-qemu"
fi

if ! pidof virtlogd >/dev/null; then
  virtlogd -d </dev/null >>"$daemon_io" 2>&1
  log "$step" "started virtlogd"
fi

libvirtd_pid() { pidof libvirtd 2>/dev/null | awk '{ print $1 }'; }
supervisor_runs() {
  local pid
  pid=$(cat "$LIBVIRTD_SUPERVISOR_PIDFILE" 2>/dev/null) && [ -n "$pid" ] &&
    grep -q libvirtd-supervisor "/proc/$pid/cmdline" 2>/dev/null
}

# A libvirtd started without the workaround on a hybrid host cannot start containers, and
# one started by anything but the supervisor is not restarted after a crash: replace it.
if pid=$(libvirtd_pid) && [ -n "$pid" ] && ! supervisor_runs; then
  log "$step" "libvirtd (pid $pid) runs without the supervisor; restarting it under it"
  kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi

if ! supervisor_runs; then
  # Detached from the caller (a test JVM, CI's shell): its own session, no inherited pipes.
  if hybrid_cgroups; then mount --make-rshared /; fi
  setsid "$INTERVIRT_ROOT/scripts/libvirtd-supervisor.sh" </dev/null >>"$daemon_io" 2>&1 &
  log "$step" "started libvirtd under scripts/libvirtd-supervisor.sh (restarted if it ends)"
elif [ -n "$(libvirtd_pid)" ] && libvirt_answers; then
  exit 0
fi

for _ in $(seq 150); do
  libvirt_answers && exit 0
  sleep 0.2
done
die "$step" "libvirtd does not answer on $INTERVIRT_LIBVIRT_URI after 30 s (see /var/log/libvirt)"
