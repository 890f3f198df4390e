#!/usr/bin/env bash
# Runs the verbs (or, with --disni, the DiSNI) provider's tests in the Soft-RoCE QEMU lab (../shared/lab/rxe, see its README), where Maven cannot
# run: builds the test classes here, copies the test classpath and the JUnit console launcher under
# transport-rdma/target/lab/, boots the lab guest and runs scripts/rxe-test.sh inside it with that launcher, so the
# tests get an rxe device that rxe-test.sh creates and removes itself.
#
# Usage: scripts/rxe-lab.sh [--bench | --bench-runs N] [--bench-seconds S] [--ack-timeout N] [--timeout-scale N]
#                           [--no-build] [--engine | --dirty-tracking | --multifd | --demo | --migration-bench SIZE]
#                           [--disni] [SELECTOR...]
#        scripts/rxe-lab.sh --dirty-bench [--jmh 'JMH-ARGS'] [--no-build]
#   --bench            also run rxe-test.sh's ib_write_bw / WriteBandwidth comparison, in the same boot
#   --bench-runs N     the same, N times each, alternating
#   --bench-seconds S  how long each bandwidth run lasts (rxe-test.sh's default: 5)
#   --ack-timeout N    QP ACK timeout exponent (default 18; the lab runs under TCG emulation, which is slow)
#   --timeout-scale N  multiply the channel tests' waits (default 5): under emulation, with the build's paranoid
#                      Netty leak detection, the 100 000-message ordering test alone takes over a minute
#   --test-timeout D   JUnit's default timeout per test (default: the build's, livemig.test.timeout in pom.xml,
#                      5 m; the slowest lab tests take 50-75 s, the whole boot has LAB_TIMEOUT, 900 s)
#   --no-build         use the classes and target/lab/ as they are
#   --engine           run the migration engine's live migration over the verbs provider
#                      (io.livemig.migration.connection.MigrationOverVerbsTest) instead of the default selection
#   --dirty-tracking   run the kernel dirty tracking tests (io.livemig.migration.ram.DirtyTrackerTest,
#                      io.livemig.migration.ram.SoftDirtyRaceTest,
#                      io.livemig.migration.api.TransparentDirtyTrackingTest) in the guest: Debian's 6.1 kernel has
#                      soft-dirty (CONFIG_MEM_SOFT_DIRTY) and lacks PAGEMAP_SCAN (6.7), so the soft-dirty cases run
#                      there and the uffd-wp ones skip with the gate's cause (the build machines are the other way round)
#   --multifd          run a 2-channel multifd migration over the verbs provider (MigrationOverVerbsTest's
#                      aMultifdMigration... cases, dynamic and pin-all): the destination's two queue pairs share one
#                      protection domain, which only a kernel RDMA stack checks
#   --demo             instead of tests, run `livemig demo --provider verbs` on the lab's rxe0, dynamic and
#                      --pin-all (--demo-ram SIZE, default 64M: rxe moves ~60 MB/s under emulation), on the address
#                      the demo picks itself, and check each says "memory identical" and "verification passed"
#   --disni            the same tests (or --demo) over the disni provider (DiSNI, libdisni from target/libdisni: build it first
#                      with scripts/build-libdisni.sh; the guest has no compiler) instead of the verbs provider;
#                      with --engine: MigrationOverDisniTest (disni->disni, disni->verbs, verbs->disni)
#   --migration-bench SIZE  instead of tests, `livemig bench --sizes SIZE --modes dynamic,pin-all` over the verbs
#                      provider, then over the disni provider (--bench-repeat N, default 1), in one boot; with
#                      --bench/--bench-runs also the 1 MiB RDMA WRITE comparison (ib_write_bw, verbs, disni)
#   --dirty-bench      instead of tests, the JMH DirtyTrackingBenchmark (benchmarks/target/benchmarks.jar, built here
#                      when stale) for modes explicit and soft-dirty in one boot, then uffd-wp at 1% once to show its
#                      gate's cause (6.1 is too old for it); results also in benchmarks/target/lab-dirty-bench.json.
#                      LAB_MEM defaults to 8G here (a 4 GiB block), LAB_RXE to 0
#   --jmh 'JMH-ARGS'   the JMH options for --dirty-bench (default: -f 1 -wi 2 -i 5 -p blockMiB=4096; 5 min)
#   --providers LIST   the TestProvider invocations to keep (default verbs, with --disni disni)
#   SELECTOR           JUnit console launcher selectors (default: the verbs provider's package, its conformance
#                      suite and the channel tests over it):
#                      --select-package io.livemig.transport.rdma.verbs.rdmacore
#                      --select-class CLASS for each class parameterized over transport-rdma's TestProvider
#                      (io.livemig.transport.rdma.verbs.*ConformanceTest, io.livemig.transport.rdma.channel.
#                      RdmaChannel*Test): each runs once per provider, and rxe-test.sh's JVM options
#                      ($LIVEMIG_VERBS_PROPS) hold -Dlivemig.test.providers=verbs, which keeps the verbs runs only
# Environment: LAB_DIR (default ../shared/lab/rxe from the project root), and the lab's own knobs; LAB_SMP
# defaults to 1 here (with two vCPUs, QEMU's multi-threaded TCG once crashed the JVM with SIGILL in JIT code).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB_DIR=${LAB_DIR:-$ROOT/../shared/lab/rxe}
JUNIT_VERSION=1.14.4
BENCH=
BENCH_SECONDS=
ACK_TIMEOUT=18
TIMEOUT_SCALE=5
TEST_TIMEOUT=
BUILD=1
ENGINE=0
DEMO=0
DEMO_RAM=64M
DISNI=0
PROVIDERS=
MIGRATION_BENCH=
BENCH_REPEAT=1
DIRTY_BENCH=0
JMH_ARGS="-f 1 -wi 2 -i 5 -p blockMiB=4096"
SELECTORS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --bench) BENCH="--bench-runs 1"; shift ;;
        --bench-runs) BENCH="--bench-runs $2"; shift 2 ;;
        --bench-seconds) BENCH_SECONDS="--bench-seconds $2"; shift 2 ;;
        --ack-timeout) ACK_TIMEOUT=$2; shift 2 ;;
        --timeout-scale) TIMEOUT_SCALE=$2; shift 2 ;;
        --test-timeout) TEST_TIMEOUT=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --engine) ENGINE=1; shift ;;
        --demo) DEMO=1; shift ;;
        --demo-ram) DEMO_RAM=$2; shift 2 ;;
        --disni) DISNI=1; shift ;;
        --migration-bench) MIGRATION_BENCH=$2; DISNI=1; shift 2 ;;
        --bench-repeat) BENCH_REPEAT=$2; shift 2 ;;
        --dirty-bench) DIRTY_BENCH=1; shift ;;
        --jmh) JMH_ARGS=$2; shift 2 ;;
        --providers) PROVIDERS=$2; shift 2 ;;
        --dirty-tracking) ENGINE=1; SELECTORS+=(--select-class io.livemig.migration.ram.DirtyTrackerTest
            --select-class io.livemig.migration.ram.SoftDirtyRaceTest
            --select-class io.livemig.migration.api.TransparentDirtyTrackingTest); shift ;;
        --multifd) ENGINE=1; SELECTORS+=(--select-method "io.livemig.migration.connection.MigrationOverVerbsTest#\
aMultifdMigrationOverTwoQueuePairsInOneProtectionDomainArrivesByteForByte(boolean)"); shift ;;
        -h|--help) sed -n '2,53p' "$0"; exit 0 ;;
        *) SELECTORS+=("$1"); shift ;;
    esac
done
cd "$ROOT"
export LAB_SMP=${LAB_SMP:-1}
if [ "$DIRTY_BENCH" = 1 ]; then
    if [ "$BUILD" = 1 ]; then
        LIVEMIG_HOME=$ROOT
        . "$ROOT/.mvn/find-jdk.sh"
        . "$ROOT/.mvn/build-jar.sh"
        livemig_build "$ROOT/benchmarks/target/benchmarks.jar" benchmarks
    fi
    # A 4 GiB block, the JVM and the guest; the benchmark needs no RDMA device.
    export LAB_MEM=${LAB_MEM:-8G} LAB_RXE=${LAB_RXE:-0}
    # Both measured modes in one JMH run, so their ratio comes from one boot; uffd-wp then fails its one trial at once.
    exec "$LAB_DIR/run.sh" "cd /host && echo \"guest: Linux \$(uname -r), THP \$(cat /sys/kernel/mm/transparent_hugepage/enabled), \
\$(grep -h CONFIG_MEM_SOFT_DIRTY /boot/config-* 2>/dev/null || echo no kernel config), \$(nproc) vCPU, \
\$(free -m | awk '/^Mem/ {print \$2}') MiB\" && J=\"\$JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED -jar \
benchmarks/target/benchmarks.jar DirtyTracking\" && \$J $JMH_ARGS -p mode=explicit,soft-dirty -rf json \
-rff benchmarks/target/lab-dirty-bench.json && { \$J -f 1 -wi 0 -i 1 -p mode=uffd-wp -p dirtyPercent=1 \
-p blockMiB=64 2>&1 | grep -E 'uffd-wp|Exception|Error' | head -n 5; true; }"
fi
if [ "$DEMO" = 1 ]; then
    # The launcher builds cli/target/livemig.jar here when it is stale (the guest has no network for Maven).
    [ "$BUILD" = 0 ] || ./livemig --version >/dev/null
    # In the guest: the jar on the lab's JDK ($JAVA_HOME, 25+), the demo choosing its address itself (rxe0 is on
    # lab0, $LAB_IP); each run's output is shown and then checked for its verdict lines.
    # --disni: the same demo over the disni provider, with DiSNI's flags as ./livemig passes them.
    DEMO_PROVIDER=verbs
    [ "$DISNI" = 0 ] || DEMO_PROVIDER=disni
    DEMO_RUN='demo() {
    local log=/tmp/demo.log
    echo "== livemig demo --provider '"$DEMO_PROVIDER"' --ram '"$DEMO_RAM"' --progress lines $*"
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
        -Djava.library.path=target/libdisni -Dlivemig.verbs.ackTimeout='"$ACK_TIMEOUT"' \
        -Dlivemig.disni.ackTimeout='"$ACK_TIMEOUT"' -jar cli/target/livemig.jar demo --provider '"$DEMO_PROVIDER"' \
        --ram '"$DEMO_RAM"' --progress lines "$@" 2>&1 | tee $log
    local status=${PIPESTATUS[0]}
    for line in "on $LAB_IP with x-verify" "memory identical: " "verification passed"; do
        grep -q "$line" $log || { echo "rxe-lab.sh: demo $*: no line with \"$line\" (exit status $status)"; return 1; }
    done
    [ "$status" = 0 ] || { echo "rxe-lab.sh: demo $*: exit status $status"; return 1; }
    echo "rxe-lab.sh: demo $*: passed"
}
cd /host && demo && demo --pin-all'
    exec "$LAB_DIR/run.sh" "$DEMO_RUN"
fi
if [ "$DISNI" = 1 ]; then
    [ -e target/libdisni/libdisni.so ] || { echo "rxe-lab.sh: target/libdisni/libdisni.so missing: run" \
        "scripts/build-libdisni.sh first" >&2; exit 1; }
    PROVIDERS=${PROVIDERS:-disni}
fi
if [ ${#SELECTORS[@]} -eq 0 ] && [ "$ENGINE" = 1 ]; then
    if [ "$DISNI" = 1 ]; then
        SELECTORS=(--select-class io.livemig.migration.connection.MigrationOverDisniTest)
    else
        SELECTORS=(--select-class io.livemig.migration.connection.MigrationOverVerbsTest)
    fi
fi
if [ ${#SELECTORS[@]} -eq 0 ]; then
    if [ "$DISNI" = 1 ]; then
        SELECTORS=(--select-package io.livemig.transport.rdma.verbs.disni)
    else
        SELECTORS=(--select-package io.livemig.transport.rdma.verbs.rdmacore)
    fi
    # The @ParameterizedClass classes over TestProvider (their source uses it as the @MethodSource).
    for test in $(cd "$ROOT/transport-rdma/src/test/java" && grep -rlE '^@MethodSource\("io\.livemig\.transport\.rdma\.TestProvider#' . \
            | sort); do
        test=${test#./}
        SELECTORS+=(--select-class "$(echo "${test%.java}" | tr / .)")
    done
fi

LAB=transport-rdma/target/lab
if [ "$BUILD" = 1 ]; then  # offline (-o): the build has run here before
    ./mvnw -q -B -o -pl transport-rdma -am test-compile
    ./mvnw -q -B -o -pl transport-rdma dependency:build-classpath -Dmdep.includeScope=test \
        -Dmdep.outputFile="$ROOT/$LAB/classpath.txt"
    if [ "$ENGINE" = 1 ]; then
        ./mvnw -q -B -o -pl migration-engine -am test-compile
        ./mvnw -q -B -o -pl migration-engine dependency:build-classpath -Dmdep.includeScope=test \
            -Dmdep.outputFile="$ROOT/$LAB/engine-classpath.txt"
        printf ':%s' "$(cat "$LAB/engine-classpath.txt")" >> "$LAB/classpath.txt"
    fi
    rm -rf "${LAB:?}/lib" && mkdir -p "$LAB/lib"
    # The console launcher brings JUnit itself; the project's own modules come from their target/classes.
    for jar in $(tr ':' ' ' < "$LAB/classpath.txt"); do
        case "$(basename "$jar")" in
            junit-*|opentest4j-*|apiguardian-*|livemig-*) ;;
            *) cp "$jar" "$LAB/lib/" ;;
        esac
    done
    CONSOLE=org/junit/platform/junit-platform-console-standalone/$JUNIT_VERSION
    JAR=${MAVEN_REPOSITORY:-$HOME/.m2/repository}/$CONSOLE/junit-platform-console-standalone-$JUNIT_VERSION.jar
    [ -f "$JAR" ] || ./mvnw -q -B dependency:get \
        -Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT_VERSION
    cp "$JAR" "$LAB/junit.jar"
fi

# Inside the guest, the project is at /host. Everything goes on the JVM's class path (not the launcher's -cp), so
# that Netty finds the build's leak detector (livemig.test.jvmArgs) through the system class loader.
CP=$LAB/junit.jar:transport-rdma/target/classes:transport-rdma/target/test-classes:test-support/target/classes
if [ "$ENGINE" = 1 ]; then
    CP=$CP:migration-engine/target/classes:migration-engine/target/test-classes
fi
JARS=$(printf '%s:' "$LAB"/lib/*.jar)
CP=$CP:${JARS%:}
JVM_ARGS="$(sed -n 's:.*<livemig.test.jvmArgs>\(.*\)</livemig.test.jvmArgs>.*:\1:p' pom.xml) \
-Dlivemig.test.timeoutScale=$TIMEOUT_SCALE"
# The console launcher does not read Surefire's configurationParameters: the ones the tests rely on, given again.
TEST_TIMEOUT=${TEST_TIMEOUT:-$(sed -n 's:.*<livemig.test.timeout>\(.*\)</livemig.test.timeout>.*:\1:p' pom.xml)}
printf -v SELECTED '%q ' "${SELECTORS[@]}"
RUN="java $JVM_ARGS \$LIVEMIG_VERBS_PROPS -cp $CP org.junit.platform.console.ConsoleLauncher execute \
--config junit.jupiter.extensions.autodetection.enabled=true \
--config junit.jupiter.execution.timeout.default=${TEST_TIMEOUT// /} \
--config junit.jupiter.execution.timeout.threaddump.enabled=true --disable-banner --details=tree $SELECTED"

if [ -n "$MIGRATION_BENCH" ]; then
    # The jar is built here when stale; in the guest it runs on the lab's JDK with DiSNI's flags (as ./livemig) and
    # rxe-test.sh's device properties ($LIVEMIG_VERBS_PROPS): both providers on the device whose address bench
    # picks (lmrxe0_rxe, the first with an IPv4 address), not the first rdma_cm lists.
    [ "$BUILD" = 0 ] || ./livemig --version >/dev/null
    RUN='status=0; for provider in verbs disni; do
    echo "== livemig bench --provider $provider --sizes '"$MIGRATION_BENCH"' --modes dynamic,pin-all --repeat '"$BENCH_REPEAT"'"
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
        $LIVEMIG_VERBS_PROPS -jar cli/target/livemig.jar bench --provider $provider \
        --sizes '"$MIGRATION_BENCH"' --modes dynamic,pin-all --repeat '"$BENCH_REPEAT"' || status=1
done; exit $status'
fi
# The guest's kernel facts the dirty tracking modes depend on, before the tests.
exec "$LAB_DIR/run.sh" "cd /host && echo \"guest: Linux \$(uname -r), THP \$(cat /sys/kernel/mm/transparent_hugepage/enabled)\" \
&& LIVEMIG_TEST_PROVIDERS=${PROVIDERS:-verbs} LIVEMIG_TEST_CLASSPATH=$CP scripts/rxe-test.sh --ack-timeout $ACK_TIMEOUT \
$BENCH $BENCH_SECONDS --run '$RUN'"
