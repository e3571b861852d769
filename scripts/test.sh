#!/usr/bin/env bash
# test.sh [MVN ARGS] - prepare, then `mvn -B verify` (unit, CDI, real-libvirt, ... tests).
# Exits with Maven's exit code.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=test
"$INTERVIRT_ROOT/scripts/prepare.sh"
cd "$INTERVIRT_ROOT"
[ -f pom.xml ] || die "$step" "no pom.xml in $INTERVIRT_ROOT"
mvn_args=(-B)
# In CI the per-artifact download lines only bury the test output.
[ "${CI:-}" = true ] && mvn_args+=(--no-transfer-progress)
log "$step" "mvn ${mvn_args[*]} verify $*"
rc=0
start=$(now)
mvn "${mvn_args[@]}" verify "$@" </dev/null || rc=$?
log "$step" "mvn verify exited with $rc after $(elapsed "$start") s"
exit "$rc"
