#!/usr/bin/env bash
# Runs the verbs provider's tests (the gate and the ABI checks of package io.livemig.transport.rdma.verbs.rdmacore,
# the provider conformance suite io.livemig.transport.rdma.verbs.*ConformanceTest, and the Netty channel tests
# io.livemig.transport.rdma.channel.RdmaChannel*Test, over the verbs provider) against Soft-RoCE on this Linux host,
# then removes what it created.
#
# The conformance and channel tests are @ParameterizedClass classes with one invocation per provider (in-jvm,
# soft-tcp, verbs; see transport-rdma's TestProvider): this script selects every class parameterized over
# TestProvider by name, and -Dlivemig.test.providers=verbs (in the JVM options below, which --run gets too) keeps
# only their verbs invocations.
#
# It creates a dummy network device with a private address, puts an rxe device on it
# (rdma link add ... type rxe), runs the tests through the Maven wrapper on that device, and on exit deletes the
# rxe link and the dummy device again. Needs root (modprobe, ip, rdma) and the rdma_rxe kernel module, plus
# rdma-core in user space: Debian/Ubuntu packages rdma-core ibverbs-providers libibverbs1 librdmacm1 (add
# libibverbs-dev librdmacm-dev and gcc for the struct-layout test). Optionally ib_write_bw (perftest) for a
# bandwidth comparison with --bench.
#
# Usage: scripts/rxe-test.sh [--netdev NAME] [--ip ADDR/PREFIX] [--ack-timeout N] [--bench | --bench-runs N]
#                            [--run CMD] [-- MAVEN-ARGS...]
#   --netdev NAME      name of the dummy device to create (default lmrxe0); its rxe device is NAME_rxe
#   --ip ADDR/PREFIX   address for it (default 10.211.77.1/24, a private range; change it if that collides)
#   --ack-timeout N    QP ACK timeout exponent for the tests (default 18: ~1 s, generous for loaded hosts)
#   --bench            also run ib_write_bw and the provider's WriteBandwidth, 1 MiB writes, 16 in flight
#   --bench-runs N     the same, N times each, alternating (--bench is --bench-runs 1)
#   --bench-seconds S  how long each bandwidth run lasts (default 5; ib_write_bw -D S, which measures S - 2 s)
#   --run CMD          run CMD (bash) instead of Maven, e.g. a JUnit console launcher on a prebuilt classpath where
#                      Maven cannot run; the JVM options for the device are in $LIVEMIG_VERBS_PROPS, and
#                      --bench then takes its classpath from $LIVEMIG_TEST_CLASSPATH
set -euo pipefail

NETDEV=lmrxe0
IP=10.211.77.1/24
ACK_TIMEOUT=18
BENCH=0
BENCH_SECONDS=5
RUN=
MAVEN_ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --netdev) NETDEV=$2; shift 2 ;;
        --ip) IP=$2; shift 2 ;;
        --ack-timeout) ACK_TIMEOUT=$2; shift 2 ;;
        --bench) BENCH=1; shift ;;
        --bench-runs) BENCH=$2; shift 2 ;;
        --bench-seconds) BENCH_SECONDS=$2; shift 2 ;;
        --run) RUN=$2; shift 2 ;;
        --) shift; MAVEN_ARGS=("$@"); break ;;
        -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
RXE=${NETDEV}_rxe
ADDR=${IP%/*}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" != 0 ]; then
    echo "rxe-test.sh: needs root to load rdma_rxe and create the rxe link (try sudo)" >&2
    exit 1
fi
for tool in ip rdma; do
    command -v $tool >/dev/null || { echo "rxe-test.sh: '$tool' missing (packages iproute2)" >&2; exit 1; }
done

cleanup() {
    rdma link delete "$RXE" 2>/dev/null || true
    ip link delete "$NETDEV" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

modprobe rdma_rxe
modprobe rdma_ucm 2>/dev/null || true
ip link add "$NETDEV" type dummy
ip link set "$NETDEV" mtu 9000 up
ip addr add "$IP" dev "$NETDEV"
rdma link add "$RXE" type rxe netdev "$NETDEV"
# rxe publishes its GIDs asynchronously; wait for the IPv4 one.
for _ in $(seq 50); do
    if grep -qs "$(printf '0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x' $(echo "$ADDR" | tr . ' '))" \
            /sys/class/infiniband/"$RXE"/ports/1/gids/* 2>/dev/null; then
        break
    fi
    sleep 0.1
done
ulimit -l unlimited

# LIVEMIG_TEST_PROVIDERS (default verbs) picks the providers; the disni provider gets the same device, address and
# ACK timeout, and libdisni from LIVEMIG_DISNI_LIBRARY_PATH (default target/libdisni, scripts/build-libdisni.sh).
DISNI_LIB=${LIVEMIG_DISNI_LIBRARY_PATH:-$ROOT/target/libdisni}
PROPS=(-Dlivemig.verbs.device="$RXE" -Dlivemig.verbs.testAddress="$ADDR" -Dlivemig.verbs.ackTimeout="$ACK_TIMEOUT"
    -Dlivemig.disni.device="$RXE" -Dlivemig.disni.address="$ADDR" -Dlivemig.disni.ackTimeout="$ACK_TIMEOUT"
    -Djava.library.path="$DISNI_LIB" -Dlivemig.test.providers="${LIVEMIG_TEST_PROVIDERS:-verbs}")
export LIVEMIG_VERBS_PROPS="${PROPS[*]}"
echo "rxe-test.sh: $RXE on $NETDEV ($IP) is up; tests run with $LIVEMIG_VERBS_PROPS"
cd "$ROOT"
# The tests' outcome is the script's exit status; --bench runs whatever it is.
STATUS=0
if [ -n "$RUN" ]; then
    bash -c "$RUN" || STATUS=$?
else
    # The classes parameterized over TestProvider, by name (their source uses it as the @MethodSource).
    SUITES=$(grep -rlE '^@MethodSource\("io\.livemig\.transport\.rdma\.TestProvider#' transport-rdma/src/test/java \
        | sed 's:^transport-rdma/src/test/java/::; s:\.java$::; s:/:.:g' | sort | paste -sd, -)
    ./mvnw -B -pl transport-rdma test -Dtest="io.livemig.transport.rdma.verbs.rdmacore.**,$SUITES" \
        -Dsurefire.failIfNoSpecifiedTests=false "${PROPS[@]}" "${MAVEN_ARGS[@]}" || STATUS=$?
fi

# rxe's counters (cumulative) of the requester's retransmissions (after an ACK timeout or a sequence-error NAK) and
# of the duplicate requests the responder saw: on a loaded or emulated host rxe drops packets and retransmits.
rxe_retransmissions() {
    echo "rxe counters: $(rdma statistic show link "$RXE/1" 2>/dev/null \
        | grep -o 'completer_retry_err [0-9]*\|duplicate_request [0-9]*' | tr '\n' ' ')"
}

perftest_write_bw() {
    # -R: connect through rdma_cm, as the provider does, so no GID index has to be chosen.
    local perf=(ib_write_bw -d "$RXE" -R -s 1048576 -t 16 -D "$BENCH_SECONDS" -F -u "$ACK_TIMEOUT")
    echo "== ${perf[*]} (server and client on $RXE, $ADDR)"
    "${perf[@]}" >/dev/null 2>&1 &
    for _ in $(seq 30); do   # until the server listens
        "${perf[@]}" "$ADDR" && break
        sleep 1
    done
    wait || true
}

if [ "$BENCH" -gt 0 ]; then
    # A JDK 25+ as ./mvnw finds it: the default `java` may be older.
    . "$ROOT/.mvn/find-jdk.sh"
    # The test classpath: given (where Maven cannot run), or asked from Maven.
    CP=${LIVEMIG_TEST_CLASSPATH:-"transport-rdma/target/classes:transport-rdma/target/test-classes:$(./mvnw -q -B \
        -pl transport-rdma dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout)"}
    command -v ib_write_bw >/dev/null \
        || echo "ib_write_bw not installed (package perftest): skipping the perftest half of the comparison"
    # Alternated, so that both see the same state of the host.
    for run in $(seq "$BENCH"); do
        if command -v ib_write_bw >/dev/null; then
            perftest_write_bw
            rxe_retransmissions
        fi
        echo "== verbs provider WriteBandwidth 1048576 16 $BENCH_SECONDS 2 (size, depth, seconds, warm-up seconds)," \
            "run $run"
        "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED "${PROPS[@]}" -cp "$CP" \
            io.livemig.transport.rdma.verbs.rdmacore.WriteBandwidth 1048576 16 "$BENCH_SECONDS" 2 || STATUS=$?
        rxe_retransmissions
        if [[ ",${LIVEMIG_TEST_PROVIDERS:-verbs}," == *,disni,* ]]; then
            echo "== disni provider WriteBandwidth 1048576 16 $BENCH_SECONDS 2, run $run"
            "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
                "${PROPS[@]}" -Dlivemig.bench.provider=disni -cp "$CP" \
                io.livemig.transport.rdma.verbs.rdmacore.WriteBandwidth 1048576 16 "$BENCH_SECONDS" 2 || STATUS=$?
            rxe_retransmissions
        fi
    done
fi
exit $STATUS
