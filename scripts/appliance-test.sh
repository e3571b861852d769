#!/usr/bin/env bash
# appliance-test.sh [--bench] [DISK] - boot the appliance disk (default target/appliance/
# intervirt-appliance.qcow2) as the desktop client does and drive it from the host:
# ApplianceDiskE2E (mvn verify -Pappliance) starts QEMU with the client's exact command line
# on a COPY of the disk (the built file stays as downloaded), plus a serial log.
# --bench (./intervirt bench --appliance) runs ApplianceBench instead: target/bench/appliance.md.
# Ports 55436 (agent) and 55437 (QMP) as the client uses them, under a lock shared with
# ./intervirt e2e (which forwards 55436 too). Nothing is left running: QEMU's pid is killed
# on exit whatever happened to the test JVM.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
step=appliance-test
need_root "$step"
root=$INTERVIRT_ROOT
bench=0
if [ "${1:-}" = --bench ]; then bench=1; shift; fi
disk=${1:-$root/target/appliance/intervirt-appliance.qcow2}
[ -f "$disk" ] || die "$step" "no $disk (run ./intervirt appliance)"
[ -f "$disk.sha256" ] || die "$step" "no $disk.sha256 next to the disk"
(cd "$(dirname "$disk")" && sha256sum --quiet -c "$(basename "$disk").sha256") ||
  die "$step" "$disk does not match its .sha256"
qemu=$(command -v qemu-system-x86_64) || die "$step" "qemu-system-x86_64 is missing (./intervirt appliance installs it)"
work=${INTERVIRT_APPLIANCE_TEST_DIR:-$root/target/appliance-test}
mkdir -p "$work"

# The client's ports: one user at a time.
exec 7>/run/intervirt-e2e.lock
log "$step" "waiting for ports 55436/55437 (lock /run/intervirt-e2e.lock)"
flock -w 3600 7 || die "$step" "ports 55436/55437 stayed locked for an hour"
for p in 55436 55437; do
  if ss -Hltn "sport = :$p" | grep -q .; then
    die "$step" "port $p is taken by another program: $(ss -Hltnp "sport = :$p" | head -n 1)"
  fi
done

pidfile=$work/qemu.pid
copy=$work/boot.qcow2
serial=$work/serial.log
kill_qemu() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  # Only our QEMU: the pid must still run the copied disk.
  if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "file=$copy"; then
    log "$step" "killing QEMU $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
cleanup() {
  local rc=$?
  set +e
  kill_qemu
  rm -f "$copy"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
kill_qemu
rm -f "$copy"
cp --sparse=always "$disk" "$copy"
: >"$serial"
start=$(now)
log "$step" "booting a copy of $disk with the client's command line (serial: $serial; load: $(cut -d' ' -f1-3 /proc/loadavg))"
mvn_args=(-B --no-transfer-progress)
rc=0
if [ "$bench" -eq 1 ]; then
  mkdir -p "$root/target/bench"
  (cd "$root" && mvn -B -q -DskipTests test-compile dependency:build-classpath \
     -Dmdep.outputFile=target/bench/classpath.txt </dev/null) >"$work/build.log" 2>&1 ||
    { tail -n 30 "$work/build.log" >&2; die "$step" "build failed"; }
  cp="$root/target/classes:$root/target/test-classes:$(cat "$root/target/bench/classpath.txt")"
  java -cp "$cp" dev.intervirt.agent.e2e.ApplianceBench "$qemu" "$copy" "$serial" "$pidfile" \
    "$root/target/bench/appliance.md" </dev/null || rc=$?
  log "$step" "benchmark exited with $rc after $(elapsed "$start") s (table: target/bench/appliance.md, load now: $(cut -d' ' -f1-3 /proc/loadavg))"
  exit "$rc"
fi
(cd "$root" && mvn "${mvn_args[@]}" verify -Pappliance -Dintervirt.appliance.disk="$copy" \
   -Dintervirt.appliance.qemu="$qemu" -Dintervirt.appliance.serialLog="$serial" \
   -Dintervirt.appliance.pidFile="$pidfile" </dev/null) >"$work/tests.log" 2>&1 || rc=$?
grep -E '^appliance-test:' "$work/tests.log" >&2 || true
if [ "$rc" -ne 0 ]; then
  grep -E 'Tests run:|FAIL|ERROR' "$work/tests.log" | head -n 40 >&2
  log "$step" "last lines of the serial console:"
  tail -n 40 "$serial" >&2
  die "$step" "failed after $(elapsed "$start") s (log: $work/tests.log, serial: $serial)"
fi
grep -E 'Tests run:' "$work/tests.log" | tail -n 1 >&2
log "$step" "passed in $(elapsed "$start") s"
