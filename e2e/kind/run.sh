#!/usr/bin/env bash
# `make e2e-kind`: reloader's image in a kind cluster, installed by the Helm chart in both
# certificate modes, checked by e2e/installed-check.sh (the same kubectl-only check the
# real-control-plane tests run). Needs a Docker engine; this repository's CI has none, so
# it runs on developers' machines and in CI systems with Docker (see e2e/kind/README.md).
#
# env: KIND (built from e2e/kind/go.mod by make), HELM, KUBECTL, IMG (reloader:e2e),
#      CERT_MANAGER_VERSION (v1.19.1), KEEP_CLUSTER=1 leaves the cluster for debugging.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
kind=${KIND:?KIND is the kind binary (make e2e-kind builds it)}
helm=${HELM:-helm}
kubectl=${KUBECTL:-kubectl}
img=${IMG:-reloader:e2e}
cert_manager=${CERT_MANAGER_VERSION:-v1.19.1}
cluster=reloader-e2e
work=$(mktemp -d)
export KUBECONFIG=$work/kubeconfig

command -v docker >/dev/null || { echo "make e2e-kind needs a Docker engine (docker on PATH)" >&2; exit 1; }
cleanup() {
  if [[ ${KEEP_CLUSTER:-} != 1 ]]; then "$kind" delete cluster --name "$cluster" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n==> %s\n' "$*"; }
repo=${img%:*}
tag=${img##*:}

say "building $img"
make -C "$root" image IMG="$img"
say "creating the kind cluster $cluster"
"$kind" create cluster --config "$root/e2e/kind/kind-config.yaml" --kubeconfig "$KUBECONFIG" --wait 120s
"$kind" load docker-image "$img" --name "$cluster"

check() {
  "$kubectl" -n reloader rollout status deployment/reloader --timeout=180s
  KUBECTL=$kubectl CHECK_TIMEOUT=120 bash "$root/e2e/installed-check.sh"
}

say "mode 1: self-signed certificate (reloader certs), chart with tls.secretName"
ca=$("$root/target/debug/reloader" certs --namespace reloader --out-dir "$work/certs" | tail -n 1)
"$kubectl" create namespace reloader
"$kubectl" -n reloader create secret tls reloader-tls --cert "$work/certs/tls.crt" --key "$work/certs/tls.key"
"$helm" install reloader "$root/helm/reloader" -n reloader --wait --timeout 5m \
  --set image.repository="$repo" --set image.tag="$tag" --set image.pullPolicy=Never \
  --set certManager.enabled=false --set tls.secretName=reloader-tls --set tls.caBundle="$ca"
check
"$helm" uninstall reloader -n reloader --wait
"$kubectl" delete namespace reloader --wait

say "mode 2: cert-manager issues the certificate (the chart's default)"
"$helm" install cert-manager cert-manager --repo https://charts.jetstack.io --version "$cert_manager" \
  -n cert-manager --create-namespace --set crds.enabled=true --wait --timeout 5m
"$helm" install reloader "$root/helm/reloader" -n reloader --create-namespace --wait --timeout 5m \
  --set image.repository="$repo" --set image.tag="$tag" --set image.pullPolicy=Never
check
say "e2e-kind passed in both modes"
