#!/usr/bin/env bash
# test.sh [MVN ARGS] - prepare, then `mvn -B verify` (unit, CDI, real-libvirt, ... tests),
# then, if that passed, `mvn -B -f war/pom.xml verify` (the WAR in GlassFish embedded; MVN ARGS
# are not passed to it). Exits with Maven's exit code.
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
if [ "$rc" -eq 0 ]; then
  log "$step" "mvn ${mvn_args[*]} -f war/pom.xml verify"
  start=$(now)
  mvn "${mvn_args[@]}" -f war/pom.xml verify </dev/null || rc=$?
  log "$step" "WAR verify exited with $rc after $(elapsed "$start") s"
fi
exit "$rc"
