#!/usr/bin/env bash
# Checks an installed reloader the way a user would, with kubectl only: a Deployment that
# follows a Secret (stakater's `auto` annotation) rolls when the Secret changes; one named
# by a ReloaderConfig rolls when its ConfigMap changes; a ReloaderConfig with a bad target
# is refused by the webhook. The same script runs against any cluster: the kind suite
# (`make e2e-kind`, reloader in a pod) and the real control plane
# (tests/control_plane/release.rs, the binary standing in for the pod).
#
# env: KUBECONFIG (the cluster), KUBECTL (kubectl), CHECK_TIMEOUT (seconds, 60)
set -euo pipefail

kubectl_bin=${KUBECTL:-kubectl}
k() { "$kubectl_bin" "$@"; }
timeout=${CHECK_TIMEOUT:-60}
ns="reloader-check-$$-$RANDOM"
trap 'k delete namespace "$ns" --wait=false >/dev/null 2>&1 || true' EXIT

say() { printf '==> %s\n' "$*"; }
fail() { echo "installed-check: $*" >&2; exit 1; }
# wait_for DESCRIPTION COMMAND...: until COMMAND succeeds, or fail after $timeout seconds.
wait_for() {
  local what=$1 deadline=$((SECONDS + timeout))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out waiting for $what"
    sleep 1
  done
}
# change_and_wait WHAT KIND NAME KEY=VALUE DEPLOYMENT: a new value for a source, then its
# follower's rollout (generation 2).
change_and_wait() {
  say "changing $3: $5 ($1) rolls"
  # shellcheck disable=SC2086 # KIND may be two words (secret generic)
  k -n "$ns" create $2 "$3" "--from-literal=$4" --dry-run=client -o yaml | k apply -f - >/dev/null
  wait_for "$5 to roll" generation_is "$5" 2
}
generation_is() { [[ $(k -n "$ns" get deployment "$1" -o jsonpath='{.metadata.generation}') == "$2" ]]; }

k create namespace "$ns" >/dev/null
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: $ns}
stringData: {password: first}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: $ns}
data: {mode: first}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: $ns
  annotations: {reloader.stakater.com/auto: "true"}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        envFrom: [{secretRef: {name: db}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: $ns}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        envFrom: [{configMapRef: {name: settings}}]
---
apiVersion: reloader.stakater.com/v1alpha1
kind: ReloaderConfig
metadata: {name: api, namespace: $ns}
spec:
  watchedResources: {configMaps: [settings]}
  targets: [{kind: Deployment, name: api}]
YAML
say "created a Secret, a ConfigMap, two Deployments and a ReloaderConfig in $ns"
generation_is web 1 || fail "web was changed before its Secret was"

change_and_wait "stakater's auto annotation" "secret generic" db password=second web
hash=$(k -n "$ns" get deployment web -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="STAKATER_DB_SECRET")].value}')
[[ $hash =~ ^([0-9a-f]{8}:)?[0-9a-f]{64}$ ]] || fail "web records no hash of the Secret (got '$hash')"

change_and_wait "the ReloaderConfig's target" configmap settings mode=second api
generation_is web 2 || fail "web rolled for a ConfigMap it does not follow"

say "a ReloaderConfig targeting another namespace is refused"
if out=$(k apply -f - 2>&1 <<YAML
apiVersion: reloader.stakater.com/v1alpha1
kind: ReloaderConfig
metadata: {name: elsewhere, namespace: $ns}
spec:
  watchedResources: {secrets: [db]}
  targets: [{kind: Deployment, name: web, namespace: kube-system}]
YAML
); then
  fail "a ReloaderConfig with a target in another namespace was admitted: $out"
fi
[[ $out == *denied* || $out == *Invalid* || $out == *invalid* ]] || fail "refused, but not by validation: $out"
say "installed-check passed"
