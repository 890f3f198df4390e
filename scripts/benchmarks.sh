#!/usr/bin/env bash
# Runs the benchmarks on a JDK 25+, found as ./livemig finds it (a plain `java` may be older: JDK 17 on the build
# hosts), building benchmarks/target/benchmarks.jar first when it is missing or older than the sources (progress
# on standard error).
#
# Usage: scripts/benchmarks.sh [JVM-OPTION...] [JMH-ARGS...]            JMH: ControlCodec, RdmaWrite, -h, -l ...
#        scripts/benchmarks.sh [JVM-OPTION...] --main CLASS [ARGS...]   a program in the jar, e.g.
#                                  io.livemig.benchmarks.migration.MigrationThroughput 2 3
#   JVM-OPTION   leading -D... and -X... options go to the JVM (e.g. -Dlivemig.bench.modes=pre-faulted)
# Environment: LIVEMIG_JAVA_OPTS, more JVM options, as for ./livemig; LIVEMIG_BENCH_CLASSPATH, a class path to run
# --main from instead of the jar (nothing is built then).
set -euo pipefail
LIVEMIG_HOME=$(cd "$(dirname "$0")/.." && pwd)
case ${1-} in
  --help) sed -n '2,11p' "$0"; exit 0 ;;
esac
. "$LIVEMIG_HOME/.mvn/find-jdk.sh"
. "$LIVEMIG_HOME/.mvn/build-jar.sh"

JVM=(--enable-native-access=ALL-UNNAMED)
# shellcheck disable=SC2206 # a list of options, split on purpose (as ./livemig does)
JVM+=(${LIVEMIG_JAVA_OPTS-})
while [ $# -gt 0 ]; do
  case $1 in
    -D*|-X*) JVM+=("$1"); shift ;;
    *) break ;;
  esac
done

if [ "${1-}" = --main ]; then
  [ $# -ge 2 ] || { echo "benchmarks.sh: --main needs a class name (see --help)" >&2; exit 2; }
  CLASS=$2
  shift 2
  if [ -z "${LIVEMIG_BENCH_CLASSPATH-}" ]; then
    LIVEMIG_BENCH_CLASSPATH=$LIVEMIG_HOME/benchmarks/target/benchmarks.jar
    livemig_build "$LIVEMIG_BENCH_CLASSPATH" benchmarks
  fi
  exec "$JAVA_HOME/bin/java" "${JVM[@]}" -cp "$LIVEMIG_BENCH_CLASSPATH" "$CLASS" "$@"
fi
JAR=$LIVEMIG_HOME/benchmarks/target/benchmarks.jar
livemig_build "$JAR" benchmarks
exec "$JAVA_HOME/bin/java" "${JVM[@]}" -jar "$JAR" "$@"
