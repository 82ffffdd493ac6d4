#!/usr/bin/env bash
# `make images`: builds each component's Dockerfile with buildah (no Docker engine, no registry), on a
# Node base made from this machine's node and npm (their shared libraries as ldd lists them, CA
# certificates, /bin/sh for RUN), and writes each image as an OCI archive under the cache, from which
# `make cluster` imports them into its containerd. Storage stays under the cache too (vfs driver).
# Usage: images.sh [component...] (default: operator lcmp kme-sim whisk-sim host-sae)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${MECQKD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mecqkd}
TAG=${IMAGE_TAG:-0.1.0}
OUT=$CACHE/images
STORE=(--root "$CACHE/containers/storage" --runroot "$CACHE/containers/run" --storage-driver vfs)
BASE=localhost/mecqkd/node-base:$(node -p 'process.versions.node')
COMPONENTS=("$@")
[ ${#COMPONENTS[@]} -gt 0 ] || COMPONENTS=(operator lcmp kme-sim whisk-sim host-sae)

say() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for tool in buildah skopeo; do command -v $tool >/dev/null || { say "$tool is missing: run make image-deps"; exit 1; }; done
mkdir -p "$OUT"
# buildah keeps a blob-info cache in /var/lib/containers/cache whatever --root says: undo it on exit
# when this run is what made it
[ -e /var/lib/containers ] || trap 'rm -rf /var/lib/containers' EXIT

# A long build says every 30 s what it is doing.
with_progress() {
  local what=$1 t0=$SECONDS beat rc=0
  shift
  ( while sleep 30; do say "still building $what: $((SECONDS - t0)) s"; done ) &
  beat=$!
  "$@" || rc=$?
  kill "$beat" 2>/dev/null; wait "$beat" 2>/dev/null || true
  return "$rc"
}

node_base() {
  if buildah "${STORE[@]}" inspect --type image "$BASE" >/dev/null 2>&1; then say "$BASE cached"; return; fi
  local rootfs
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' RETURN
  local bins=(/usr/bin/node /bin/sh /usr/bin/env)
  mkdir -p "$rootfs"/{bin,usr/bin,usr/lib,etc/ssl/certs,tmp,app}
  chmod 1777 "$rootfs/tmp"
  for b in "${bins[@]}"; do cp -L "$b" "$rootfs$b"; done
  for lib in $(ldd "${bins[@]}" | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
    mkdir -p "$rootfs$(dirname "$lib")"; cp -L "$lib" "$rootfs$lib"
  done
  cp -a "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$rootfs/usr/lib/npm"
  ln -s ../lib/npm/bin/npm-cli.js "$rootfs/usr/bin/npm"
  cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
  printf 'root:x:0:0::/root:/bin/sh\nmecqkd:x:10001:10001::/app:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nmecqkd:x:10001:\n' >"$rootfs/etc/group"
  local c
  c=$(buildah "${STORE[@]}" from scratch)
  buildah "${STORE[@]}" copy "$c" "$rootfs" / >/dev/null
  # this machine's trust store, so npm in RUN steps reaches the registry as the host's npm does
  buildah "${STORE[@]}" config --env PATH=/usr/bin:/bin --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    --env NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt "$c"
  buildah "${STORE[@]}" commit --rm "$c" "$BASE" >/dev/null
  say "made $BASE from this machine's node $(node -v)"
}

t0=$SECONDS
node_base
for c in "${COMPONENTS[@]}"; do
  image=localhost/mecqkd/$c:$TAG
  say "building $image from $c/Dockerfile"
  t1=$SECONDS
  with_progress "$c" buildah "${STORE[@]}" bud --quiet --layers --isolation chroot --pull=never \
    --build-arg "NODE_BASE=$BASE" -f "$ROOT/$c/Dockerfile" -t "$image" "$ROOT" >/dev/null
  skopeo copy --quiet "containers-storage:[vfs@$CACHE/containers/storage+$CACHE/containers/run]$image" \
    "oci-archive:$OUT/$c.tar:$image"
  say "built $image in $((SECONDS - t1)) s: $OUT/$c.tar"
done
say "images ready in $((SECONDS - t0)) s"
