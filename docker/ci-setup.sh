#!/usr/bin/env bash
# Prepares a Debian build host for the Docker tests, as root, idempotently, and without any container
# registry (the build machines reach Debian's packages and Maven Central, not Docker Hub):
#   1. installs docker.io, docker-compose and debootstrap when missing;
#   2. starts dockerd in the background unless an engine already answers, and waits for it;
#   3. builds cli/target/livemig.jar when it is missing;
#   4. builds the offline base (docker/build-base.sh, cached by tag) and the runtime image from it;
#   5. with --smoke, runs docker/smoke-test.sh on the image.
# Each step prints its time. The dockerd it starts is the caller's to stop: `docker/ci-setup.sh --stop`
# stops it (and only it: a dockerd that was already running is left alone).
#
# usage: docker/ci-setup.sh [--smoke | --base-only] | --stop
#   --base-only  steps 1, 2 and the base image only (CI: the Testcontainers suite builds the runtime image)
# environment:
#   LIVEMIG_IMAGE       runtime image tag (default livemig:dev)
#   LIVEMIG_BASE_IMAGE  base image tag (default livemig/base:debian-jdk25)
#   DOCKERD_LOG         dockerd's log (default /var/log/livemig-dockerd.log)
set -euo pipefail

DOCKER_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(dirname "$DOCKER_DIR")
IMAGE=${LIVEMIG_IMAGE:-livemig:dev}
BASE_IMAGE=${LIVEMIG_BASE_IMAGE:-livemig/base:debian-jdk25}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/livemig-dockerd.log}
PID_FILE=/run/livemig-ci-dockerd.pid
SMOKE=0

log() { echo "ci-setup: $*" >&2; }
die() { log "$*"; exit 1; }

stop_dockerd() {
  [ -f "$PID_FILE" ] || { log "no dockerd started by ci-setup"; return 0; }
  local pid
  pid=$(cat "$PID_FILE")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && { log "dockerd did not stop in 30 s; killing it"; kill -KILL "$pid"; }
  fi
  rm -f "$PID_FILE"
}

case ${1-} in
  --stop) stop_dockerd; exit 0 ;;
  --smoke) SMOKE=1 ;;
  --base-only) BASE_ONLY=1 ;;
  "") ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac

[ "$(id -u)" = 0 ] || die "must run as root"
START=$(date +%s)
step_start=$START
step() {
  local now
  now=$(date +%s)
  log "$1 ($((now - step_start)) s)"
  step_start=$now
}

# 1. Packages. docker.io brings dockerd, containerd and runc; the docker client on PATH may be newer
#    (it negotiates the engine's API version). Compose: Debian has only Compose v1 (docker-compose).
missing=""
command -v dockerd >/dev/null 2>&1 || missing="$missing docker.io"
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing="$missing docker-compose"
command -v debootstrap >/dev/null 2>&1 || missing="$missing debootstrap"
if [ -n "$missing" ]; then
  log "installing:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
step "packages ready:${missing:- none missing}"

# 2. The engine. No systemd on the build machines (and policy-rc.d stops the package from starting
#    it), so dockerd runs in the background with its log in a file.
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd >>"$DOCKERD_LOG" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || { tail -n 20 "$DOCKERD_LOG" >&2; die "dockerd exited (log above)"; }
    sleep 1
  done
  docker info >/dev/null 2>&1 || { tail -n 20 "$DOCKERD_LOG" >&2; die "dockerd did not answer in 60 s"; }
fi
step "engine ready: Docker $(docker version -f '{{.Server.Version}}')"

if [ "${BASE_ONLY-}" = 1 ]; then
  # For a build that is about to run: the Testcontainers suite builds the runtime image from the jar itself.
  LIVEMIG_BASE_IMAGE=$BASE_IMAGE "$DOCKER_DIR/build-base.sh"
  step "base image ready: $BASE_IMAGE"
  log "done in $(($(date +%s) - START)) s"
  exit 0
fi

# 3. The jar the image copies (CI's ./mvnw verify has usually built it already).
if [ ! -f "$REPO_DIR/cli/target/livemig.jar" ]; then
  (cd "$REPO_DIR" && ./mvnw -B -q -pl cli -am package -DskipTests)
fi
step "jar ready: cli/target/livemig.jar"

# 4. Images.
LIVEMIG_BASE_IMAGE=$BASE_IMAGE "$DOCKER_DIR/build-base.sh"
step "base image ready: $BASE_IMAGE"
docker build -q -f "$DOCKER_DIR/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" "$REPO_DIR" >/dev/null
step "runtime image ready: $IMAGE"

# 5.
if [ "$SMOKE" = 1 ]; then
  "$DOCKER_DIR/smoke-test.sh" "$IMAGE"
  step "smoke test passed"
fi
log "done in $(($(date +%s) - START)) s"
