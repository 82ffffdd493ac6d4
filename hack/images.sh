#!/usr/bin/env bash
# `make images`: builds each component's Dockerfile with buildah (no Docker engine, no registry), on a
# Node base made from this machine's node and npm (their shared libraries as ldd lists them, CA
# certificates, /bin/sh for RUN), and writes each image as an OCI archive under the cache, from which
# `make cluster` imports them into its containerd. Also a Redis image from this machine's
# redis-server (a user with Docker tags redis:7 instead: hack/kind-up.sh).
# Fast because: the five Dockerfiles share their build stage (one npm install and one esbuild run,
# reused through --layers), that npm install reads the host's npm cache (the Dockerfiles' cache
# mount is pointed at it), storage is overlay (vfs copies every layer whole), and each final image
# is the base plus one bundle.
# Usage: images.sh [component...] (default: operator lcmp kme-sim whisk-sim host-sae redis)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${MECQKD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mecqkd}
TAG=${IMAGE_TAG:-0.1.0}
OUT=$CACHE/images
DRIVER=${IMAGES_STORAGE_DRIVER:-overlay}
STORE_DIR=$CACHE/containers/$DRIVER
STORE=(--root "$STORE_DIR/storage" --runroot "$STORE_DIR/run" --storage-driver "$DRIVER")
BASE=localhost/mecqkd/node-base:$(node -p 'process.versions.node')
COMPONENTS=("$@")
[ ${#COMPONENTS[@]} -gt 0 ] || COMPONENTS=(operator lcmp kme-sim whisk-sim host-sae redis)

say() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for tool in buildah skopeo; do command -v $tool >/dev/null || { say "$tool is missing: run make image-deps"; exit 1; }; done
mkdir -p "$OUT" "$STORE_DIR/tmp/buildah-cache"
# buildah keeps a blob-info cache in /var/lib/containers/cache whatever --root says: undo it on exit
# when this run is what made it. The overlay driver bind-mounts its own folder: undone when idle
# (umount refuses while a concurrent build has layers mounted).
cleanup() {
  umount "$STORE_DIR/storage/overlay" 2>/dev/null || true
  [ -z "$MADE_VAR_LIB" ] || rm -rf /var/lib/containers
}
MADE_VAR_LIB=$([ -e /var/lib/containers ] || echo 1)
trap cleanup EXIT
# RUN --mount=type=cache,id=mecqkd-npm lives in $TMPDIR/buildah-cache/<id> (buildah 1.x): there, the
# host's npm cache, which `make node-deps` filled with every package of the lockfile
export TMPDIR=$STORE_DIR/tmp
NPM_CACHE=$(npm config get cache)
ln -sfn "$NPM_CACHE" "$TMPDIR/buildah-cache/mecqkd-npm"

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

# An image FROM scratch holding these binaries, the shared libraries ldd lists for them, CA
# certificates, and users root and mecqkd (10001). Extra arguments go to buildah config.
image_of_binaries() {
  local image=$1 bins=$2 rootfs c
  shift 2
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs"/{bin,usr/bin,usr/lib,etc/ssl/certs,tmp,app}
  chmod 1777 "$rootfs/tmp"
  for b in $bins; do cp -L "$b" "$rootfs$b"; done
  # shellcheck disable=SC2086
  for lib in $(ldd $bins | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
    mkdir -p "$rootfs$(dirname "$lib")"; cp -L "$lib" "$rootfs$lib"
  done
  cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
  printf 'root:x:0:0::/root:/bin/sh\nmecqkd:x:10001:10001::/app:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nmecqkd:x:10001:\n' >"$rootfs/etc/group"
  [ -z "${WITH_NPM:-}" ] || {
    cp -a "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$rootfs/usr/lib/npm"
    ln -s ../lib/npm/bin/npm-cli.js "$rootfs/usr/bin/npm"
  }
  c=$(buildah "${STORE[@]}" from scratch)
  buildah "${STORE[@]}" copy "$c" "$rootfs" / >/dev/null
  buildah "${STORE[@]}" config "$@" "$c"
  buildah "${STORE[@]}" commit --quiet --rm "$c" "$image" >/dev/null
  rm -rf "$rootfs"
}

cached() { buildah "${STORE[@]}" inspect --type image "$1" >/dev/null 2>&1; }

node_base() {
  if cached "$BASE"; then say "$BASE cached"; return; fi
  # this machine's trust store, so npm in RUN steps reaches the registry as the host's npm does
  WITH_NPM=1 image_of_binaries "$BASE" "/usr/bin/node /bin/sh /usr/bin/env" --env PATH=/usr/bin:/bin \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --env NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt
  say "made $BASE from this machine's node $(node -v)"
}

# skopeo writes the archive next to its final name, so a concurrent `make cluster` never imports half
# a file; an archive of the same image ID is kept as it is
export_image() {
  local name=$1 image=$2 id
  id=$(buildah "${STORE[@]}" inspect --type image --format '{{.FromImageID}}' "$image")
  [ -f "$OUT/$name.tar" ] && [ "$(cat "$OUT/$name.id" 2>/dev/null)" = "$id" ] && return
  # layers uncompressed: containerd imports them as they are, and gzip alone took 15 s per image here
  skopeo copy --quiet --dest-oci-accept-uncompressed-layers "containers-storage:[$DRIVER@$STORE_DIR/storage+$STORE_DIR/run]$image" \
    "oci-archive:$OUT/.$name.tar.$$:$image"
  mv "$OUT/.$name.tar.$$" "$OUT/$name.tar"
  echo "$id" >"$OUT/$name.id"
}

size_of() { buildah "${STORE[@]}" images --format '{{.Size}}' "$1" | head -1; }

t0=$SECONDS
node_base
for c in "${COMPONENTS[@]}"; do
  image=localhost/mecqkd/$c:$TAG
  t1=$SECONDS
  if [ "$c" = redis ]; then
    # redis-server's version in the name of a marker label: a Debian upgrade makes a new image
    rv=$(redis-server --version | grep -o 'v=[^ ]*')
    if [ "$(buildah "${STORE[@]}" inspect --type image --format '{{index .ImageAnnotations "redis"}}' "$image" 2>/dev/null)" != "$rv" ]; then
      say "making $image from this machine's redis-server ($rv)"
      image_of_binaries "$image" /usr/bin/redis-server --user 10001:10001 --annotation "redis=$rv" \
        --entrypoint '["/usr/bin/redis-server"]'
    fi
  else
    say "building $image from $c/Dockerfile"
    with_progress "$c" buildah "${STORE[@]}" bud --quiet --layers --isolation chroot --pull=never \
      --build-arg "NODE_BASE=$BASE" -f "$ROOT/$c/Dockerfile" -t "$image" "$ROOT" >/dev/null
  fi
  export_image "$c" "$image"
  say "built $image in $((SECONDS - t1)) s, $(size_of "$image"): $OUT/$c.tar"
done
say "images ready in $((SECONDS - t0)) s"
