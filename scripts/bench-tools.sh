#!/usr/bin/env bash
# Installs what the benchmarks measure with and against, Debian's packages, when missing:
#   bench-tools.sh [TOOL...]   (default: wrk nginx, for `npm run bench:gateway`)
#   wrk      the load generator
#   nginx    the baseline proxy (the bench starts its own on a 127.0.0.1 port; Debian's
#            nginx service is disabled where systemd runs it)
#   busybox  a statically linked /bin/busybox (busybox-static): `npm run bench:scale` builds
#            its minimal static function from it (test/fixtures/functions/static)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(wrk nginx)
missing=()
for tool in "${tools[@]}"; do
  case "$tool" in
    wrk) command -v wrk >/dev/null 2>&1 || missing+=(wrk) ;;
    nginx) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light) ;;
    # Another busybox (dynamically linked) would not run on an empty image: ask for the package.
    busybox) dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static) ;;
    *) die "bench-tools.sh: unknown tool \"$tool\" (wrk, nginx, busybox)" ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  die "missing: ${missing[*]}. Install them (Debian/Ubuntu packages: ${missing[*]}) and run this again."
fi
say "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${missing[@]}" >>"$LOGS/apt.log" 2>&1 || {
  apt-get update -q >>"$LOGS/apt.log" 2>&1 && apt-get install -y -q "${missing[@]}" >>"$LOGS/apt.log" 2>&1
} || die "apt-get install failed (see $LOGS/apt.log)"
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now nginx >/dev/null 2>&1 || true
fi
