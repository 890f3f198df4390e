#!/usr/bin/env bash
# Entrypoint of the livemig image: picks the RDMA provider for the migration commands.
#
#   destination|source|demo|bench ARGS
#       With `--provider soft` (in ARGS or LIVEMIG_PROVIDER=soft): runs at once over the soft TCP fabric.
#       With `--provider verbs|disni`, or none (LIVEMIG_PROVIDER=auto, the default): sets up Soft-RoCE
#       when the kernel has rdma_rxe and the container is privileged (`rdma link add NAME type rxe
#       netdev IFACE`, device nodes, `ibv_devices`) and runs with the verbs provider. When that is not
#       possible it says why and exits 3, unless LIVEMIG_ALLOW_SOFT=1 lets an automatic choice fall
#       back to the soft provider (an explicit verbs/disni never falls back).
#   anything else (--version, selfcheck, help, ...): passed straight to livemig; the name of a program
#       in the image (bash, ibv_devinfo, rping, ...) runs that program instead.
#
# Environment:
#   LIVEMIG_PROVIDER       auto (default), verbs, disni or soft; a --provider in ARGS wins
#   LIVEMIG_ALLOW_SOFT     1: an automatic choice may fall back to the soft provider
#   LIVEMIG_RXE            0: create no rxe link, use the RDMA devices already visible (an HCA passed in)
#   LIVEMIG_RXE_NETDEV     interface for the rxe link (default: the default route's, else eth0)
#   LIVEMIG_RXE_NAME       rxe device name (default rxe_<hostname>: the RDMA subsystem's default
#                          "shared" namespace mode makes device names host-wide, so two containers on
#                          one host cannot both call theirs rxe0)
#   LIVEMIG_ENTRYPOINT_DRY_RUN  1: print the final command instead of running it (tests)
# The chosen provider is passed as `--provider X` after the subcommand (unless ARGS has one) and
# exported as LIVEMIG_PROVIDER; with verbs, LIVEMIG_RDMA_DEVICE names the device.
set -euo pipefail

say() { echo "livemig-entrypoint: $*" >&2; }

launch() {
  if [ "${LIVEMIG_ENTRYPOINT_DRY_RUN:-0}" = 1 ]; then
    echo "exec $*"
    exit 0
  fi
  exec "$@"
}

# --- pass-through ---------------------------------------------------------------------------------
# Migration subcommands first: `source` and `help` are also shell builtins that `command -v` finds.
case "${1-}" in
  destination | source | demo | bench) ;;
  "") launch livemig --help ;;
  -* | help | version | selfcheck) launch livemig "$@" ;;
  *)
    if type -P "$1" >/dev/null; then launch "$@"; fi
    launch livemig "$@"
    ;;
esac

# --- Soft-RoCE -------------------------------------------------------------------------------------
# Each check returns non-zero with the reason in $why.
why=""

privileged() {
  local capeff sys_opts
  capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
  # CAP_NET_ADMIN (12) for `rdma link add`, CAP_SYS_ADMIN (21) and a writable /sys: what --privileged
  # gives and a plain container lacks.
  if (((16#$capeff >> 12 & 1) == 0 || (16#$capeff >> 21 & 1) == 0)); then
    why="the container is not privileged (no CAP_NET_ADMIN/CAP_SYS_ADMIN; run it with --privileged)"
    return 1
  fi
  sys_opts=$(awk '$2 == "/sys" { print $4; exit }' /proc/mounts)
  if [[ $sys_opts != rw* ]]; then
    why="the container is not privileged (/sys is read-only; run it with --privileged)"
    return 1
  fi
}

kernel_has_rxe() {
  [ -d /sys/module/rdma_rxe ] && return 0
  local err
  if err=$(modprobe rdma_rxe 2>&1); then return 0; fi
  why="the kernel has no rdma_rxe module loaded and modprobe failed (${err:-no output}); on the host: \
modprobe rdma_rxe, or mount its /lib/modules into the container read-only"
  return 1
}

# A privileged container's /dev is populated when it starts; the uverbs node of an rxe device created
# afterwards (and rdma_cm, if rdma_ucm was loaded afterwards) must be made here.
device_nodes() {
  local name=$1 d node devno
  for d in /sys/class/infiniband/"$name"/device/infiniband_verbs/uverbs* /sys/class/infiniband_verbs/uverbs* /sys/class/misc/rdma_cm; do
    [ -r "$d/dev" ] || continue
    node=/dev/infiniband/$(basename "$d")
    [ -e "$node" ] && continue
    devno=$(cat "$d/dev")
    mkdir -p /dev/infiniband
    mknod -m 666 "$node" c "${devno%%:*}" "${devno##*:}"
  done
}

rxe_link() {
  local netdev name err
  netdev=${LIVEMIG_RXE_NETDEV:-$(ip -o route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')}
  netdev=${netdev:-eth0}
  if [ ! -e "/sys/class/net/$netdev" ]; then
    why="there is no network interface $netdev for the rxe link (set LIVEMIG_RXE_NETDEV)"
    return 1
  fi
  name=${LIVEMIG_RXE_NAME:-$(printf 'rxe_%s' "$(hostname)" | tr -c 'A-Za-z0-9_-' _ | cut -c 1-60)}
  # ib_uverbs and rdma_ucm give user space its verbs and CM devices; rdma_rxe does not pull them in.
  modprobe -q ib_uverbs 2>/dev/null || true
  modprobe -q rdma_ucm 2>/dev/null || true
  if [ -e "/sys/class/infiniband/$name" ]; then
    say "reusing RDMA device $name"
  elif ! err=$(rdma link add "$name" type rxe netdev "$netdev" 2>&1); then
    why="rdma link add $name type rxe netdev $netdev failed: $err"
    return 1
  else
    say "created Soft-RoCE device $name on $netdev ($(ip -o -4 addr show dev "$netdev" | awk '{ print $4 }' | paste -sd ' '))"
  fi
  device_nodes "$name"
  LIVEMIG_RDMA_DEVICE=$name
}

# Visible through libibverbs, with an active port: what the verbs provider will open.
verbs_sees() {
  local name=$1 devices listed
  devices=$(ibv_devices 2>&1) || true
  # Two header lines, then one device a line: "    rxe0    0000000000000000".
  listed=$(awk 'NR > 2 { print $1 }' <<<"$devices")
  if [ -z "$listed" ] || { [ -n "$name" ] && ! grep -qx -- "$name" <<<"$listed"; }; then
    why="ibv_devices does not list ${name:-any device}: $(tr '\n' ' ' <<<"$devices")"
    return 1
  fi
  if [ -n "$name" ] && ! ibv_devinfo -d "$name" 2>/dev/null | grep -q PORT_ACTIVE; then
    why="$name has no active port (is its interface up?)"
    return 1
  fi
}

rdma_ready() {
  if [ "${LIVEMIG_RXE:-1}" = 0 ]; then
    LIVEMIG_RDMA_DEVICE=""
    verbs_sees "" || return 1
    say "using the RDMA devices already present: $(ibv_devices | awk 'NR > 2 { print $1 }' | paste -sd ' ')"
    return 0
  fi
  privileged && kernel_has_rxe && rxe_link && verbs_sees "$LIVEMIG_RDMA_DEVICE" || return 1
  # Registration pins memory: lift the memlock limit when allowed (privileged: CAP_SYS_RESOURCE).
  ulimit -l unlimited 2>/dev/null || say "memlock limit is $(ulimit -l) KiB; large registrations may fail (raise it: --ulimit memlock=-1)"
  export LIVEMIG_RDMA_DEVICE
}

# --- provider choice -------------------------------------------------------------------------------
subcommand=$1
shift
provider="" from=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --provider) provider=${args[i + 1]-} from="--provider" ;;
    --provider=*) provider=${args[i]#--provider=} from="--provider" ;;
    --) break ;;
  esac
done
if [ -z "$from" ]; then
  provider=${LIVEMIG_PROVIDER:-auto}
  [ "$provider" != auto ] && from="LIVEMIG_PROVIDER"
fi

run_with() {
  export LIVEMIG_PROVIDER=$1
  if [ "$from" = "--provider" ]; then
    launch livemig "$subcommand" "${args[@]}"
  fi
  launch livemig "$subcommand" --provider "$LIVEMIG_PROVIDER" "${args[@]}"
}

case $provider in
  soft)
    say "soft provider (RDMA semantics over TCP), as $from asks"
    run_with soft
    ;;
  verbs | disni)
    if rdma_ready; then
      say "$provider provider on ${LIVEMIG_RDMA_DEVICE:-the devices present}, as $from asks"
      run_with "$provider"
    fi
    say "cannot run the $provider provider that $from asks for: $why"
    exit 3
    ;;
  auto)
    if rdma_ready; then
      say "verbs provider on ${LIVEMIG_RDMA_DEVICE:-the devices present}"
      run_with verbs
    fi
    if [ "${LIVEMIG_ALLOW_SOFT:-0}" = 1 ]; then
      say "no RDMA device: $why; LIVEMIG_ALLOW_SOFT=1, so using the soft provider (RDMA semantics over TCP)"
      run_with soft
    fi
    say "no RDMA device: $why"
    say "to migrate over TCP instead, pass --provider soft or set LIVEMIG_ALLOW_SOFT=1"
    exit 3
    ;;
  *)
    say "unknown provider '$provider' (from $from): expected soft, verbs, disni or auto"
    exit 2
    ;;
esac
