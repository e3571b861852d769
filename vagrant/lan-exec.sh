#!/usr/bin/env bash
# lan-exec.sh SCRIPT - run a shell script on the VM's network, outside the VM: in the
# private libvirtd's network namespace, where the VM's NAT network (and its uplink) is.
# The e2e tests use it to reach the VM's uplink address the way a neighbour would.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 'SHELL SCRIPT'" >&2; exit 2; }
exec "$(dirname "${BASH_SOURCE[0]}")/libvirt-ns.sh" exec sh -c "$1"
