# mecqkd: the one entry point. `make demo` and `make test` work on a fresh machine: they install what
# they need (npm packages, Debian packages, the Go-built control plane, cached outside the clone).
SHELL := /bin/bash
.DEFAULT_GOAL := help

K8S_VERSION  ?= v1.36.3
ETCD_VERSION ?= v3.6.8
HELM_VERSION ?= v3.22.0
MECQKD_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/mecqkd
export K8S_VERSION ETCD_VERSION HELM_VERSION MECQKD_CACHE
export MECQKD_ROOT := $(CURDIR)

APT_PACKAGES := redis-server prometheus python3-venv chromium
NODE := node --import tsx

.PHONY: help deps node-deps system-deps control-plane helm fuzz-deps crds crds-check dashboards dashboards-check dashboard-pictures image-deps images test-cluster kind-up build typecheck lint test test-unit bench lab demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

deps: node-deps system-deps control-plane helm fuzz-deps ## everything tests and the demo need

node-deps: node_modules/.package-lock.json
# `npm install` from the committed lockfile, not `npm ci`: the registry reachable here does not serve
# other platforms' optional binaries (e.g. @biomejs/cli-darwin-x64), so they are absent from the
# lockfile, and `npm ci` rejects a lockfile without them.
node_modules/.package-lock.json: package-lock.json package.json $(wildcard */package.json)
	npm install --no-audit --no-fund
	@touch $@

# Only a service installed just now is stopped (Debian starts it): redis-servers other runs started
# keep running when e.g. only chromium was missing.
system-deps: ## Debian packages (redis-server, prometheus, python3-venv, chromium), installed only when missing
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  for s in redis-server prometheus; do case " $$missing " in *" $$s "*) \
	    $$SUDO systemctl disable --now $$s >/dev/null 2>&1 || true; pkill -x $$s 2>/dev/null || true;; esac; done; \
	fi

control-plane: ## build kube-apiserver, kubectl and etcd from Go module sources (cached)
	@bash hack/build-control-plane.sh

helm: ## build helm from Go module sources (cached like the control plane; the chart tests use it)
	@bash hack/build-control-plane.sh helm

SCHEMATHESIS_VENV := $(MECQKD_CACHE)/schemathesis-venv
fuzz-deps: $(SCHEMATHESIS_VENV)/bin/st ## schemathesis (MEC 016 schema fuzzing) in a virtualenv under the cache
# hypothesis pinned: newer releases removed an API schemathesis 3.39 uses
$(SCHEMATHESIS_VENV)/bin/st:
	python3 -m venv $(SCHEMATHESIS_VENV)
	$(SCHEMATHESIS_VENV)/bin/pip install -q 'schemathesis==3.39.16' 'hypothesis==6.122.3'

crds: node-deps ## regenerate crds/*.yaml and the TS types from the zod schemas
	$(NODE) crds/src/generate.ts

crds-check: node-deps ## fail when the committed CRD YAML (crds/ and the chart's crds/) is stale
	$(NODE) crds/src/generate.ts --check

IMAGE_PACKAGES := buildah skopeo umoci
image-deps: ## Debian packages make images needs (buildah, skopeo, umoci), installed only when missing
	@missing=""; for p in $(IMAGE_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

images: image-deps ## build every component's Dockerfile with buildah on a local Node base (OCI archives in the cache)
	@bash hack/images.sh

# Root only (it starts a node: network namespace, containerd, kubelet); not part of make test.
test-cluster: deps build images cluster-bins ## the chart on a real one-node cluster: helm install, the Mx2 scenario, upgrade, failover, uninstall
	$(NODE) charts/test/cluster/run.ts

kind-up: ## with Docker and kind (not runnable here): cluster, images, helm install of the lab profile
	@bash hack/kind-up.sh

dashboards: node-deps ## regenerate the chart's Grafana dashboards (charts/mecqkd/dashboards) from charts/src/dashboards
	$(NODE) charts/src/dashboards/generate.ts

dashboards-check: node-deps ## fail when the committed dashboard JSON is stale
	$(NODE) charts/src/dashboards/generate.ts --check

dashboard-pictures: deps build ## redraw docs/dashboards/*.svg from a demo-like run scraped by Prometheus
	MECQKD_DASHBOARD_SVG_DIR=$(CURDIR)/docs/dashboards npx mocha charts/test/dashboards.test.ts

typecheck: node-deps
	npx tsc -p tsconfig.json --noEmit

lint: node-deps ## biome lint + format check
	npx biome check .

build: node-deps ## bundle the operator, LCMP and mecqkd CLI binaries (operator/dist, lcmp/dist, sdk/dist); the rest runs through tsx
	$(NODE) operator/build.ts
	$(NODE) lcmp/build.ts
	$(NODE) sdk/build.ts

TEST_SPEC ?= '*/test/**/*.test.ts'

test: deps build crds-check dashboards-check typecheck lint ## the whole test suite, against a real control plane and redis
	@mkdir -p .run && bash hack/check-no-leaks.sh snapshot .run/processes-before
	npx mocha $(TEST_SPEC)
	bash hack/check-no-leaks.sh check .run/processes-before

bench: deps build ## benchmarks: prints tables, writes .bench/*.json
	@for f in $$(ls */bench/*.bench.ts 2>/dev/null); do echo ">> $$f"; $(NODE) $$f || exit 1; done

lab: node-deps ## placement-lab sweep: docs/placement-lab.md, its SVG plots and CSV (LAB_WORKERS=2)
	$(NODE) placement-lab/src/lab.ts

demo: deps build ## the hospital scenario on a local MEC system (KEEP=1 leaves it running)
	$(NODE) examples/src/demo.ts $(if $(filter 1,$(KEEP)),--keep)

clean: ## remove build outputs (not the control-plane cache)
	rm -rf .bench .run

.PHONY: chaos soak
CHAOS_MINUTES ?= 20
SOAK_MINUTES ?= 30
chaos: deps build ## long chaos profile (CHAOS_MINUTES=20, CHAOS_SEED): fault table, .chaos/*.json
	CHAOS_MINUTES=$(CHAOS_MINUTES) $(NODE) chaos/src/cli.ts

soak: deps build ## steady workload for SOAK_MINUTES=30: RSS, heap, fds, p99 slopes, .bench/soak.json
	SOAK_MINUTES=$(SOAK_MINUTES) $(NODE) chaos/src/soak.ts

# --- make cluster (issue 15): a real one-node Kubernetes in a network namespace of its own -------
.PHONY: cluster-deps cluster-bins cluster cluster-smoke
CLUSTER_PACKAGES := containerd runc containernetworking-plugins conntrack iptables socat iproute2 util-linux umoci skopeo gcc libc6-dev
# Debian starts no service here (policy-rc.d), and where it would, containerd is stopped again: the
# cluster runs a containerd of its own, with its own socket and state.
cluster-deps: ## Debian packages the one-node cluster needs (containerd, runc, CNI plugins, conntrack, ...), installed only when missing
	@missing=""; for p in $(CLUSTER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  case " $$missing " in *" containerd "*) $$SUDO systemctl disable --now containerd >/dev/null 2>&1 || true;; esac; \
	fi

cluster-bins: control-plane cluster-deps ## build kubelet, controller-manager, scheduler, kube-proxy, CoreDNS and the pause image from sources (cached)
	@bash hack/build-control-plane.sh node pause coredns

CLUSTER_ARGS ?=
cluster: node-deps cluster-bins ## a real one-node Kubernetes (needs root); imports ~/.cache/mecqkd/images, runs until Ctrl-C
	$(NODE) localenv/src/cluster/cli.ts $(CLUSTER_ARGS)

cluster-smoke: node-deps cluster-bins ## the one-node cluster's own smoke test (needs root; not part of make test)
	npx mocha 'localenv/test/cluster/*.cluster.ts'
