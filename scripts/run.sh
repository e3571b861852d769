#!/usr/bin/env bash
# run.sh [ARGS] - prepare, (re)build target/intervirt-agent.jar when it is missing or older
# than any pom.xml or source file, then replace this process with the agent.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=run
"$INTERVIRT_ROOT/scripts/prepare.sh"
cd "$INTERVIRT_ROOT"
jar=target/intervirt-agent.jar
[ -f pom.xml ] || die "$step" "no pom.xml in $INTERVIRT_ROOT"
stale=
if [ ! -f "$jar" ]; then
  stale="$jar is missing"
else
  newer=$(find . \( -name target -o -name .git -o -name node_modules \) -prune -o \
    -type f \( -name pom.xml -o -path '*/src/*' \) -newer "$jar" -print -quit)
  [ -z "$newer" ] || stale="${newer#./} is newer than $jar"
fi
if [ -n "$stale" ]; then
  log "$step" "building $jar ($stale)"
  start=$(now)
  mvn -B -q -DskipTests package || die "$step" "mvn package failed"
  [ -f "$jar" ] || die "$step" "mvn package did not produce $jar"
  log "$step" "built $jar in $(elapsed "$start") s"
fi
# shellcheck disable=SC2086
exec java $INTERVIRT_AGENT_JAVA_OPTS -jar "$jar" "$@"
