#!/usr/bin/env bash
# bench.sh [N ...] - the benchmark of issue 7 against a real agent on this machine (default
# N = 10 50 100): the raw floor, every operation over the WebSocket, topology build with a
# ping check of every link, footprint, concurrency, and Incus as the peer. Results:
# target/bench/report.md, summary.csv (one row per target), measurements.csv; the agent's
# log: target/bench/agent.log. Not part of CI (it takes minutes and needs the whole machine).
# Knobs (system properties via BENCH_OPTS): -Dbench.samples=200 -Dbench.cycles=20
# -Dbench.rounds=60 -Dbench.warmRequests=5000 -Dbench.noIncus=true -Dbench.debug=true.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=bench
# --appliance: the appliance disk under the client's QEMU command line (scripts/appliance-test.sh).
if [ "${1:-}" = --appliance ]; then
  shift
  [ -f "$INTERVIRT_ROOT/target/appliance/intervirt-appliance.qcow2" ] || "$INTERVIRT_ROOT/scripts/appliance.sh"
  exec "$INTERVIRT_ROOT/scripts/appliance-test.sh" --bench "$@"
fi
"$INTERVIRT_ROOT/scripts/prepare.sh"
need_root "$step"
if ! command -v fping >/dev/null; then
  log "$step" "installing fping (the ping check of every link)"
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends fping >/dev/null ||
    { apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null &&
      apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends fping >/dev/null; }
fi
cd "$INTERVIRT_ROOT"
mkdir -p target/bench
log "$step" "building"
mvn -B -q -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile=target/bench/classpath.txt </dev/null
cp="target/classes:target/test-classes:$(cat target/bench/classpath.txt)"
start=$(now)
log "$step" "sizes: ${*:-10 50 100}; agent log in target/bench/agent.log"
# shellcheck disable=SC2086
java ${BENCH_OPTS:-} -Dbench.agentJavaOpts="$INTERVIRT_AGENT_JAVA_OPTS" -cp "$cp" dev.intervirt.agent.bench.Bench "$@"
log "$step" "done in $(elapsed "$start") s; report in target/bench/report.md, targets in target/bench/summary.csv"
