#!/usr/bin/env bash
# Does a QEMU destination accept a livemig source that sends an authentication proof after the capabilities?
# Runs inside the Soft-RoCE lab guest (shared/lab/rxe), from the repository root, after `./mvnw package`:
#   LAB_JDK=/usr/lib/jvm/temurin-25-jdk-amd64 LAB_SHARE=$PWD ../shared/lab/rxe/run.sh scripts/lab-qemu-auth-check.sh
# QEMU 7.2 listens with -incoming rdma: and no machine (-M none); a livemig source connects over rxe0 once with a key
# and once without. QEMU's trace of qemu_rdma_accept shows the connect accepted and the pin-all bit it echoes; what
# happens after the connect (QEMU has no RAM to receive into) does not matter here.
set -u
key=$(mktemp)
head -c 32 /dev/urandom > "$key"
chmod 600 "$key"
for run in "with-key 4444 --auth-key-file $key" "without-key 4445"; do
    set -- $run
    name=$1 port=$2
    shift 2
    qemu-system-x86_64 -M none -nodefaults -display none -trace 'qemu_rdma_accept*' \
        -incoming "rdma:$LAB_IP:$port" > "/tmp/qemu-$name.log" 2>&1 &
    qemu=$!
    sleep 5
    echo "== livemig source $name -> QEMU rdma:$LAB_IP:$port"
    java --enable-native-access=ALL-UNNAMED -jar cli/target/livemig.jar source --provider verbs --ram 4M \
        --pin-all --timeout 15 --progress none --migrate "rdma:$LAB_IP:$port" "$@" 2>&1 | tail -n 8
    echo "== source exit status ${PIPESTATUS[0]}"
    sleep 1
    kill "$qemu" 2>/dev/null
    wait "$qemu" 2>/dev/null
    echo "== QEMU $name"
    cat "/tmp/qemu-$name.log"
done
