#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs the whole test suite: every compiled
# *.test.js under dist/, one file at a time (they share one Docker engine on 2 cores).
# Extra arguments narrow the run to matching paths, e.g. scripts/test.sh gateway
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh
source scripts/env.sh
rm -rf dist && npx tsc -p tsconfig.json

mapfile -t files < <(find dist -name '*.test.js' | sort)
if [ $# -gt 0 ]; then
  pattern=$(IFS='|'; echo "$*")
  mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$pattern")
fi
[ ${#files[@]} -gt 0 ] || die "no test files found"
say "running ${#files[@]} test files"
exec node --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec "${files[@]}"
