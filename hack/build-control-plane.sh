#!/usr/bin/env bash
# Builds pinned kube-apiserver, kubectl and etcd (and, when named, helm, the node's daemons, CoreDNS
# and the pause image) from Go module sources into a per-machine cache outside the clone.
# Usage: build-control-plane.sh [--regenerate] [etcd k8s helm node coredns pause]. Wrapper modules (go.mod + go.sum) are committed under tools/, so a build needs
# only the Go module proxy; `--regenerate` re-derives them from the pinned versions (when bumping).
# Idempotent: a version whose stamp file exists is not rebuilt. Resumable: Go's module and build
# caches keep everything an interrupted run already fetched or compiled.
set -euo pipefail
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

K8S=${K8S_VERSION:-v1.36.3}
ETCD=${ETCD_VERSION:-v3.6.8}
HELM=${HELM_VERSION:-v3.22.0}
COREDNS=${COREDNS_VERSION:-v1.15.0}
CACHE=${MECQKD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mecqkd}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REGEN=
PARTS=()
for a in "$@"; do if [ "$a" = --regenerate ]; then REGEN=$a; else PARTS+=("$a"); fi; done
[ ${#PARTS[@]} -gt 0 ] || PARTS=(etcd k8s)

say() { printf '[control-plane %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# go build is silent for minutes on a cold cache: say every 30 s what is being built, for how long,
# and how many packages it has compiled (go build -v names each one as it goes).
go_build() {
  local what=$1 t0=$SECONDS log rc=0 beat
  shift
  log=$(mktemp)
  ( while sleep 30; do say "still building $what: $((SECONDS - t0)) s, $(wc -l <"$log") packages compiled"; done ) &
  beat=$!
  go build -v "$@" 2>"$log" || rc=$?
  kill "$beat" 2>/dev/null; wait "$beat" 2>/dev/null || true
  if [ "$rc" != 0 ]; then grep -v '^[a-zA-Z0-9._/-]*$' "$log" >&2 || cat "$log" >&2; fi
  rm -f "$log"
  return "$rc"
}

command -v go >/dev/null || { say "go is required to build the control plane"; exit 1; }

# The wrapper module in the current directory: the go.mod + go.sum committed in TOOLS, or, with
# --regenerate (or none committed yet), derived afresh from the pinned versions and committed back.
# PREPARE, when named, edits the new go.mod before its tools are added.
wrapper_module() {
  local what=$1 tools=$2 prepare=$3
  shift 3
  if [ "$REGEN" = "--regenerate" ] || [ ! -f "$tools/go.mod" ]; then
    say "deriving wrapper module for $what"
    rm -f go.mod go.sum
    go mod init "mecqkd.local/$(basename "$tools")" >/dev/null 2>&1
    [ -z "$prepare" ] || "$prepare"
    go get -tool "$@"
    go mod tidy
    mkdir -p "$tools"; cp go.mod go.sum "$tools/"
  else
    cp "$tools/go.mod" "$tools/go.sum" .
  fi
}

# kubernetes' own go.mod requires its staging modules at v0.0.0 (replaced by ./staging upstream):
# the wrapper takes its go version and godebug, and the staging modules' published twins.
k8s_prepare() {
  local kmod gd m stg=v0.${K8S#v1.}
  kmod=$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  go mod edit -go="$(sed -n 's/^go //p' "$kmod")"
  gd=$(sed -n 's/^godebug //p' "$kmod"); [ -z "$gd" ] || go mod edit -godebug="$gd"
  for m in $(sed -n 's|^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*|\1|p' "$kmod"); do
    go mod edit -replace="$m=$m@$stg"
  done
}

build_k8s() {
  local bin=$CACHE/bin/k8s-$K8S work=$CACHE/src/k8s-$K8S tools=$ROOT/tools/k8sbins
  if [ -f "$bin/.stamp" ] && [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kubectl" ]; then
    say "kube-apiserver + kubectl $K8S cached in $bin"; return
  fi
  mkdir -p "$bin" "$work"
  cd "$work"
  wrapper_module "k8s.io/kubernetes@$K8S" "$tools" k8s_prepare \
    "k8s.io/kubernetes/cmd/kube-apiserver@$K8S" "k8s.io/kubernetes/cmd/kubectl@$K8S" "${NODE_CMDS[@]/%/@$K8S}"
  for c in kube-apiserver kubectl; do
    say "building $c $K8S (the first cold build takes several minutes)"
    local t0=$SECONDS
    go_build "$c" -trimpath -ldflags "$(k8s_ldflags)" -o "$bin/$c.tmp" "k8s.io/kubernetes/cmd/$c"
    mv "$bin/$c.tmp" "$bin/$c"
    say "built $c in $((SECONDS - t0)) s"
  done
  touch "$bin/.stamp"
}

k8s_ldflags() {
  local ldf="-s -w" p minor
  minor=$(echo "$K8S" | cut -d. -f2)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=$K8S -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ldf="$ldf -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$ldf"
}

# The node's daemons (make cluster) come from the same wrapper module as kube-apiserver, so they
# share its resolved dependencies and most of its compiled packages.
NODE_CMDS=(k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy)
build_node() {
  local bin=$CACHE/bin/k8s-$K8S work=$CACHE/src/k8s-$K8S tools=$ROOT/tools/k8sbins c done=1
  for c in "${NODE_CMDS[@]}"; do [ -x "$bin/${c##*/}" ] || done=; done
  if [ -f "$bin/.stamp-node" ] && [ -n "$done" ]; then say "node daemons $K8S cached in $bin"; return; fi
  mkdir -p "$bin" "$work"
  cd "$work"
  cp "$tools/go.mod" "$tools/go.sum" .
  for c in "${NODE_CMDS[@]}"; do
    local name=${c##*/} t0=$SECONDS
    say "building $name $K8S"
    go_build "$name" -trimpath -ldflags "$(k8s_ldflags)" -o "$bin/$name.tmp" "$c"
    mv "$bin/$name.tmp" "$bin/$name"
    say "built $name in $((SECONDS - t0)) s"
  done
  touch "$bin/.stamp-node"
}

# A one-layer OCI image (FROM scratch: only the static binary FILE at /NAME) written as an OCI
# archive named REF, from which make cluster imports it into its containerd. umoci, not buildah:
# no container storage and nothing under /var/lib/containers.
scratch_image() {
  local file=$1 ref=$2 out=$3 layout rootfs name
  name=$(basename "$file")
  layout=$(mktemp -d) rootfs=$(mktemp -d)
  cp "$file" "$rootfs/$name"
  umoci init --layout "$layout/oci"
  umoci new --image "$layout/oci:img"
  umoci insert --image "$layout/oci:img" "$rootfs/$name" "/$name"
  umoci config --image "$layout/oci:img" --config.entrypoint "/$name" --architecture amd64 --os linux
  skopeo copy --quiet "oci:$layout/oci:img" "oci-archive:$out.tmp:$ref"
  mv "$out.tmp" "$out"
  rm -rf "$layout" "$rootfs"
}

build_coredns() {
  local bin=$CACHE/bin/coredns-$COREDNS work=$CACHE/src/coredns-$COREDNS tools=$ROOT/tools/corednsbin
  if [ -f "$bin/.stamp" ] && [ -x "$bin/coredns" ] && [ -f "$bin/coredns.tar" ]; then
    say "CoreDNS $COREDNS cached in $bin"; return
  fi
  mkdir -p "$bin" "$work"
  cd "$work"
  wrapper_module "CoreDNS $COREDNS" "$tools" "" "github.com/coredns/coredns@$COREDNS"
  say "building CoreDNS $COREDNS"
  local t0=$SECONDS
  go_build coredns -trimpath -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS" \
    -o "$bin/coredns.tmp" github.com/coredns/coredns
  mv "$bin/coredns.tmp" "$bin/coredns"
  scratch_image "$bin/coredns" "localhost/mecqkd/coredns:$COREDNS" "$bin/coredns.tar"
  say "built CoreDNS in $((SECONDS - t0)) s: $bin/coredns.tar"
  touch "$bin/.stamp"
}

# The pod sandbox image: kubernetes' own pause.c, compiled static, as upstream's image does.
build_pause() {
  local bin=$CACHE/bin/pause-$K8S src tag
  if [ -f "$bin/.stamp" ] && [ -f "$bin/pause.tar" ]; then say "pause image cached in $bin"; return; fi
  command -v gcc >/dev/null || { say "gcc is required to build the pause image (make node-deps)"; exit 1; }
  src=$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')/build/pause
  tag=$(sed -n 's/^TAG ?= //p' "$src/Makefile")
  mkdir -p "$bin"
  gcc -Os -Wall -Werror -static -DVERSION="v$tag-mecqkd" -o "$bin/pause" "$src/linux/pause.c"
  scratch_image "$bin/pause" "localhost/mecqkd/pause:$tag" "$bin/pause.tar"
  echo "localhost/mecqkd/pause:$tag" >"$bin/image"
  say "built the pause image $tag: $bin/pause.tar"
  touch "$bin/.stamp"
}

build_etcd() {
  local bin=$CACHE/bin/etcd-$ETCD work=$CACHE/src/etcd-$ETCD tools=$ROOT/tools/etcdbin
  if [ -f "$bin/.stamp" ] && [ -x "$bin/etcd" ]; then say "etcd $ETCD cached in $bin"; return; fi
  mkdir -p "$bin" "$work"
  cd "$work"
  wrapper_module "etcd $ETCD" "$tools" "" "go.etcd.io/etcd/server/v3@$ETCD"
  say "building etcd $ETCD"
  local t0=$SECONDS
  go_build etcd -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$bin/etcd.tmp" "$bin/etcd"
  say "built etcd in $((SECONDS - t0)) s"
  touch "$bin/.stamp"
}

# helm v3 assumes Kubernetes 1.20 for lint/template unless told the client-go minor it was built
# with; it is read from the wrapper's resolved k8s.io/client-go version, so a bump stays right.
build_helm() {
  local bin=$CACHE/bin/helm-$HELM work=$CACHE/src/helm-$HELM tools=$ROOT/tools/helmbin km ldf
  if [ -f "$bin/.stamp" ] && [ -x "$bin/helm" ]; then say "helm $HELM cached in $bin"; return; fi
  mkdir -p "$bin" "$work"
  cd "$work"
  wrapper_module "helm $HELM" "$tools" "" "helm.sh/helm/v3/cmd/helm@$HELM"
  km=$(go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)
  ldf="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM -X helm.sh/helm/v3/internal/version.metadata="
  for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldf="$ldf -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$km"
  done
  say "building helm $HELM (client-go minor $km)"
  local t0=$SECONDS
  go_build helm -trimpath -ldflags "$ldf" -o "$bin/helm.tmp" helm.sh/helm/v3/cmd/helm
  mv "$bin/helm.tmp" "$bin/helm"
  say "built helm in $((SECONDS - t0)) s"
  touch "$bin/.stamp"
}

t0=$SECONDS
for part in "${PARTS[@]}"; do
  case $part in
    etcd) build_etcd ;; k8s) build_k8s ;; helm) build_helm ;;
    node) build_node ;; coredns) build_coredns ;; pause) build_pause ;;
    *) say "unknown part '$part' (etcd, k8s, helm, node, coredns, pause)"; exit 2 ;;
  esac
done
say "${PARTS[*]} ready in $((SECONDS - t0)) s under $CACHE/bin"
