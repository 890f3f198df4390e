#!/usr/bin/env bash
# Fuzzes one target (or every target, one after another) with Jazzer for RUNS executions, growing its corpus under
# MODULE/.cifuzz-corpus/ (ignored by git). A finding (uncaught exception, failed assertion, leak, per-input hang of
# more than 10 s, heap exhausted under -Xmx1g) stops the run and leaves its reproducer in the target's inputs
# directory, src/test/resources/<package>/<Class>Inputs/<method>/crash-* (also ignored: promote it to a regression
# input by renaming it). Logs go to target/fuzz/TARGET.log, a summary line per target to standard output.
#
# Usage: scripts/fuzz.sh [TARGET|all|--list] [RUNS]     RUNS defaults to 10000000
#   TARGET  one of --list's names; without one, or with "all", every target
# Environment: FUZZ_MAX_DURATION, a limit on each run's time (Jazzer's syntax: 30m, 2h; default 24h).
# The normal build (./mvnw verify) runs the same tests on their checked-in inputs only; see docs/fuzzing.md.
set -euo pipefail
LIVEMIG_HOME=$(cd "$(dirname "$0")/.." && pwd)
cd "$LIVEMIG_HOME"

# name  module  Class#method
TARGETS="
frame            transport-rdma    io.livemig.transport.rdma.verbs.soft.FrameCodecFuzzTest#headerIsCheckedThenDecodedOrRefused
tcp-wire         transport-rdma    io.livemig.transport.rdma.verbs.soft.TcpWireFuzzTest#readLoop
control          migration-engine  io.livemig.migration.control.ControlDecoderFuzzTest#decode
control-channel  migration-engine  io.livemig.migration.control.ControlDecoderFuzzTest#channelDecoder
stream           migration-engine  io.livemig.migration.stream.MigrationStreamFuzzTest#decoder
stream-reader    migration-engine  io.livemig.migration.stream.MigrationStreamFuzzTest#reader
qmp              migration-engine  io.livemig.migration.monitor.MonitorFuzzTest#qmpSession
hmp              migration-engine  io.livemig.migration.monitor.MonitorFuzzTest#hmpSession
"

case ${1-all} in
  --help|-h) sed -n '2,12p' "$0"; exit 0 ;;
  --list) echo "$TARGETS" | awk 'NF { printf "%-16s %s\n", $1, $3 }'; exit 0 ;;
esac
WANTED=${1-all}
RUNS=${2-10000000}
case $RUNS in
  ''|*[!0-9]*) echo "fuzz.sh: RUNS must be a number, not '$RUNS'" >&2; exit 2 ;;
esac

# The build's test JVM flags (PARANOID leak detection and its recorder), with a heap small enough that a length
# field driving a huge allocation is an OutOfMemoryError, i.e. a finding.
JVM_ARGS=$(sed -n 's:.*<livemig.test.jvmArgs>\(.*\)</livemig.test.jvmArgs>.*:\1:p' pom.xml)
JVM_ARGS="$JVM_ARGS -Xmx1g"

mkdir -p target/fuzz
run_target() {
  local name=$1 module=$2 test=$3 log="target/fuzz/$1.log" start end status
  start=$(date +%s)
  echo "fuzz.sh: $name ($test), $RUNS executions; log $log" >&2
  set +e
  # livemig.test.timeout is JUnit's default timeout, which Jazzer turns into libFuzzer's per-input -timeout; JUnit
  # itself must not enforce it on the whole run.
  JAZZER_FUZZ=1 ./mvnw -B -o verify -pl "$module" -am -Dtest="$test" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djazzer.max_executions="$RUNS" -Djazzer.max_duration="${FUZZ_MAX_DURATION-24h}" \
      -Dlivemig.test.timeout="10 s" -Dlivemig.test.timeout.mode=disabled -Dlivemig.test.jvmArgs="$JVM_ARGS" >"$log" 2>&1
  status=$?
  set -e
  end=$(date +%s)
  local done execs corpus
  done=$(grep -a '^Done [0-9]* runs' "$log" | tail -1 || true)
  execs=$(grep -a -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
  corpus=$(grep -a -o 'corp: [0-9]*/[0-9a-zA-Z]*' "$log" | tail -1 || true)
  echo "$name: status $status, ${done:-no 'Done' line (executions seen: ${execs:-0})}, $corpus, $((end - start)) s wall"
  return "$status"
}

failed=0
found=0
while read -r name module test; do
  [ -n "$name" ] || continue
  if [ "$WANTED" = all ] || [ "$WANTED" = "$name" ]; then
    found=1
    run_target "$name" "$module" "$test" || failed=1
  fi
done <<<"$TARGETS"
if [ $found = 0 ]; then
  echo "fuzz.sh: no target '$WANTED'; scripts/fuzz.sh --list names them" >&2
  exit 2
fi
exit $failed
