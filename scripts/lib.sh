# Helpers sourced by the scripts in this folder.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GITFAAS_STATE_DIR="${GITFAAS_STATE_DIR:-$ROOT/.state}"
LOGS="$GITFAAS_STATE_DIR/logs"
mkdir -p "$LOGS"

# The docker.io client matches the daemon; a newer client earlier on PATH may lack buildx.
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi

say() { printf '[gitfaas] %s\n' "$*"; }
die() { printf '[gitfaas] error: %s\n' "$*" >&2; exit 1; }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds or time runs out.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then die "$what did not come up within ${seconds}s (logs in $LOGS)"; fi
    sleep 0.2
  done
}

# The compiled dist/ records a hash of everything tsc reads (the TypeScript sources, by
# name and content, tsconfig.json and the package files), so a start with nothing changed
# skips the 15-20 s build.
BUILD_STAMP=dist/.source-hash
source_hash() {
  (cd "$ROOT" && {
    { find services shared test scripts -name '*.ts' -not -path 'services/builder/templates/*' -print0
      find services/dashboard/web -type f -print0; } | sort -z | xargs -0 sha256sum
    sha256sum tsconfig.json package.json package-lock.json
  } | sha256sum | cut -d' ' -f1)
}
build_is_current() { [ -f "$ROOT/$BUILD_STAMP" ] && [ "$(cat "$ROOT/$BUILD_STAMP")" = "$(source_hash)" ]; }
# compile [--fresh]: runs tsc (after emptying dist/ with --fresh) and records the hash;
# an interrupted or failed build leaves no stamp, so the next start builds again.
compile() {
  local hash
  hash=$(source_hash)
  if [ "${1:-}" = --fresh ]; then rm -rf "$ROOT/dist"; else rm -f "$ROOT/$BUILD_STAMP"; fi
  # tsc, then the dashboard's page bundle (esbuild) into dist/services/dashboard/public.
  (cd "$ROOT" && npx tsc -p tsconfig.json && npm run --silent build:web) || return 1
  echo "$hash" >"$ROOT/$BUILD_STAMP"
}

# The instance this state directory runs as, kept in $GITFAAS_STATE_DIR/instance so it is
# stable across restarts. A new state directory gets its own name, derived from its path,
# so a second checkout on a machine never shares another's functions, queues or build
# numbers. A state directory made before instances were scoped keeps "default" (and the
# functions deployed under it).
state_instance() {
  local file="$GITFAAS_STATE_DIR/instance"
  if [ ! -s "$file" ]; then
    if [ -e "$GITFAAS_STATE_DIR/admin-password" ]; then
      echo default >"$file"
    else
      echo "gitfaas-$(printf '%s' "$GITFAAS_STATE_DIR" | sha256sum | cut -c1-8)" >"$file"
    fi
  fi
  cat "$file"
}
