#!/usr/bin/env bash
# Builds libdisni.so, the native half of DiSNI 2.1 (com.ibm.disni:disni:2.1 on Maven Central ships only the Java
# classes), from DiSNI's released sources. Nothing of DiSNI is kept in this repository: the sources come from a
# directory you give, or from the v2.1 release tarball on GitHub where the network allows.
#
# Usage: scripts/build-libdisni.sh [--source DIR] [--out DIR] [--jdk JAVA_HOME] [--no-apt]
#   --source DIR   DiSNI's source tree (the directory holding libdisni/), e.g. from
#                  git clone -b v2.1 https://github.com/zrlio/disni; default: download
#                  https://github.com/zrlio/disni/archive/refs/tags/v2.1.tar.gz
#   --out DIR      where libdisni.so* go (default: target/libdisni under the project root); pass
#                  -Djava.library.path=DIR to the JVM, or set LIVEMIG_DISNI_LIBRARY_PATH for ./livemig
#   --jdk DIR      a JDK whose include/ has jni.h (default: $JAVA_HOME, else the JDK 25 ./mvnw finds)
#   --no-apt       do not apt-get install the build dependencies (they must be there already)
# Debian/Ubuntu build dependencies (installed with apt-get unless --no-apt, as root):
#   autoconf automake libtool make g++ libibverbs-dev librdmacm-dev (and a JDK's headers)
# Run time needs libibverbs1 librdmacm1 ibverbs-providers, which libibverbs-dev and librdmacm-dev pull in.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=2.1
SOURCE=
OUT=$ROOT/target/libdisni
JDK=${JAVA_HOME:-}
APT=1
while [ $# -gt 0 ]; do
    case "$1" in
        --source) SOURCE=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --jdk) JDK=$2; shift 2 ;;
        --no-apt) APT=0; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "build-libdisni.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$JDK" ]; then
    for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/*; do
        if [ -f "$candidate/include/jni.h" ]; then JDK=$candidate; break; fi
    done
fi
if [ -z "$JDK" ] || [ ! -f "$JDK/include/jni.h" ]; then
    echo "build-libdisni.sh: no JDK headers (include/jni.h) found; pass --jdk DIR or install a JDK" >&2
    exit 1
fi

PACKAGES=(autoconf automake libtool make g++ libibverbs-dev librdmacm-dev)
if [ "$APT" = 1 ]; then
    missing=()
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
        echo "build-libdisni.sh: installing ${missing[*]}" >&2
        $SUDO apt-get update -q
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -z "$SOURCE" ]; then
    echo "build-libdisni.sh: downloading DiSNI v$VERSION" >&2
    curl -fsSL "https://github.com/zrlio/disni/archive/refs/tags/v$VERSION.tar.gz" | tar -xz -C "$WORK"
    SOURCE=$WORK/disni-$VERSION
fi
if [ ! -f "$SOURCE/libdisni/configure.ac" ]; then
    echo "build-libdisni.sh: $SOURCE/libdisni/configure.ac not found: not a DiSNI source tree" >&2
    exit 1
fi
# Build in a copy: autoreconf writes into the tree, and the given one may be read-only (a lab share, a checkout).
cp -r "$SOURCE/libdisni" "$WORK/build"
cd "$WORK/build"
./autoprepare.sh >"$WORK/autoprepare.log" 2>&1 || { cat "$WORK/autoprepare.log" >&2; exit 1; }
./configure --with-jdk="$JDK" --prefix="$WORK/prefix" >"$WORK/configure.log" 2>&1 \
    || { cat "$WORK/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$WORK/make.log" 2>&1 || { cat "$WORK/make.log" >&2; exit 1; }
make install >>"$WORK/make.log" 2>&1 || { cat "$WORK/make.log" >&2; exit 1; }
mkdir -p "$OUT"
cp -P "$WORK"/prefix/lib/libdisni.so* "$OUT"/
echo "libdisni $VERSION built into $OUT (JDK headers: $JDK)"
ls -l "$OUT"
