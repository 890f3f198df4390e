#!/usr/bin/env bash
# The showcase (examples, io.livemig.examples.kv.KvShowcase): an HTTP key-value service migrating live while four
# clients write to it; prints the dirty tracking in use, the migration, what the clients saw and the check of every
# acknowledged write on the new instance. With --runs N, runs it N times and prints the downtime and client-pause
# distributions (docs/showcase.md records 20 runs).
#
# Usage: scripts/showcase.sh [--runs N]
# Builds the examples module and what it needs first (quietly, offline; drop LIVEMIG_MVN_OFFLINE=-o if the local
# repository lacks something). JVM options: LIVEMIG_JAVA_OPTS.
set -euo pipefail
LIVEMIG_HOME=$(cd "$(dirname "$0")/.." && pwd)
cd "$LIVEMIG_HOME"
. "$LIVEMIG_HOME/.mvn/find-jdk.sh"
offline=${LIVEMIG_MVN_OFFLINE--o}
log=$(mktemp "${TMPDIR:-/tmp}/livemig-showcase.XXXXXX")
# The third-party class path from Maven; livemig's own modules from this tree (never the local repository's
# snapshots, which may be another checkout's).
./mvnw -B $offline -DskipTests -pl examples -am package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt \
    -Dmdep.includeScope=runtime >"$log" 2>&1 || { tail -n 40 "$log"; echo "showcase: build failed (log: $log)" >&2; exit 1; }
rm -f "$log"
third_party=$(tr ':' '\n' <examples/target/classpath.txt | grep -v '/io/livemig/' | paste -sd: -)
cp=examples/target/classes:migration-engine/target/classes:transport-rdma/target/classes:$third_party
# shellcheck disable=SC2086 # a list of options, split on purpose (as ./livemig does)
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${LIVEMIG_JAVA_OPTS-} -cp "$cp" \
    io.livemig.examples.kv.KvShowcase "$@"
