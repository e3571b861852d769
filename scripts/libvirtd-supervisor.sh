#!/usr/bin/env bash
# libvirtd-supervisor.sh - keeps libvirtd running, as systemd's Restart= does on a real
# guest: libvirtd runs in the foreground and is started again two seconds after it ends,
# whatever the reason (a crash, a test stopping it). libvirtd 9.0 has been seen to
# segfault here when clients die in the middle of calls (the agent's crash-recovery tests
# kill it on purpose); the agent reconnects by itself, so only the daemon needs a keeper.
# Started once, in the background, by start-libvirtd.sh; its pid is in $SUPERVISOR_PIDFILE.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
daemon_io=/var/log/libvirt/daemons.stderr
echo $$ >"$LIBVIRTD_SUPERVISOR_PIDFILE"
while true; do
  if hybrid_cgroups; then
    # Own mount namespace without /sys/fs/cgroup/unified (see start-libvirtd.sh).
    unshare -m --propagation slave sh -c 'umount /sys/fs/cgroup/unified && exec libvirtd' \
      </dev/null >>"$daemon_io" 2>&1
  else
    libvirtd </dev/null >>"$daemon_io" 2>&1
  fi
  rc=$?
  echo "$(date -u +%FT%TZ) libvirtd-supervisor: libvirtd ended with $rc; starting it again in 2 s" >>"$daemon_io"
  sleep 2
done
