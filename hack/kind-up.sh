#!/usr/bin/env bash
# `make kind-up`: mecqkd on kind, for a machine with Docker (it cannot run where there is no Docker
# engine, e.g. this project's CI). Creates the cluster, builds the five images from their
# Dockerfiles, loads them, and installs the chart with the lab profile. OPENWHISK=1 also deploys a
# real OpenWhisk (openwhisk-deploy-kube, from OPENWHISK_CHART, a checkout of that repository's
# helm/openwhisk) for a MecHost of your own; the lab's whisk-sim hosts stay.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLUSTER=${KIND_CLUSTER:-mecqkd}
NS=${NAMESPACE:-mec}
TAG=${IMAGE_TAG:-0.1.0}
HELM=${HELM:-${MECQKD_CACHE:-$HOME/.cache/mecqkd}/bin/helm-${HELM_VERSION:-v3.22.0}/helm}
for tool in docker kind kubectl "$HELM"; do
  command -v "$tool" >/dev/null || { echo "kind-up: $tool is needed" >&2; exit 1; }
done
kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --wait 120s
for c in operator lcmp kme-sim whisk-sim host-sae; do
  docker build -f "$ROOT/$c/Dockerfile" -t "localhost/mecqkd/$c:$TAG" "$ROOT"
  kind load docker-image --name "$CLUSTER" "localhost/mecqkd/$c:$TAG"
done
docker pull docker.io/library/redis:7
docker tag docker.io/library/redis:7 "localhost/mecqkd/redis:$TAG"
kind load docker-image --name "$CLUSTER" "localhost/mecqkd/redis:$TAG"
if [ "${OPENWHISK:-0}" = 1 ]; then
  kubectl label node "$CLUSTER-control-plane" openwhisk-role=invoker --overwrite
  "$HELM" upgrade --install owdev "${OPENWHISK_CHART:?set OPENWHISK_CHART to openwhisk-deploy-kube/helm/openwhisk}" \
    --namespace openwhisk --create-namespace --set whisk.ingress.type=NodePort --set whisk.ingress.apiHostName=localhost
fi
"$HELM" upgrade --install lab "$ROOT/charts/mecqkd" --namespace "$NS" --create-namespace \
  --set lab.enabled=true --set images.tag="$TAG" --wait --timeout 5m
kubectl -n "$NS" get pods,mec
echo "Mx2: kubectl -n $NS port-forward svc/lab-mecqkd-lcmp 8443:8443, then http://127.0.0.1:8443/dev_app/v1/app_list"
