#!/usr/bin/env bash
# Installs what `npm run bench:gateway` measures with and against: wrk (the load generator)
# and nginx (the baseline proxy), Debian's packages, when missing. The bench starts its own
# nginx on a 127.0.0.1 port; Debian's nginx service is disabled where systemd runs it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  die "missing: ${missing[*]}. Install them (Debian/Ubuntu packages: wrk nginx-light) and run this again."
fi
say "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${missing[@]}" >>"$LOGS/apt.log" 2>&1 || {
  apt-get update -q >>"$LOGS/apt.log" 2>&1 && apt-get install -y -q "${missing[@]}" >>"$LOGS/apt.log" 2>&1
} || die "apt-get install failed (see $LOGS/apt.log)"
command -v systemctl >/dev/null 2>&1 && systemctl disable --now nginx >/dev/null 2>&1 || true
