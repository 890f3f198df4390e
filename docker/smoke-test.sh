#!/usr/bin/env bash
# Smoke test of the runtime image: plain commands pass through, and the entrypoint's provider choice
# (with LIVEMIG_ENTRYPOINT_DRY_RUN=1 it prints the command it would run) behaves as documented in
# docker/rxe-entrypoint.sh, on this host whatever its kernel has. Needs no registry and no network.
#
# usage: docker/smoke-test.sh [IMAGE]     (default livemig:dev)
set -uo pipefail

IMAGE=${1:-livemig:dev}
passed=0 failed=0
has_rxe=0
[ -d /sys/module/rdma_rxe ] && has_rxe=1

# check NAME EXPECTED_RC REGEX -- DOCKER_RUN_ARGS...: runs the container, checks the exit status and
# that the combined output matches REGEX (grep -E).
check() {
  local name=$1 want_rc=$2 regex=$3 out rc
  shift 4
  out=$(timeout 120 docker run --rm "$@" 2>&1)
  rc=$?
  if [ "$rc" = "$want_rc" ] && grep -Eq -- "$regex" <<<"$out"; then
    passed=$((passed + 1))
    echo "  ok   $name"
  else
    failed=$((failed + 1))
    echo "  FAIL $name: exit $rc (want $want_rc), output does not match /$regex/ or exit differs:"
    sed 's/^/         /' <<<"$out"
  fi
}

dry=(-e LIVEMIG_ENTRYPOINT_DRY_RUN=1)
echo "smoke test of $IMAGE (host kernel $(uname -r), rdma_rxe loaded: $has_rxe)"

check "--version" 0 '^livemig [0-9]' -- "$IMAGE" --version
check "selfcheck" 0 'self-check passed' -- "$IMAGE" selfcheck
check "help" 0 '[Uu]sage: livemig' -- "$IMAGE" help
check "a program of the image runs as itself" 0 'openjdk version "2[5-9]' -- "$IMAGE" java -version
check "rdma-core tools are installed" 0 '/ibv_devices' -- "$IMAGE" sh -c 'command -v ibv_devices rping rdma tc iptables socat'
check "--provider soft runs at once" 0 '^exec livemig destination --incoming rdma:0.0.0.0:29200 --provider soft$' \
  -- "${dry[@]}" "$IMAGE" destination --incoming rdma:0.0.0.0:29200 --provider soft
check "LIVEMIG_PROVIDER=soft adds the flag" 0 '^exec livemig source --provider soft --ram 64M$' \
  -- "${dry[@]}" -e LIVEMIG_PROVIDER=soft "$IMAGE" source --ram 64M
check "unknown provider is a usage error" 2 "unknown provider 'tcp'" -- "${dry[@]}" "$IMAGE" demo --provider=tcp
check "no RDMA devices with LIVEMIG_RXE=0" 3 'ibv_devices does not list any device' \
  -- "${dry[@]}" -e LIVEMIG_RXE=0 "$IMAGE" demo
check "auto, unprivileged: refuses and says why" 3 'not privileged.*|pass --provider soft or set LIVEMIG_ALLOW_SOFT=1' \
  -- "${dry[@]}" "$IMAGE" destination --incoming rdma:0.0.0.0:29200
check "auto, unprivileged, LIVEMIG_ALLOW_SOFT=1: soft" 0 '^exec livemig demo --provider soft --ram 64M$' \
  -- "${dry[@]}" -e LIVEMIG_ALLOW_SOFT=1 "$IMAGE" demo --ram 64M
check "explicit verbs never falls back" 3 'cannot run the verbs provider.*not privileged' \
  -- "${dry[@]}" -e LIVEMIG_ALLOW_SOFT=1 "$IMAGE" destination --provider verbs --incoming rdma:0.0.0.0:29200

# --privileged asks for every capability; where the engine itself lacks one (a sandboxed root without
# CAP_SYS_RESOURCE, as on the project's build machines) runc refuses it, so take all it can give and
# a writable /sys instead: the same to the entrypoint's checks.
privileged=(--privileged)
if ! docker run --rm "${privileged[@]}" "$IMAGE" true >/dev/null 2>&1; then
  privileged=(--cap-add ALL -v /sys:/sys)
  bounding=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
  ((16#$bounding >> 24 & 1)) || privileged+=(--cap-drop SYS_RESOURCE)
  echo "  (--privileged is refused by this engine; using ${privileged[*]})"
fi
if [ "$has_rxe" = 1 ]; then
  check "privileged on an rxe kernel: verbs" 0 '^exec livemig demo --provider verbs$' \
    -- "${dry[@]}" "${privileged[@]}" "$IMAGE" demo
else
  check "privileged without rdma_rxe: says the kernel lacks it" 3 'no rdma_rxe module' \
    -- "${dry[@]}" "${privileged[@]}" "$IMAGE" demo
fi

echo "smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
