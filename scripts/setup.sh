#!/usr/bin/env bash
# Sets up everything gitfaas needs on this machine and starts the services it uses.
# Idempotent: what is installed is not reinstalled, what runs is not restarted.
#   Debian/Ubuntu as root: installs redis-server, nats-server, docker.io, docker-registry,
#   git, debootstrap, docker-compose and chromium with apt when missing. Elsewhere: says what to install.
# Starts Redis (127.0.0.1:6379), NATS with JetStream (127.0.0.1:4222), the registry
# (127.0.0.1:5000) and dockerd; installs npm packages, builds the TypeScript (only when a
# source changed since the last build), builds the template base images, and makes the
# admin password file.
# --no-build: everything but compiling the TypeScript (scripts/test.sh compiles afresh itself).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
BUILD=yes
case "${1:-}" in
  --no-build) BUILD=no ;;
  '') ;;
  *) die "unknown argument '$1' (the only option is --no-build)" ;;
esac

# chromium: the dashboard's browser tests drive it with playwright-core.
PACKAGES=(redis-server nats-server docker.io docker-registry git debootstrap docker-compose chromium)
COMMANDS=(redis-server nats-server dockerd docker-registry git debootstrap docker-compose chromium)

install_packages() {
  local missing=()
  for i in "${!COMMANDS[@]}"; do
    command -v "${COMMANDS[$i]}" >/dev/null 2>&1 || [ -x "/usr/sbin/${COMMANDS[$i]}" ] || missing+=("${PACKAGES[$i]}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing: ${missing[*]}. Install them (Debian/Ubuntu package names: ${PACKAGES[*]}) and run this again, or run it as root on Debian so it can use apt-get."
  fi
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >"$LOGS/apt.log" 2>&1 || die "apt-get update failed (see $LOGS/apt.log)"
  apt-get install -y -q "${missing[@]}" >>"$LOGS/apt.log" 2>&1 \
    || die "apt-get install failed (see $LOGS/apt.log)"
  # Debian enables these as system services; gitfaas starts its own, on loopback.
  command -v systemctl >/dev/null 2>&1 && systemctl disable --now redis-server nats-server docker-registry >/dev/null 2>&1 || true
}

start_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then return 0; fi
  say "starting redis on 127.0.0.1:6379"
  mkdir -p "$GITFAAS_STATE_DIR/redis"
  # appendonly: a job answered 202 must survive a Redis restart.
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --dir "$GITFAAS_STATE_DIR/redis" \
    --appendonly yes --appendfsync everysec --save '' --logfile "$LOGS/redis.log" --protected-mode yes
  wait_for redis 20 sh -c 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG'
}

start_nats() {
  if port_open 127.0.0.1 4222; then return 0; fi
  say "starting nats-server with JetStream on 127.0.0.1:4222"
  mkdir -p "$GITFAAS_STATE_DIR/nats"
  cat >"$GITFAAS_STATE_DIR/nats.conf" <<CONF
host: 127.0.0.1
port: 4222
http: 127.0.0.1:8222
max_payload: 8MB
jetstream {
  store_dir: "$GITFAAS_STATE_DIR/nats"
}
CONF
  nohup nats-server -c "$GITFAAS_STATE_DIR/nats.conf" >"$LOGS/nats.log" 2>&1 &
  echo $! >"$GITFAAS_STATE_DIR/nats.pid"
  wait_for nats 20 port_open 127.0.0.1 4222
}

start_dockerd() {
  if "$DOCKER" info >/dev/null 2>&1; then return 0; fi
  say "starting dockerd"
  nohup dockerd >"$LOGS/dockerd.log" 2>&1 &
  echo $! >"$GITFAAS_STATE_DIR/dockerd.pid"
  wait_for dockerd 60 "$DOCKER" info
}

start_registry() {
  if curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then return 0; fi
  say "starting the registry on 127.0.0.1:5000"
  mkdir -p "$GITFAAS_STATE_DIR/registry"
  REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$GITFAAS_STATE_DIR/registry" \
    nohup docker-registry serve "$ROOT/deploy/registry/config.yml" >"$LOGS/registry.log" 2>&1 &
  echo $! >"$GITFAAS_STATE_DIR/registry.pid"
  wait_for registry 20 curl -fsS http://127.0.0.1:5000/v2/
}

build_project() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages"
    npm ci --no-audit --no-fund >"$LOGS/npm.log" 2>&1 || die "npm ci failed (see $LOGS/npm.log)"
  fi
  [ "$BUILD" = yes ] || return 0
  if build_is_current; then
    say "build up to date (no TypeScript source changed since the last one)"
  else
    say "building the TypeScript (sources changed since the last build)"
    compile || die "the TypeScript build failed (tsc's errors are above)"
  fi
}

admin_password() {
  local file="$GITFAAS_STATE_DIR/admin-password"
  if [ -z "${GITFAAS_ADMIN_PASSWORD:-}" ] && [ -z "${GITFAAS_ADMIN_PASSWORD_FILE:-}" ] && [ ! -s "$file" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$file")
  fi
  chmod 600 "$file" 2>/dev/null || true
}

command -v curl >/dev/null 2>&1 || { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null && apt-get install -y -q curl >/dev/null; }
install_packages
start_redis
start_nats
start_dockerd
start_registry
build_project
state_instance >/dev/null # before admin_password: it tells an older state directory by that file
admin_password
bash "$ROOT/scripts/base-images.sh"
say "setup done; state in $GITFAAS_STATE_DIR"
