#!/usr/bin/env bash
# e2e.sh - the end-to-end run: the agent in a real Debian 13 VM built by Vagrant from the
# project's own box and Ansible, driven from the host over the forwarded port.
#   1. host packages (apt-get, only what is missing)
#   2. the agent jar and the default image
#   3. the box (vagrant/build-box.sh; cached)
#   4. a private libvirtd (vagrant/libvirt-ns.sh), `vagrant up` = boot + Ansible
#   5. the playbook again: changed=0; ansible-lint --offline
#   6. the e2e tests (mvn verify -Pe2e) against ws://127.0.0.1:PORT/containerManagement
#   7. `vagrant destroy` and the private libvirtd stopped, always (trap)
# Timings per phase at the end. Logs of the long steps: $INTERVIRT_E2E_STATE_DIR/logs/.
# INTERVIRT_E2E_KEEP=1 leaves the VM running afterwards (for a look inside).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=e2e
need_root "$step"

root=$INTERVIRT_ROOT
state_dir=${INTERVIRT_E2E_STATE_DIR:-/var/lib/intervirt-e2e}
port=${INTERVIRT_FORWARD_PORT:-55436}
ns=$root/vagrant/libvirt-ns.sh
logs=$state_dir/logs
export INTERVIRT_E2E_STATE_DIR=$state_dir INTERVIRT_FORWARD_PORT=$port
export VAGRANT_HOME=$state_dir/vagrant.d VAGRANT_DOTFILE_PATH=$state_dir/dot-vagrant
export VAGRANT_CWD=$root/vagrant VAGRANT_DEFAULT_PROVIDER=libvirt VAGRANT_NO_COLOR=1
export VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_BOX_UPDATE_CHECK_DISABLE=1
export INTERVIRT_E2E_SSH_CONFIG=$state_dir/ssh-config
export INTERVIRT_VM_CONSOLE_LOG=$state_dir/console.log
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
mkdir -p "$logs"

# One e2e run at a time on a machine (one VM name, one port).
exec 7>/run/intervirt-e2e.lock
flock -n 7 || die "$step" "another ./intervirt e2e is running"

timings=()
phase_start= phase_name=
begin() { phase_start=$(now); phase_name=$1; log "$step" "== $1"; }
end() { timings+=("$(printf '%-34s %7s s' "$1" "$(elapsed "$phase_start")")"); phase_name=; }
total_start=$(now)

# vagrant inside the private namespace; its progress bars never reach the terminal.
vagrant_ns() { "$ns" exec vagrant "$@"; }
quiet_to() {   # quiet_to LOG CMD...: output to LOG; on failure its tail on stderr
  local out=$1; shift
  if ! "$@" >"$out" 2>&1; then
    grep -v 'Progress:' "$out" | tail -n 40 >&2
    log "$step" "failed: $* (full log: $out)"
    return 1
  fi
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  [ -z "$phase_name" ] || end "$phase_name (unfinished)"
  if [ "${INTERVIRT_E2E_KEEP:-}" = 1 ]; then
    log "$step" "INTERVIRT_E2E_KEEP=1: the VM stays up (vagrant/vm-exec.sh 'CMD'; ./intervirt e2e destroys it next time)"
  elif "$ns" status >/dev/null 2>&1; then
    begin "destroy"
    vagrant_ns destroy -f >"$logs/destroy.log" 2>&1 || grep -v 'Progress:' "$logs/destroy.log" | tail -n 20 >&2
    "$ns" stop
    end "destroy + libvirtd stop"
  fi
  [ "${INTERVIRT_E2E_KEEP:-}" = 1 ] || rm -f "$INTERVIRT_E2E_SSH_CONFIG"
  log "$step" "timings:"
  printf '  %s\n' "${timings[@]}" >&2
  log "$step" "total $(elapsed "$total_start") s; $( [ "$rc" -eq 0 ] && echo PASSED || echo "FAILED (exit $rc)" )"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. host packages -----------------------------------------------------------------
begin "host packages"
packages=(debootstrap fdisk e2fsprogs qemu-system-x86 qemu-utils libvirt-daemon
          libvirt-daemon-driver-qemu libvirt-clients dnsmasq-base iptables slirp4netns socat
          openssh-client vagrant vagrant-libvirt ansible ansible-lint maven openjdk-17-jdk-headless)
install_missing "$step" "$logs/apt.log" "${packages[@]}"
end "host packages ($INSTALLED new)"

# --- 2. jar and image -----------------------------------------------------------------
begin "jar + image"
jar=$root/target/intervirt-agent.jar
if [ ! -f "$jar" ] || [ -n "$(find "$root/src/main" "$root/pom.xml" -newer "$jar" -print -quit)" ]; then
  (cd "$root" && quiet_to "$logs/package.log" mvn -B --no-transfer-progress -DskipTests package)
fi
"$root/scripts/build-image.sh" "$INTERVIRT_DEFAULT_IMAGE"   # the box carries it
end "jar + image"

# --- 3. box ---------------------------------------------------------------------------
begin "box"
box=$("$root/vagrant/build-box.sh")
key=${box##*/intervirt-debian13-}; key=${key%.box}
export INTERVIRT_BOX=intervirt/debian13-$key
end "box build/cache"

# --- 4. private libvirtd, vagrant up --------------------------------------------------
begin "vagrant up"
if ss -Hltn "sport = :$port" | grep -q .; then
  die "$step" "host port $port is taken (set INTERVIRT_FORWARD_PORT to another port)"
fi
"$ns" start
# A VM of an interrupted earlier run: away with it.
vagrant_ns destroy -f >"$logs/destroy-stale.log" 2>&1 || true
if ! vagrant_ns box list 2>/dev/null | grep -q "^$INTERVIRT_BOX "; then
  quiet_to "$logs/box-add.log" vagrant_ns box add --name "$INTERVIRT_BOX" "$box"
  # Boxes (and their libvirt volumes) of older box builds are superseded.
  for old in $(vagrant_ns box list 2>/dev/null | awk '$1 ~ /^intervirt\/debian13-/ { print $1 }'); do
    [ "$old" = "$INTERVIRT_BOX" ] && continue
    vagrant_ns box remove -f --all "$old" >/dev/null 2>&1 || true
    for vol in $("$ns" exec virsh -q -c qemu:///system vol-list default 2>/dev/null |
                 awk -v o="${old//\//-VAGRANTSLASH-}" 'index($1, o) == 1 { print $1 }'); do
      "$ns" exec virsh -q -c qemu:///system vol-delete --pool default "$vol" >/dev/null 2>&1 || true
    done
  done
fi
"$ns" forward "$port"
: >"$INTERVIRT_VM_CONSOLE_LOG"
log "$step" "vagrant up (boot under TCG + Ansible; log: $logs/up.log, console: $INTERVIRT_VM_CONSOLE_LOG)"
quiet_to "$logs/up.log" vagrant_ns up --provider=libvirt
grep -A3 'PLAY RECAP' "$logs/up.log" | grep -v '^$' >&2 || true
vagrant_ns ssh-config >"$INTERVIRT_E2E_SSH_CONFIG"
end "vagrant up + provision"

# --- 5. idempotence and lint ----------------------------------------------------------
begin "idempotence"
quiet_to "$logs/provision-again.log" vagrant_ns provision
recap=$(grep -A2 'PLAY RECAP' "$logs/provision-again.log" | grep -E 'changed=' | head -n 1)
printf '  second run: %s\n' "$(printf '%s' "$recap" | tr -s ' ')" >&2
case "$recap" in
  *' changed=0 '*'failed=0 '*) ;;
  *) grep -E '^(changed|TASK)' "$logs/provision-again.log" | grep -B1 '^changed' >&2 || true
     die "$step" "the second playbook run changed something (log: $logs/provision-again.log)" ;;
esac
(cd "$root/ansible" && quiet_to "$logs/ansible-lint.log" ansible-lint --offline)
log "$step" "ansible-lint --offline: clean"
end "playbook again + ansible-lint"

# --- 6. the tests -------------------------------------------------------------------
begin "tests"
url=ws://127.0.0.1:$port/containerManagement
log "$step" "mvn verify -Pe2e against $url"
(cd "$root" && mvn -B --no-transfer-progress verify -Pe2e \
   -Dintervirt.e2e.url="$url" -Dintervirt.e2e.guestExec="$root/vagrant/vm-exec.sh" </dev/null) \
   >"$logs/tests.log" 2>&1 || { tail -n 80 "$logs/tests.log" >&2; die "$step" "e2e tests failed (log: $logs/tests.log)"; }
grep -E 'Tests run:|ApplianceE2E|BUILD' "$logs/tests.log" | tail -n 6 >&2
end "e2e tests"
