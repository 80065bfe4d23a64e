# reloader — build, test and run everything from here.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
TOOLS := $(CURDIR)/.tools
VENV := $(TOOLS)/venv
KUBERNETES_VALIDATE := $(VENV)/bin/kubernetes-validate

.PHONY: build test lint fmt unit crds check-crds validate-manifests tools

build:
	$(CARGO) build --workspace --all-targets

## test: every test — formatting, lints, unit and router tests, manifests, simulator and scenarios.
test: lint unit validate-manifests

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) nextest run --workspace --no-fail-fast

fmt:
	$(CARGO) fmt --all

## crds: regenerate webhook-config/crd.yaml from the Rust types.
crds:
	$(CARGO) run -q -- crd > webhook-config/crd.yaml

## validate-manifests: every manifest against the Kubernetes schemas, offline and strict.
validate-manifests: $(KUBERNETES_VALIDATE)
	$(KUBERNETES_VALIDATE) --strict --quiet webhook-config/*.yaml

$(KUBERNETES_VALIDATE):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet 'kubernetes-validate==1.37.0'

tools: $(KUBERNETES_VALIDATE)
