#!/usr/bin/env bash
# `make deploy` / `make undeploy`: reloader into (or out of) the cluster of the current
# kubeconfig as plain manifests, the image pinned, with a self-signed serving certificate
# (a fresh CA per deploy; the webhooks' caBundle is that CA).
#
# Usage: deploy.sh apply|delete   env: IMG, NAMESPACE (reloader), RELOADER, KUBECTL, WORK
set -euo pipefail

action=${1:?usage: deploy.sh apply|delete}
root=$(cd "$(dirname "$0")/../.." && pwd)
reloader=${RELOADER:-$root/target/debug/reloader}
kubectl=${KUBECTL:-$root/.tools/bin/kubectl}
namespace=${NAMESPACE:-reloader}
work=${WORK:-$root/.tools/deploy}
files=(crd rbac service deployment validating-webhook-configuration mutating-webhook-configuration)

case $action in
apply)
  : "${IMG:?IMG=registry/reloader:tag is required}"
  rm -rf "$work" && mkdir -p "$work"
  ca=$("$reloader" certs --namespace "$namespace" --out-dir "$work/certs" | tail -n 1)
  "$kubectl" create namespace "$namespace" --dry-run=client -o yaml | "$kubectl" apply -f -
  "$kubectl" -n "$namespace" create secret tls reloader-tls \
    --cert "$work/certs/tls.crt" --key "$work/certs/tls.key" --dry-run=client -o yaml \
    | "$kubectl" apply -f -
  "$reloader" webhook-config --namespace "$namespace" --ca-bundle "$ca" --image "$IMG" \
    --out-dir "$work/manifests"
  for f in "${files[@]}"; do
    "$kubectl" apply -f "$work/manifests/$f.yaml"
  done
  echo "reloader deployed to namespace $namespace with image $IMG"
  ;;
delete)
  mkdir -p "$work/manifests"
  # Rendered again, so undeploy works from a clean checkout too; the CA does not matter.
  "$reloader" webhook-config --namespace "$namespace" --image "${IMG:-unused}" \
    --out-dir "$work/manifests"
  for ((i = ${#files[@]} - 1; i >= 0; i--)); do
    "$kubectl" delete --ignore-not-found -f "$work/manifests/${files[i]}.yaml"
  done
  "$kubectl" -n "$namespace" delete secret reloader-tls --ignore-not-found
  echo "reloader removed from namespace $namespace (the namespace itself is kept)"
  ;;
*)
  echo "usage: deploy.sh apply|delete" >&2
  exit 2
  ;;
esac
