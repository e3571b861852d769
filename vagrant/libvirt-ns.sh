#!/usr/bin/env bash
# libvirt-ns.sh start|stop|exec CMD...|forward HOST_PORT [NS_PORT]|status
#
# A private libvirtd for QEMU/TCG VMs, in its own mount and network namespace, so the
# shared libvirtd (lxc:///system of the agent and its tests) and the host network are
# never touched:
#   - mount namespace: private /etc/libvirt (qemu.conf for a host without systemd),
#     /var/lib/libvirt (the storage pool, cached between runs), /var/log/libvirt and a
#     fresh /run/libvirt (its own sockets: qemu:///system inside means this daemon);
#   - network namespace: vagrant-libvirt's NAT network lives here; slirp4netns gives the
#     namespace (and so the VM) outside access, for apt in the VM;
#   - `forward` publishes a namespace port on the host's 127.0.0.1 (slirp4netns hostfwd):
#     the chain host 127.0.0.1:P -> namespace 10.0.2.100:P -> Vagrant's ssh forward -> VM.
# Every process of the namespace was started by this script or by what it runs there;
# `stop` ends exactly those (found by their network namespace), never anything else.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
step=libvirt-ns
need_root "$step"

run_dir=/run/intervirt-e2e
state_dir=${INTERVIRT_E2E_STATE_DIR:-/var/lib/intervirt-e2e}
holder_pid_file=$run_dir/holder.pid
slirp_pid_file=$run_dir/slirp4netns.pid
api_socket=$run_dir/slirp4netns.sock
daemon_name=intervirt-e2e-virtd

holder_pid() {
  local pid
  pid=$(cat "$holder_pid_file" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -e "/proc/$pid/ns/net" ] &&
    [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/1/ns/net)" ] || return 1
  printf '%s\n' "$pid"
}

in_ns() {
  local pid; pid=$(holder_pid) || die "$step" "the private libvirtd is not running (start it first)"
  nsenter -t "$pid" -m -n --wd="$PWD" -- "$@"
}

ns_answers() { in_ns timeout 10 virsh -q -c qemu:///system list --all >/dev/null 2>&1; }

write_config() {
  mkdir -p "$state_dir"/{etc,lib,log,cache}
  # A configuration of its own, never the host's: the host's networks, domains and
  # pools (the agent's among them) must not appear here.
  [ -e "$state_dir/etc/libvirtd.conf" ] || : >"$state_dir/etc/libvirtd.conf"
  # No systemd, no cgroup delegation, no AppArmor/SELinux here: qemu runs as root
  # without a cgroup or namespaces of its own; stdio to a file (no virtlogd needed).
  cat >"$state_dir/etc/qemu.conf" <<'EOF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
EOF
}

start() {
  if holder_pid >/dev/null && ns_answers; then
    return 0
  fi
  stop_quietly
  for tool in libvirtd slirp4netns nsenter unshare; do
    command -v "$tool" >/dev/null || die "$step" "$tool is missing (scripts/e2e.sh installs it)"
  done
  mkdir -p "$run_dir"
  write_config
  local t; t=$(now)
  # The holder keeps both namespaces alive; everything else enters them.
  setsid unshare --mount --net --propagation slave -- sh -c '
    set -e
    mount --bind "$1/etc" /etc/libvirt
    mkdir -p /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /run/libvirt
    mount --bind "$1/lib" /var/lib/libvirt
    mount --bind "$1/log" /var/log/libvirt
    mount --bind "$1/cache" /var/cache/libvirt
    mount -t tmpfs -o mode=0755 intervirt-e2e-run /run/libvirt
    ip link set lo up
    exec sleep infinity' holder "$state_dir" </dev/null >>"$run_dir/holder.log" 2>&1 &
  echo $! >"$holder_pid_file"
  local pid
  for _ in $(seq 50); do
    pid=$(holder_pid) && grep -q ' /run/libvirt ' "/proc/$pid/mountinfo" 2>/dev/null && break
    sleep 0.1
  done
  pid=$(holder_pid) || die "$step" "the namespace holder did not start (see $run_dir/holder.log)"
  rm -f "$api_socket"
  setsid slirp4netns --configure --mtu=65520 --disable-host-loopback \
    --api-socket "$api_socket" "$pid" tap0 </dev/null >>"$run_dir/slirp4netns.log" 2>&1 &
  echo $! >"$slirp_pid_file"
  for _ in $(seq 100); do [ -S "$api_socket" ] && break; sleep 0.1; done
  [ -S "$api_socket" ] || die "$step" "slirp4netns did not start (see $run_dir/slirp4netns.log)"
  # libvirtd -d daemonizes; its pid file lives in the private /run/libvirt. It runs under
  # another name (a link) so that nothing looking for the shared libvirtd by name
  # (pidof/pkill libvirtd, start-libvirtd.sh) ever finds or stops this one.
  mkdir -p "$state_dir/bin"
  ln -sfn "$(command -v libvirtd)" "$state_dir/bin/$daemon_name"
  in_ns "$state_dir/bin/$daemon_name" -d -p "/run/libvirt/$daemon_name.pid" \
    </dev/null >>"$run_dir/daemon.log" 2>&1
  for _ in $(seq 150); do
    ns_answers && { log "$step" "private libvirtd up in $(elapsed "$t") s (namespace of pid $pid)"; return 0; }
    sleep 0.2
  done
  die "$step" "the private libvirtd does not answer (see $run_dir/daemon.log, $state_dir/log)"
}

# forward HOST_PORT [NS_PORT]: host 127.0.0.1:HOST_PORT -> the namespace's NS_PORT.
forward() {
  local host_port=$1 ns_port=${2:-$1}
  [ -S "$api_socket" ] || die "$step" "slirp4netns is not running"
  local reply
  reply=$(printf '{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"127.0.0.1","host_port":%d,"guest_port":%d}}' \
            "$host_port" "$ns_port" | socat -t 5 - "UNIX-CONNECT:$api_socket")
  case "$reply" in
    *'"return"'*) log "$step" "host 127.0.0.1:$host_port -> namespace port $ns_port" ;;
    *) die "$step" "cannot forward host port $host_port (taken?): $reply" ;;
  esac
}

# The pids of every process in the private network namespace.
ns_pids() {
  local ns=$1 p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$ns" ] && printf '%s\n' "${p#/proc/}"
  done
  return 0
}

stop_quietly() {
  local pid ns pids
  if pid=$(holder_pid); then
    ns=$(readlink "/proc/$pid/ns/net")
    # libvirtd first (it stops nothing on exit), then whatever is left in the namespace.
    mapfile -t pids < <(ns_pids "$ns")
    [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
    for _ in $(seq 50); do
      mapfile -t pids < <(ns_pids "$ns")
      [ ${#pids[@]} -eq 0 ] && break
      sleep 0.2
    done
    mapfile -t pids < <(ns_pids "$ns")
    [ ${#pids[@]} -gt 0 ] && kill -KILL "${pids[@]}" 2>/dev/null
  fi
  if pid=$(cat "$slirp_pid_file" 2>/dev/null) && [ -n "$pid" ] &&
     [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slirp4netns ]; then
    kill "$pid" 2>/dev/null || true
  fi
  rm -f "$holder_pid_file" "$slirp_pid_file" "$api_socket"
  return 0
}

cmd=${1:-status}
[ $# -gt 0 ] && shift
case "$cmd" in
  start)   start ;;
  stop)    stop_quietly ;;
  exec)    in_ns "$@" ;;
  forward) forward "$@" ;;
  status)  if holder_pid >/dev/null && ns_answers; then echo running; else echo stopped; exit 1; fi ;;
  *)       die "$step" "usage: $0 start|stop|exec CMD...|forward HOST_PORT [NS_PORT]|status" ;;
esac
