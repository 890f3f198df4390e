#!/usr/bin/env bash
# Parallel channels against one channel, raw loopback TCP and iperf3, in one run (issue 19's comparison):
#   1. iperf3 over loopback with one stream (-P 1) and with as many streams as channels (-P N), N seconds each;
#   2. `livemig bench --modes dynamic,multifd --multifd-channels N` (which measures its own raw TCP stream too);
# then prints multifd / dynamic, and each against iperf3 with the same number of streams.
# iperf3 is Debian's package `iperf3` (apt-get install iperf3; python3 reads its JSON); without it step 1 is skipped
# and said so.
#
# Usage: scripts/multifd-bench.sh [--sizes 256M,1G] [--channels 2] [--repeat 3] [--iperf-seconds 5]
set -euo pipefail
LIVEMIG_HOME=$(cd "$(dirname "$0")/.." && pwd)
cd "$LIVEMIG_HOME"

SIZES=256M,1G
CHANNELS=2
REPEAT=3
IPERF_SECONDS=5
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) SIZES=$2; shift 2 ;;
        --channels) CHANNELS=$2; shift 2 ;;
        --repeat) REPEAT=$2; shift 2 ;;
        --iperf-seconds) IPERF_SECONDS=$2; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "multifd-bench.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

# iperf3 -J's receiver-side sum, in MiB/s.
iperf_mibps() {
    local streams=$1 port=$2 json
    json=$(iperf3 -c 127.0.0.1 -p "$port" -P "$streams" -t "$IPERF_SECONDS" -J)
    printf '%s' "$json" | python3 -c 'import json, sys
print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8 / 2**20))'
}

. "$LIVEMIG_HOME/.mvn/find-jdk.sh"
iperf1=
iperfn=
if command -v iperf3 >/dev/null; then
    port=$((20000 + RANDOM % 20000))
    iperf3 -s -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    server=$!
    trap 'kill $server 2>/dev/null || true' EXIT
    sleep 1
    iperf1=$(iperf_mibps 1 "$port")
    iperfn=$(iperf_mibps "$CHANNELS" "$port")
    kill "$server" 2>/dev/null || true
    echo "iperf3 loopback: -P 1 $iperf1 MiB/s, -P $CHANNELS $iperfn MiB/s (${IPERF_SECONDS} s each)"
else
    echo "iperf3 not installed (apt-get install iperf3): no iperf3 comparison"
fi

out=$(mktemp "${TMPDIR:-/tmp}/livemig-multifd-bench.XXXXXX")
./livemig bench --sizes "$SIZES" --modes dynamic,multifd --multifd-channels "$CHANNELS" --repeat "$REPEAT" | tee "$out"

# Rows: SIZE (a number and a unit: "64.0 MiB") MODE MiB/s ...: the mode is the third field, MiB/s the fourth.
if [ -n "$iperf1" ]; then
    awk -v i1="$iperf1" -v in_="$iperfn" -v n="$CHANNELS" '
        $3 == "dynamic" && $4 + 0 > 0 { printf "%s %s dynamic: %.2fx of iperf3 -P 1\n", $1, $2, $4 / i1 }
        $3 == "multifd" && $4 + 0 > 0 { printf "%s %s multifd: %.2fx of iperf3 -P %s\n", $1, $2, $4 / in_, n }
    ' "$out"
fi
rm -f "$out"
