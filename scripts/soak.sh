#!/usr/bin/env bash
# Soak run of issue 18's figures: SoakTest (migration-engine) with 100 back-to-back migrations through one long-lived
# runtime, 8 concurrent migrations into 8 destinations, and 1,000 hostile connections against a waiting destination,
# in one JVM with native memory tracking on. Prints the table (also left in migration-engine/target/soak.md), which
# docs/soak.md records. The normal build runs the same test with smaller counts.
#
# Usage: scripts/soak.sh [MIGRATIONS] [RAM_MIB]      defaults: 100 migrations of 32 MiB
set -euo pipefail
LIVEMIG_HOME=$(cd "$(dirname "$0")/.." && pwd)
cd "$LIVEMIG_HOME"
migrations=${1:-100}
ram=${2:-32}
./mvnw -B -o -q verify -pl migration-engine -am -Dtest=io.livemig.migration.soak.SoakTest \
    -Dsurefire.failIfNoSpecifiedTests=false -Dlivemig.soak.migrations="$migrations" -Dlivemig.soak.ramMiB="$ram" \
    -Dlivemig.test.extraJvmArgs="-XX:NativeMemoryTracking=summary" "${@:3}" >target/soak.log 2>&1 \
    || { tail -n 60 target/soak.log; echo "soak run failed: see target/soak.log" >&2; exit 1; }
cat migration-engine/target/soak.md
