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
    find services shared test scripts -name '*.ts' -not -path 'services/builder/templates/*' -print0 | sort -z | xargs -0 sha256sum
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
  (cd "$ROOT" && npx tsc -p tsconfig.json) || return 1
  echo "$hash" >"$ROOT/$BUILD_STAMP"
}
