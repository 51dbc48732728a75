#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs the whole test suite: every compiled
# *.test.js under dist/, GITFAAS_TEST_CONCURRENCY files at a time (default 3: the files
# spend most of their time waiting on Docker, builds and timers, and each isolates itself
# with its own ports, queue prefix and instance label, so they can run side by side).
# Extra arguments narrow the run to matching paths, e.g. scripts/test.sh gateway
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh --no-build
source scripts/env.sh
# kubectl builds deploy/kubernetes with the real kustomize (test/deploy/kubernetes-manifests).
# Its apt package is not in every Debian mirror: without it that one case is skipped, saying why.
if ! command -v kubectl >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y -q kubectl >>"$LOGS/apt.log" 2>&1 || say "kubectl is not installable here; the kustomize cross-check is skipped"
fi
# Tests always run a fresh build: no file left in dist/ by a removed source is run.
compile --fresh || die "the TypeScript build failed (tsc's errors are above)"

# Containers left by earlier test runs: gitfaas-managed, instance "test-<pid>-<random>"
# (test/helpers/gateway.ts) whose test process is gone. A run still going elsewhere on
# this engine keeps its containers: its pid is alive.
leftovers=()
while read -r id instance; do
  [[ "$instance" =~ ^test-([0-9]+)- ]] || { [[ "$instance" == test-* ]] && leftovers+=("$id"); continue; }
  [ -d "/proc/${BASH_REMATCH[1]}" ] || leftovers+=("$id")
done < <("$DOCKER" ps -a --filter label=com.gitfaas.managed=true --format '{{.ID}} {{.Label "com.gitfaas.instance"}}')
if [ ${#leftovers[@]} -gt 0 ]; then
  say "removing ${#leftovers[@]} containers left by earlier test runs"
  "$DOCKER" rm -f "${leftovers[@]}" >/dev/null
fi

mapfile -t files < <(find dist -name '*.test.js' | sort)
if [ $# -gt 0 ]; then
  pattern=$(IFS='|'; echo "$*")
  mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$pattern")
fi
[ ${#files[@]} -gt 0 ] || die "no test files found"
concurrency="${GITFAAS_TEST_CONCURRENCY:-3}"
[[ "$concurrency" =~ ^[1-9][0-9]*$ ]] || die "GITFAAS_TEST_CONCURRENCY must be a positive whole number, got '$concurrency'"
say "running ${#files[@]} test files, $concurrency at a time"
exec node --test --test-concurrency="$concurrency" --test-timeout=600000 --test-reporter=spec "${files[@]}"
