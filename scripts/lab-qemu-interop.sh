#!/usr/bin/env bash
# livemig as a real QEMU migration peer over Soft-RoCE, in the rxe lab (../shared/lab/rxe, its guest has Debian's
# QEMU 7.2). From the repository root on the host:
#   scripts/lab-qemu-interop.sh [CASE...]
# builds the jar (./livemig --version) and boots the lab, which runs this script again inside the guest with the
# same arguments. Cases (default: all, in this order, in one boot):
#   a-MACHINE-MODE  a real QEMU source -> livemig destination --provider verbs: the RAM file cmp-equal to QEMU's
#                   memory-backend-file, QEMU's query-migrate "completed", the device state parked
#                   (--save-device-state) and every block kept in a file (--ram-file NAME=PATH, ROMs included)
#   b-MACHINE-MODE  livemig source --provider verbs -> a real QEMU destination: livemig's own random RAM (ram0) and
#                   the blocks and device state case a parked (runs a first when they are missing); cmp of ram0,
#                   the destination's query-migrate "completed"
#   c-MACHINE-MODE  the round trip: QEMU -> livemig destination (parked) -> livemig source -> a fresh QEMU
#                   destination; the first QEMU's RAM file cmp-equal to the last one's
#   measure         the same 32 MiB -M none migration (dynamic) QEMU->QEMU and QEMU->livemig in this boot: the time
#                   from `migrate` to "completed" of each, and their ratio
# MACHINE: none (one 32 MiB block, ram0) or pc (pc-i440fx-7.2: ram0 and five ROM blocks); MODE: dynamic or pin-all.
# RAM is random with zero ranges (whole chunks, a partial chunk, the last MiB), so dynamic mode sends COMPRESS.
# Environment: LAB_DIR (default ../shared/lab/rxe), LAB_JDK (default the host's JDK 25), the lab's knobs; KEEP=1
# keeps the guest's work directory (/tmp/interop) listing.
set -u

CASES_ALL="a-none-dynamic a-none-pin-all b-none-dynamic b-none-pin-all c-none-dynamic c-none-pin-all \
a-pc-dynamic a-pc-pin-all b-pc-dynamic b-pc-pin-all c-pc-dynamic c-pc-pin-all measure"

if [ -z "${LAB_DEV:-}" ]; then
    # On the host: build, then boot the lab with this script as its command.
    set -e
    ROOT=$(cd "$(dirname "$0")/.." && pwd)
    cd "$ROOT"
    ./livemig --version >/dev/null
    LAB_DIR=${LAB_DIR:-$ROOT/../shared/lab/rxe}
    export LAB_SHARE=$ROOT
    export LAB_JDK=${LAB_JDK:-$(ls -d /usr/lib/jvm/temurin-25-jdk-amd64 2>/dev/null || true)}
    export LAB_TIMEOUT=${LAB_TIMEOUT:-3600}
    # The guest runs a copy: bash reads a script as it goes, and an edit during a long run would break it.
    mkdir -p target
    cp scripts/lab-qemu-interop.sh target/lab-qemu-interop.sh
    exec "$LAB_DIR/run.sh" "cd /host && target/lab-qemu-interop.sh $*"
fi

# In the guest.
W=/tmp/interop
mkdir -p "$W"
MIB=$((1 << 20))
PORT=4800
QMP_PORT=5800
FAILED=()
PASSED=()
# C1 only: under TCG on a busy host the JVM takes minutes to start, and C2's compiler threads compete with QEMU's.
# A class-data archive (made by the first start, reused by the next ones of the boot) saves part of the start.
LIVEMIG=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1
    -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile="$W/livemig.jsa"
    -Dlivemig.verbs.ackTimeout=18 -jar /host/cli/target/livemig.jar)

next_port() { PORT=$((PORT + 1)); QMP_PORT=$((QMP_PORT + 1)); }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
log() { echo "== $*"; }

# qmp PORT JSON...: one QMP session, each command's reply line printed (events skipped).
qmp() {
    local port=$1 line tries=0
    shift
    until exec 3<>"/dev/tcp/127.0.0.1/$port"; do
        tries=$((tries + 1))
        [ $tries -lt 300 ] || return 1
        sleep 0.1
    done 2>/dev/null
    read -r -t 120 line <&3
    echo '{"execute":"qmp_capabilities"}' >&3
    read -r -t 120 line <&3
    for cmd in "$@"; do
        echo "$cmd" >&3
        while read -r -t 60 line <&3; do
            case $line in *'"return"'*|*'"error"'*) echo "$line"; break ;; esac
        done
    done
    exec 3>&-
}

# migration_status PORT: "completed", "failed", "active", ... from query-migrate ("none" before any).
migration_status() {
    qmp "$1" '{"execute":"query-migrate"}' | sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p' | head -n 1
}

# wait_migration PORT SECONDS: polls query-migrate until completed or failed; prints the final reply.
wait_migration() {
    local port=$1 deadline=$(($(date +%s) + $2)) status
    while [ "$(date +%s)" -lt "$deadline" ]; do
        status=$(migration_status "$port")
        case $status in completed|failed|cancelled) break ;; esac
        sleep 0.1
    done
    qmp "$port" '{"execute":"query-migrate"}'
}

# machine_name MACHINE: the name QEMU puts in the configuration section.
machine_name() { [ "$1" = pc ] && echo pc-i440fx-7.2 || echo none; }

# make_ram FILE SEED: 32 MiB of random bytes with zero ranges: chunks 4-6 whole, 64 KiB inside chunk 10, the last MiB.
make_ram() {
    head -c $((32 * MIB)) /dev/urandom > "$1"
    dd if=/dev/zero of="$1" bs=1M seek=4 count=3 conv=notrunc status=none
    dd if=/dev/zero of="$1" bs=4K seek=$((10 * 256 + 8)) count=16 conv=notrunc status=none
    dd if=/dev/zero of="$1" bs=1M seek=31 count=1 conv=notrunc status=none
}

# qemu_start NAME MACHINE RAMFILE QMPPORT [ARGS...]: a paused QEMU whose RAM is a shared memory-backend-file; its
# process id in QEMU_PID (not printed: a command substitution's background child could not be waited for).
qemu_start() {
    local name=$1 machine=$2 ram=$3 port=$4
    shift 4
    qemu-system-x86_64 -accel tcg -S -nodefaults -display none -serial none -parallel none -M "$machine" -m 32M \
        -object memory-backend-file,id=ram0,size=32M,mem-path="$ram",share=on -machine memory-backend=ram0 \
        -qmp "tcp:127.0.0.1:$port,server=on,wait=off" "$@" > "$W/qemu-$name.log" 2>&1 &
    QEMU_PID=$!
}

qemu_stop() {
    qmp "$2" '{"execute":"quit"}' > /dev/null 2>&1
    wait "$1" 2>/dev/null
}

# ram_blocks QMPPORT: "NAME BYTES" per RAM block, in QEMU's RAMBlock order (the MEM_SIZE order).
ram_blocks() {
    local name offset used rest
    qmp "$1" '{"execute":"human-monitor-command","arguments":{"command-line":"info ramblock"}}' \
        | tr -d '\r' | sed 's/^{"return": "//; s/"}$//; s/\\r\\n/\n/g' | tail -n +2 \
        | while read -r name _ _ offset used rest; do
            case $used in 0x*) echo "$name $((used))" ;; esac
        done
}

# file_of NAME: where a parked block lives ('/' in ROM names becomes '_').
file_of() { echo "$W/parked-$MACHINE-$MODE-$(echo "$1" | tr '/@' '__').ram"; }

wait_listening() {
    local log=$1 deadline=$(($(date +%s) + 600))
    until grep -q "^listening on" "$log"; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "no 'listening on' in $log"; cat "$log"; return 1; }
        sleep 0.2
    done
}

pin_all_caps() {
    [ "$MODE" = pin-all ] && echo '{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"rdma-pin-all","state":true}]}}' \
        || echo '{"execute":"query-status"}'
}

# to_livemig SRCRAM: a real QEMU source -> livemig destination. Parks every block and the device state.
to_livemig() {
    local src=$1 qemu dst rc files=() name bytes status t0 t1
    next_port
    qemu_start src "$MACHINE" "$src" "$QMP_PORT"
    qemu=$QEMU_PID
    ram_blocks "$QMP_PORT" > "$W/blocks-$MACHINE"
    while read -r name bytes; do
        files+=(--ram-file "$name=$(file_of "$name")")
        rm -f "$(file_of "$name")"
    done < "$W/blocks-$MACHINE"
    log "QEMU blocks ($MACHINE): $(tr '\n' ' ' < "$W/blocks-$MACHINE")"
    "${LIVEMIG[@]}" destination --provider verbs --incoming "rdma:$LAB_IP:$PORT" "${files[@]}" \
        --save-device-state "$W/parked-$MACHINE-$MODE.state" --machine "$(machine_name "$MACHINE")" \
        --progress none --timeout 300 > "$W/livemig-dst.log" 2>&1 &
    dst=$!
    wait_listening "$W/livemig-dst.log" || { kill $dst; qemu_stop "$qemu" "$QMP_PORT"; return 1; }
    t0=$(now)
    qmp "$QMP_PORT" "$(pin_all_caps)" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"rdma:$LAB_IP:$PORT\"}}" \
        > /dev/null
    status=$(wait_migration "$QMP_PORT" 300)
    t1=$(now)
    TO_LIVEMIG_SECONDS=$(elapsed "$t0" "$t1")
    wait $dst
    rc=$?
    qemu_stop "$qemu" "$QMP_PORT"
    echo "QEMU source query-migrate: $status"
    echo "livemig destination (exit status $rc):"
    sed 's/^/    /' "$W/livemig-dst.log"
    echo "QEMU->livemig: ${TO_LIVEMIG_SECONDS} s from migrate to completed"
    [ "$rc" = 0 ] || return 1
    case $status in *'"status": "completed"'*) ;; *) return 1 ;; esac
    cmp "$src" "$(file_of ram0)" || return 1
    echo "cmp: ram0 identical ($(stat -c %s "$src") bytes)"
    ls -l "$W/parked-$MACHINE-$MODE.state" | awk '{print "device state parked: " $5 " bytes"}'
}

# from_livemig RAM0FILE DSTRAM: livemig source (ram0 from RAM0FILE, the other blocks and the device state parked)
# -> a real QEMU destination.
from_livemig() {
    local ram0=$1 dstram=$2 qemu rc name bytes blocks="" files=() status
    next_port
    rm -f "$dstram"
    qemu_start dst "$MACHINE" "$dstram" "$QMP_PORT" -incoming "rdma:$LAB_IP:$PORT"
    qemu=$QEMU_PID
    qmp "$QMP_PORT" '{"execute":"query-status"}' > /dev/null
    while read -r name bytes; do
        blocks="$blocks${blocks:+,}$name:$bytes"
        if [ "$name" = ram0 ]; then files+=(--ram-file "ram0=$ram0"); else files+=(--ram-file "$name=$(file_of "$name")"); fi
    done < "$W/blocks-$MACHINE"
    local pin=()
    [ "$MODE" = pin-all ] && pin=(--pin-all)
    "${LIVEMIG[@]}" source --provider verbs --blocks "$blocks" "${files[@]}" --fill keep \
        --device-state "$W/parked-$MACHINE-$MODE.state" --machine "$(machine_name "$MACHINE")" "${pin[@]}" \
        --progress none --timeout 300 --migrate "rdma:$LAB_IP:$PORT" > "$W/livemig-src.log" 2>&1
    rc=$?
    status=$(wait_migration "$QMP_PORT" 60)
    echo "livemig source (exit status $rc):"
    sed 's/^/    /' "$W/livemig-src.log" | tail -n 25
    echo "QEMU destination query-migrate: $status"
    echo "QEMU destination query-status: $(qmp "$QMP_PORT" '{"execute":"query-status"}')"
    qemu_stop "$qemu" "$QMP_PORT"
    sed 's/^/    qemu: /' "$W/qemu-dst.log"
    [ "$rc" = 0 ] || return 1
    case $status in *'"status": "completed"'*) ;; *) return 1 ;; esac
    cmp "$ram0" "$dstram" || return 1
    echo "cmp: ram0 identical ($(stat -c %s "$dstram") bytes)"
}

case_a() {
    make_ram "$W/qemu-src.ram"
    to_livemig "$W/qemu-src.ram"
}

case_b() {
    [ -e "$W/parked-$MACHINE-$MODE.state" ] || { log "no parked device state yet: case a first"; case_a || return 1; }
    make_ram "$W/livemig-src.ram"
    from_livemig "$W/livemig-src.ram" "$W/qemu-dst.ram"
}

case_c() {
    make_ram "$W/qemu-src.ram"
    to_livemig "$W/qemu-src.ram" || return 1
    from_livemig "$(file_of ram0)" "$W/qemu-dst.ram" || return 1
    cmp "$W/qemu-src.ram" "$W/qemu-dst.ram" || return 1
    echo "cmp: the first QEMU's RAM and the last QEMU's RAM identical"
}

# The same 32 MiB -M none migration, dynamic: QEMU->QEMU, then QEMU->livemig.
case_measure() {
    local src dst t0 t1 qq status
    MACHINE=none MODE=dynamic
    make_ram "$W/qemu-src.ram"
    next_port
    local dport=$QMP_PORT
    qemu_start qq-dst none "$W/qq-dst.ram" "$dport" -incoming "rdma:$LAB_IP:$PORT"
    dst=$QEMU_PID
    qmp "$dport" '{"execute":"query-status"}' > /dev/null
    local sport=$((QMP_PORT + 100))
    qemu_start qq-src none "$W/qemu-src.ram" "$sport"
    src=$QEMU_PID
    qmp "$sport" '{"execute":"query-status"}' > /dev/null
    t0=$(now)
    qmp "$sport" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"rdma:$LAB_IP:$PORT\"}}" > /dev/null
    status=$(wait_migration "$sport" 300)
    t1=$(now)
    qq=$(elapsed "$t0" "$t1")
    echo "QEMU->QEMU query-migrate: $status"
    qemu_stop "$src" "$sport"
    qemu_stop "$dst" "$dport"
    case $status in *'"status": "completed"'*) ;; *) return 1 ;; esac
    cmp "$W/qemu-src.ram" "$W/qq-dst.ram" || return 1
    echo "QEMU->QEMU: $qq s from migrate to completed"
    to_livemig "$W/qemu-src.ram" || return 1
    echo "measure: QEMU->QEMU $qq s, QEMU->livemig $TO_LIVEMIG_SECONDS s, ratio (livemig/QEMU) $(awk -v a="$TO_LIVEMIG_SECONDS" -v b="$qq" 'BEGIN { printf "%.2f", a / b }')"
}

run_case() {
    local name=$1
    log "case $name"
    case $name in
        measure) case_measure ;;
        [abc]-none-dynamic|[abc]-none-pin-all|[abc]-pc-dynamic|[abc]-pc-pin-all)
            MACHINE=$(echo "$name" | cut -d- -f2)
            MODE=$(echo "$name" | cut -d- -f3-)
            "case_${name%%-*}" ;;
        *) echo "unknown case $name (cases: $CASES_ALL)"; return 2 ;;
    esac
}

for name in ${*:-$CASES_ALL}; do
    if run_case "$name"; then
        PASSED+=("$name")
        log "case $name: passed"
    else
        FAILED+=("$name")
        log "case $name: FAILED"
    fi
done
log "passed: ${PASSED[*]:-none}"
log "failed: ${FAILED[*]:-none}"
[ ${#FAILED[@]} -eq 0 ]
