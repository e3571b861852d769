#!/usr/bin/env bash
# vm-exec.sh SCRIPT - run a shell script as root inside the appliance VM (for the e2e
# tests: they look inside the VM and its containers on their own, not through the agent).
# Uses the ssh configuration `vagrant ssh-config` wrote (much faster than `vagrant ssh`),
# from inside the private libvirtd's network namespace, where the VM's network is.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=${INTERVIRT_E2E_SSH_CONFIG:-/var/lib/intervirt-e2e/ssh-config}
[ $# -eq 1 ] || { echo "usage: $0 'SHELL SCRIPT'" >&2; exit 2; }
[ -s "$config" ] || { echo "vm-exec: no ssh configuration at $config (is the VM up?)" >&2; exit 2; }
host=$(awk '$1 == "Host" { print $2; exit }' "$config")
printf '%s\n' "$1" |
  "$here/libvirt-ns.sh" exec ssh -F "$config" -o LogLevel=ERROR -o ConnectTimeout=20 "$host" sudo sh -s
