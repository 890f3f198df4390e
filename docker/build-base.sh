#!/usr/bin/env bash
# Builds the offline base image for docker/Dockerfile without any container registry:
#   1. debootstrap a minimal Debian root filesystem from the Debian mirror this host's apt uses,
#      with the runtime packages of docker/runtime-packages.txt already installed;
#   2. add a JDK 25 runtime made from the host's JDK (jlink'd; a copy of the whole JDK if jlink fails)
#      at /opt/java/openjdk, where the public eclipse-temurin images keep theirs;
#   3. `docker import` the tree as $LIVEMIG_BASE_IMAGE (default livemig/base:debian-jdk25).
#
# Cached by tag: does nothing when the image exists and was made from the same Debian suite, JDK version
# and package list (its labels say), unless --force. Needs root (debootstrap) and a
# running Docker engine.
#
# usage: docker/build-base.sh [--force] [--tag IMAGE]
# environment:
#   LIVEMIG_BASE_IMAGE     image tag to build (default livemig/base:debian-jdk25); --tag overrides it
#   DEBIAN_MIRROR          Debian mirror URL (default: the one in /etc/apt/sources.list*, else deb.debian.org)
#   DEBIAN_SUITE           Debian suite (default: this host's codename when it is Debian, else bookworm)
#   LIVEMIG_BASE_JDK       JDK 25+ to take the runtime from (default: the one ./mvnw uses)
#   LIVEMIG_JLINK_MODULES  modules of the jlink'd runtime (default: java.se and the jdk.* runtime modules)
set -euo pipefail

DOCKER_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(dirname "$DOCKER_DIR")
IMAGE=${LIVEMIG_BASE_IMAGE:-livemig/base:debian-jdk25}
FORCE=0

while [ $# -gt 0 ]; do
  case $1 in
    --force) FORCE=1 ;;
    --tag) IMAGE=${2:?--tag needs an image name}; shift ;;
    --tag=*) IMAGE=${1#--tag=} ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-base: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "build-base: $*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap needs it)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd, or run docker/ci-setup.sh)"

# The suite: this host's own when it is Debian, so its apt sources name a mirror that serves it.
debian_suite() {
  if [ -n "${DEBIAN_SUITE-}" ]; then echo "$DEBIAN_SUITE"; return; fi
  local id="" codename=""
  if [ -r /etc/os-release ]; then
    id=$(. /etc/os-release && echo "${ID-}")
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME-}")
  fi
  if [ "$id" = debian ] && [ -n "$codename" ]; then echo "$codename"; else echo bookworm; fi
}

# The mirror: the first apt source (deb822 .sources or one-line .list) that serves $1 from a .../debian
# archive, so a host behind a local mirror or proxy builds from it without configuration.
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local suite=$1 found="" f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    found=$(awk -v suite="$suite" '
      function flush() { if (!done && uris != "" && (" " suites " ") ~ (" " suite " ")) { n = split(uris, u, " ");
                           for (i = 1; i <= n; i++) if (u[i] ~ /\/debian\/?$/) { print u[i]; done = 1; exit } }
                         uris = ""; suites = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
      /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
      END { flush() }' "$f")
    [ -n "$found" ] && { echo "$found"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    found=$(awk -v suite="$suite" '
      $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i + 1) == suite && $i ~ /\/debian\/?$/) { print $i; exit } }' "$f")
    [ -n "$found" ] && { echo "$found"; return; }
  done
  echo http://deb.debian.org/debian
}

# The JDK: as given, else the one ./mvnw and ./livemig use (JAVA_HOME if 25+, else /usr/lib/jvm/...).
host_jdk() {
  if [ -n "${LIVEMIG_BASE_JDK-}" ]; then echo "$LIVEMIG_BASE_JDK"; return; fi
  (. "$REPO_DIR/.mvn/find-jdk.sh" && echo "$JAVA_HOME")
}

SUITE=$(debian_suite)
MIRROR=$(debian_mirror "$SUITE")
JDK=$(host_jdk) || die "no JDK 25+ on this host; set LIVEMIG_BASE_JDK"
JDK_VERSION=$(sed -n 's/^JAVA_RUNTIME_VERSION="\(.*\)"/\1/p' "$JDK/release" 2>/dev/null || true)
case ${JDK_VERSION%%[!0-9]*} in
  2[5-9] | [3-9][0-9]) ;;
  *) die "$JDK is not a JDK 25 or newer (its release file: JAVA_RUNTIME_VERSION=${JDK_VERSION:-none}); set LIVEMIG_BASE_JDK" ;;
esac
PACKAGES=$(sed 's/#.*//' "$DOCKER_DIR/runtime-packages.txt" | xargs)
# Everything a server JVM may load at run time (JFR, JMX, jcmd, the HTTP server, crypto, zipfs);
# not the compiler, javadoc, jshell or the desktop extras.
MODULES=${LIVEMIG_JLINK_MODULES:-java.se,jdk.unsupported,jdk.management,jdk.management.agent,jdk.management.jfr,jdk.jfr,jdk.httpserver,jdk.net,jdk.nio.mapmode,jdk.crypto.ec,jdk.crypto.cryptoki,jdk.zipfs,jdk.charsets,jdk.naming.dns,jdk.attach,jdk.jcmd,jdk.incubator.vector}

# The cache: an image of this tag made from the same suite, JDK and package list is reused as it is.
if [ "$FORCE" = 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  label() { docker image inspect -f "{{index .Config.Labels \"io.livemig.base.$1\"}}" "$IMAGE"; }
  if [ "$(label suite)" = "$SUITE" ] && [ "$(label jdk)" = "${JDK_VERSION:-unknown}" ] && [ "$(label packages)" = "$PACKAGES" ]; then
    log "$IMAGE exists (JDK $(label jdk) on $(label suite), built $(docker image inspect -f '{{.Created}}' "$IMAGE")); --force rebuilds it"
    exit 0
  fi
  log "$IMAGE exists but was made from another suite, JDK or package list ($(label suite), JDK $(label jdk), $(label packages)); rebuilding"
fi

command -v debootstrap >/dev/null 2>&1 || {
  log "installing debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

START=$(date +%s)
WORK=$(mktemp -d /var/tmp/livemig-base.XXXXXX)
cleanup() {
  # debootstrap leaves proc/sys mounted when it fails half-way; unmount before removing the tree.
  for m in $(awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do umount -l "$m" || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
ROOTFS=$WORK/rootfs

log "debootstrap $SUITE from $MIRROR with: $PACKAGES"
if ! debootstrap --variant=minbase --components=main --include="$(echo "$PACKAGES" | tr ' ' ,)" \
    "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
  tail -n 30 "$WORK/debootstrap.log" >&2
  [ -r "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (log above)"
fi

# Trim what a container never reads; apt lists go too (a Dockerfile that needs more runs apt-get update).
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log \
  "$ROOTFS"/debootstrap
# Containers get their own /etc/hostname, /etc/hosts and /etc/resolv.conf from the engine.
: >"$ROOTFS/etc/hostname"

log "JDK runtime from $JDK (${JDK_VERSION:-unknown version})"
mkdir -p "$ROOTFS/opt/java"
if "$JDK/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
    --output "$ROOTFS/opt/java/openjdk" >"$WORK/jlink.log" 2>&1; then
  RUNTIME="jlink ($MODULES)"
else
  log "jlink failed ($(tail -n 1 "$WORK/jlink.log")); copying the whole JDK instead"
  rm -rf "$ROOTFS/opt/java/openjdk"
  cp -a "$JDK/." "$ROOTFS/opt/java/openjdk"
  RUNTIME="copy of $JDK"
fi
"$ROOTFS/opt/java/openjdk/bin/java" -version >/dev/null 2>&1 || die "the runtime at /opt/java/openjdk does not start"

log "docker import as $IMAGE"
tar --numeric-owner --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -C "$ROOTFS" -c . | docker import \
  --change 'ENV JAVA_HOME=/opt/java/openjdk' \
  --change 'ENV PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL io.livemig.base.suite=$SUITE io.livemig.base.mirror=$MIRROR io.livemig.base.jdk=${JDK_VERSION:-unknown}" \
  --change "LABEL io.livemig.base.packages=\"$PACKAGES\"" \
  --change 'CMD ["bash"]' \
  --message "livemig offline base: debootstrap $SUITE + JDK ${JDK_VERSION:-?} ($RUNTIME)" \
  - "$IMAGE" >/dev/null

log "built $IMAGE in $(($(date +%s) - START)) s: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%d MB", $1 / 1000000 }'), $RUNTIME"
