# reloader — build, test and run everything from here.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: build test lint fmt unit

build:
	$(CARGO) build --workspace --all-targets

## test: every test: formatting, lints, unit, router, simulator and scenario tests.
test: lint unit

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) nextest run --workspace --no-fail-fast

fmt:
	$(CARGO) fmt --all
