#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs the whole platform in the foreground,
# all services in one process: gateway, webhook receiver, builder, deployer, queue-worker.
# Its log goes to this terminal and to $GITFAAS_STATE_DIR/logs/gitfaas.log.
# Ctrl-C (SIGINT) or SIGTERM stops it gracefully.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh
source scripts/env.sh

# A webhook secret for the receiver, generated once, unless one is given.
if [ -z "${GITHUB_WEBHOOK_SECRET:-}" ] && [ -z "${GITHUB_WEBHOOK_SECRET_FILE:-}" ]; then
  secret_file="$GITFAAS_STATE_DIR/github-webhook-secret"
  [ -s "$secret_file" ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$secret_file")
  export GITHUB_WEBHOOK_SECRET_FILE="$secret_file"
fi
if [ -z "${GITFAAS_ADMIN_PASSWORD:-}" ] && [ -z "${GITFAAS_ADMIN_PASSWORD_FILE:-}" ]; then
  export GITFAAS_ADMIN_PASSWORD_FILE="$GITFAAS_STATE_DIR/admin-password"
fi

# Everything this platform keeps outside its own state directory (containers, BullMQ queues
# and Redis keys, NATS streams) is named after its instance, unless set explicitly.
if [ -n "${GITFAAS_INSTANCE:-}" ]; then
  instance_note="from GITFAAS_INSTANCE"
else
  export GITFAAS_INSTANCE="$(state_instance)"
  instance_note="of $GITFAAS_STATE_DIR"
fi
if [ "$GITFAAS_INSTANCE" = default ]; then
  instance_note="$instance_note; SHARED with every other checkout on this machine that runs as 'default' (functions, queues, build numbers). To run apart, put another name in $GITFAAS_STATE_DIR/instance (what runs as default is then not seen from here)"
else
  suffix=$(printf '%s' "$GITFAAS_INSTANCE" | tr 'a-z-' 'A-Z_')
  export GITFAAS_QUEUE_PREFIX="${GITFAAS_QUEUE_PREFIX:-$GITFAAS_INSTANCE}"
  export GITFAAS_ASYNC_STREAM="${GITFAAS_ASYNC_STREAM:-GITFAAS_ASYNC_$suffix}"
  export GITFAAS_ASYNC_SUBJECT="${GITFAAS_ASYNC_SUBJECT:-$GITFAAS_INSTANCE.async}"
  export GITFAAS_ASYNC_DEAD_STREAM="${GITFAAS_ASYNC_DEAD_STREAM:-GITFAAS_ASYNC_DEAD_$suffix}"
  export GITFAAS_ASYNC_DEAD_SUBJECT="${GITFAAS_ASYNC_DEAD_SUBJECT:-$GITFAAS_INSTANCE.dead}"
  instance_note="$instance_note; its own functions, queues and build numbers"
fi

log_file="$LOGS/gitfaas.log"
# Appended to across starts; one older generation is kept once it passes 50 MB.
if [ -f "$log_file" ] && [ "$(stat -c %s "$log_file")" -gt 50000000 ]; then mv -f "$log_file" "$log_file.1"; fi

gateway="http://${GITFAAS_BIND:-127.0.0.1}:${GITFAAS_GATEWAY_PORT:-8080}"
webhooks="http://${GITFAAS_BIND:-127.0.0.1}:${GITFAAS_WEBHOOKS_PORT:-8081}"
cat <<TXT

  gitfaas is starting
  instance         $GITFAAS_INSTANCE ($instance_note)
  gateway          $gateway  (OpenFaaS API; functions at $gateway/function/NAME)
  webhooks         $webhooks/webhooks/github  $webhooks/webhooks/gitlab
  builds           $webhooks/system/builds  (admin; each build's log URL is in its record)
  admin user       ${GITFAAS_ADMIN_USER:-admin}
  admin password   ${GITFAAS_ADMIN_PASSWORD_FILE:-(from GITFAAS_ADMIN_PASSWORD)}
  webhook secret   ${GITHUB_WEBHOOK_SECRET_FILE:-(from GITHUB_WEBHOOK_SECRET)}
  platform log     here and in $log_file
                   (JSON lines; for reading: GITFAAS_LOG_FORMAT=pretty, or npx pino-pretty < $log_file)
  other logs       $LOGS (npm and apt output of setup; Redis, NATS, the registry and dockerd when setup started them)

TXT

# tee -i ignores Ctrl-C, so the lines the platform writes while it stops still arrive.
node dist/services/main.js > >(tee -ia "$log_file") 2>&1 &
pid=$!
interrupted=no
trap 'interrupted=yes; kill -TERM "$pid" 2>/dev/null || true' INT TERM
# A signal interrupts wait: wait again until the platform has stopped, for its exit status.
while :; do
  interrupted=no status=0
  wait "$pid" || status=$?
  [ "$interrupted" = yes ] || break
done
exit "$status"
