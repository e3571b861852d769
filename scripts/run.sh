#!/usr/bin/env bash
# run.sh [ARGS] - prepare (which (re)builds target/intervirt-agent.jar when it is missing or
# older than any pom.xml or source file), then replace this process with the agent.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=run
"$INTERVIRT_ROOT/scripts/prepare.sh"
jar=$(ensure_agent_jar "$step")
# shellcheck disable=SC2086
exec java $INTERVIRT_AGENT_JAVA_OPTS -jar "$jar" "$@"
