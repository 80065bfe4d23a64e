#!/usr/bin/env bash
# `make run`: reloader on this machine against the cluster of the current kubeconfig, as
# the current user, its webhooks registered with an out-of-cluster URL (kubebuilder's
# `make run`). The API server must reach RUN_URL: the default suits a local control plane;
# for a remote cluster give an address of this machine it can reach.
#
# env: RUN_ADDR (127.0.0.1:9443), RUN_URL (https://RUN_ADDR), RUN_METRICS_ADDR
#      (127.0.0.1:9090), RUN_FLAGS (more `reloader serve` flags), RELOADER, KUBECTL, WORK
# Ctrl-C stops reloader and removes the webhook configurations it registered.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
reloader=${RELOADER:-$root/target/debug/reloader}
kubectl=${KUBECTL:-$root/.tools/bin/kubectl}
work=${WORK:-$root/.tools/run}
addr=${RUN_ADDR:-127.0.0.1:9443}
url=${RUN_URL:-https://$addr}
metrics=${RUN_METRICS_ADDR:-127.0.0.1:9090}
host=${url#https://}
host=${host%%/*}
host=${host%:*}
host=${host#[}
host=${host%]}

rm -rf "$work" && mkdir -p "$work"
ca=$("$reloader" certs --san "$host" --out-dir "$work/certs" | tail -n 1)
"$reloader" webhook-config --url "$url" --ca-bundle "$ca" --out-dir "$work/manifests"
"$kubectl" apply -f "$work/manifests/crd.yaml"
hooks=("$work/manifests/validating-webhook-configuration.yaml" "$work/manifests/mutating-webhook-configuration.yaml")

cleanup() {
  for h in "${hooks[@]}"; do
    "$kubectl" delete --ignore-not-found -f "$h" >/dev/null || true
  done
}
trap cleanup EXIT
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM

# Without KUBECONFIG, reloader finds ~/.kube/config (or the in-cluster account) itself.
kubeconfig=()
[[ -n ${KUBECONFIG:-} ]] && kubeconfig=(--kubeconfig "${KUBECONFIG%%:*}")
# shellcheck disable=SC2086 # RUN_FLAGS is a list of flags
"$reloader" serve "${kubeconfig[@]}" \
  --tls-cert-file "$work/certs/tls.crt" --tls-key-file "$work/certs/tls.key" \
  --webhook-addr "$addr" --metrics-addr "$metrics" ${RUN_FLAGS:-} &
pid=$!
for h in "${hooks[@]}"; do
  "$kubectl" apply -f "$h"
done
echo "reloader runs here (pid $pid); webhooks call $url; metrics on http://$metrics/metrics"
wait "$pid" || true
wait "$pid" 2>/dev/null || true
