#!/usr/bin/env bash
# Captures the savevm streams that migration-engine's QemuStreamCaptureTest reads (issue 16): a QEMU 7.2
# that never ran (-S) migrates with `migrate exec:cat > FILE` through QMP, for `-M none` (one 2 MiB
# memory-backend-file block holding random pages and zero ranges) and `-M pc -m 16M`.
#
#   scripts/capture-qemu-stream.sh [OUTDIR]    # default: the test resources directory
#
# Needs Debian 12's qemu-system-x86 (checked: 1:7.2+dfsg-7+deb12u18) and python3 (QMP client, RAM image).
# Writes none.stream.gz, none.ram.gz (the RAM file the block was backed by) and pc.stream.gz. The `-M none`
# stream is identical from run to run; `-M pc`'s differs only in the RTC section (wall clock).
set -euo pipefail
QEMU=${QEMU:-/usr/bin/qemu-system-x86_64}
OUT=${1:-$(cd "$(dirname "$0")/.." && pwd)/migration-engine/src/test/resources/io/livemig/migration/stream/qemu}
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The RAM image: 512 pages; random pages 0-15 and 256-263, page 300 random in its first half only, the rest zero.
python3 - "$WORK/none.ram" <<'PY'
import random, sys
r = random.Random(16)
ram = bytearray(2 << 20)
for first, count in ((0, 16), (256, 8)):
    ram[first * 4096:(first + count) * 4096] = r.randbytes(count * 4096)
ram[300 * 4096:300 * 4096 + 2048] = r.randbytes(2048)
open(sys.argv[1], "wb").write(ram)
PY

# migrate(QMP socket, stream file): qmp_capabilities, migrate exec:cat, poll query-migrate, quit.
migrate() {
    python3 - "$1" "$2" <<'PY'
import json, socket, sys, time
sock_path, target = sys.argv[1], sys.argv[2]
for _ in range(100):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sock_path); break
    except OSError:
        time.sleep(0.1)
f = s.makefile("rw")
def cmd(name, **args):
    f.write(json.dumps({"execute": name, "arguments": args} if args else {"execute": name}) + "\n"); f.flush()
    while True:
        reply = json.loads(f.readline())
        if "return" in reply or "error" in reply:
            if "error" in reply:
                sys.exit("QMP %s: %s" % (name, reply["error"]))
            return reply["return"]
json.loads(f.readline())  # greeting
cmd("qmp_capabilities")
cmd("migrate", uri="exec:cat > " + target)
deadline = time.time() + 60
while True:
    status = cmd("query-migrate").get("status")
    if status == "completed":
        break
    if status == "failed" or time.time() > deadline:
        sys.exit("migration " + str(status))
    time.sleep(0.1)
cmd("quit")
PY
}

COMMON=(-accel tcg -S -nodefaults -display none -serial none -parallel none)

"$QEMU" "${COMMON[@]}" -M none -m 2M \
    -object memory-backend-file,id=ram0,size=2M,mem-path="$WORK/none.ram",share=on \
    -machine memory-backend=ram0 -qmp unix:"$WORK/none.sock",server=on,wait=off &
migrate "$WORK/none.sock" "$WORK/none.stream"
wait

"$QEMU" "${COMMON[@]}" -M pc -m 16M -qmp unix:"$WORK/pc.sock",server=on,wait=off &
migrate "$WORK/pc.sock" "$WORK/pc.stream"
wait

for f in none.stream none.ram pc.stream; do
    gzip -9n < "$WORK/$f" > "$OUT/$f.gz"
done
ls -l "$OUT"
