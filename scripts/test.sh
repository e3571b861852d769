#!/usr/bin/env bash
# test.sh [MVN ARGS] - prepare, then, beside a production agent (the canary), `mvn -B verify`
# (one build: unit, CDI, real-libvirt, ... tests of the jar, and the WAR in GlassFish 7 embedded
# and Payara Micro 6) and a short benchmark; then the canary must find its containers, link and
# forward untouched. Exits non-zero when any of them failed.
# INTERVIRT_CANARY=0 runs the suite alone (no canary, no benchmark).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=test
"$INTERVIRT_ROOT/scripts/prepare.sh"
cd "$INTERVIRT_ROOT"
[ -f pom.xml ] || die "$step" "no pom.xml in $INTERVIRT_ROOT"
mvn_args=(-B)
# In CI the per-artifact download lines only bury the test output.
[ "${CI:-}" = true ] && mvn_args+=(--no-transfer-progress)
canary=${INTERVIRT_CANARY:-1}

run_canary() {   # run_canary start|verify
  local cp
  cp="target/classes:target/test-classes:$(cat target/canary-classpath.txt)"
  # shellcheck disable=SC2086
  java -Dcanary.javaOpts="$INTERVIRT_AGENT_JAVA_OPTS" -cp "$cp" dev.intervirt.agent.canary.ProductionCanary "$1"
}

rc=0
if [ "$canary" = 1 ]; then
  log "$step" "starting the production canary (an agent with every production name, two linked containers, a forward)"
  mvn "${mvn_args[@]}" -q -DskipTests test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/canary-classpath.txt </dev/null
  run_canary start || { log "$step" "the canary did not start"; exit 1; }
fi
log "$step" "mvn ${mvn_args[*]} verify $*"
start=$(now)
mvn "${mvn_args[@]}" verify "$@" </dev/null || rc=$?
log "$step" "mvn verify exited with $rc after $(elapsed "$start") s"
if [ "$canary" = 1 ]; then
  log "$step" "a short benchmark beside the canary (no Incus, N = 3)"
  start=$(now)
  bench_rc=0
  BENCH_OPTS="-Dbench.noIncus=true -Dbench.samples=20 -Dbench.cycles=3" INTERVIRT_SKIP_SMOKE_TEST=1 \
    "$INTERVIRT_ROOT/scripts/bench.sh" 3 >target/canary-bench.log 2>&1 || bench_rc=$?
  log "$step" "benchmark exited with $bench_rc after $(elapsed "$start") s (log: target/canary-bench.log)"
  [ "$bench_rc" -eq 0 ] || { tail -n 30 target/canary-bench.log >&2; [ "$rc" -ne 0 ] || rc=$bench_rc; }
  canary_rc=0
  run_canary verify || canary_rc=$?
  [ "$rc" -ne 0 ] || rc=$canary_rc
fi
exit "$rc"
