#!/usr/bin/env bash
# bench.sh [N ...] - prepare, build the test classes, then run the benchmarks against a real
# agent on this machine. Results: target/bench/*.md and *.csv; the agent's log:
# target/bench/agent.log. Not part of CI (it takes minutes and measures, it does not judge).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=bench
"$INTERVIRT_ROOT/scripts/prepare.sh"
cd "$INTERVIRT_ROOT"
mkdir -p target/bench
log "$step" "building"
mvn -B -q -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile=target/bench/classpath.txt </dev/null
cp="target/classes:target/test-classes:$(cat target/bench/classpath.txt)"
start=$(now)
log "$step" "network operations (sizes: ${*:-10 50}); agent log in target/bench/agent.log"
java -cp "$cp" dev.intervirt.agent.bench.NetworkBench "$@" 2>target/bench/agent.log
log "$step" "done in $(elapsed "$start") s; tables in target/bench/"
