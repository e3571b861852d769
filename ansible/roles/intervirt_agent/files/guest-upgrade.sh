#!/bin/sh
# The agent's guest upgrade (the `update` command): apt's status lines on stdout are the
# progress the client sees; everything else goes to stderr.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get -q -o DPkg::Lock::Timeout=120 update >&2
exec apt-get -y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confold \
  -o APT::Status-Fd=1 upgrade
