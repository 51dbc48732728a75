#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs the whole platform in the foreground,
# all services in one process: gateway, webhook receiver, builder, deployer, queue-worker.
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

gateway="http://${GITFAAS_BIND:-127.0.0.1}:${GITFAAS_GATEWAY_PORT:-8080}"
webhooks="http://${GITFAAS_BIND:-127.0.0.1}:${GITFAAS_WEBHOOKS_PORT:-8081}"
cat <<TXT

  gitfaas is starting
  gateway          $gateway        (OpenFaaS API; functions at $gateway/function/NAME)
  webhooks         $webhooks/webhooks/github  $webhooks/webhooks/gitlab
  admin user       ${GITFAAS_ADMIN_USER:-admin}
  admin password   ${GITFAAS_ADMIN_PASSWORD_FILE:-(from GITFAAS_ADMIN_PASSWORD)}
  webhook secret   ${GITHUB_WEBHOOK_SECRET_FILE:-(from GITHUB_WEBHOOK_SECRET)}
  logs of services $LOGS

TXT
exec node dist/services/main.js
