#!/usr/bin/env bash
# Runs the real kubectl against apiserver-sim and checks the behaviours the product's
# end-to-end tests rely on. Exits non-zero on the first failed expectation.
#
#   e2e/sim-kubectl-smoke.sh            # builds apiserver-sim if needed
#   APISERVER_SIM_BIN=path e2e/sim-kubectl-smoke.sh
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${APISERVER_SIM_BIN:-$repo_root/target/debug/apiserver-sim}"
if [[ -z "${APISERVER_SIM_BIN:-}" ]]; then
  (cd "$repo_root" && cargo build --quiet -p apiserver-sim)
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# Starts a process whose first stdout line is "listening on https://ADDR" and sets
# $started_addr. Runs in this shell (not a subshell) so the trap knows every pid.
start_and_wait() {
  local name="$1"; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=("$!")
  for _ in $(seq 1 200); do
    started_addr="$(sed -n '1s#^listening on https://##p' "$work/$name.out")"
    [[ -n "$started_addr" ]] && return 0
    sleep 0.05
  done
  cat "$work/$name.err" >&2
  fail "$name did not start"
}

start_and_wait deny-webhook "$bin" deny-webhook --listen 127.0.0.1:0 \
  --ca-out "$work/webhook-ca.pem" --dns-name deny.smoke.svc --message "configmaps are frozen"
webhook_addr="$started_addr"
start_and_wait apiserver-sim "$bin" --listen 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" \
  --service-endpoint "smoke/deny=$webhook_addr" --simulate-rollouts

k() { kubectl --kubeconfig "$work/kubeconfig" --cache-dir "$work/cache" "$@"; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"; }

step "create namespace"
k create namespace smoke >/dev/null
expect_eq "$(k get ns smoke -o jsonpath='{.status.phase}')" "Active" "namespace phase"

step "apply a Deployment"
cat >"$work/deploy.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: smoke
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        envFrom:
        - secretRef: {name: app-secret}
YAML
k apply --validate=false -f "$work/deploy.yaml" | grep -q "deployment.apps/web created" || fail "apply create"
k apply --validate=false -f "$work/deploy.yaml" | grep -q "deployment.apps/web unchanged" || fail "re-apply unchanged"
expect_eq "$(k get deploy web -n smoke -o jsonpath='{.metadata.generation}')" "1" "initial generation"
k get deploy -n smoke -o wide | grep -q "nginx:1.27" || fail "get -o wide shows the image"

step "secret through create --dry-run=client | apply, twice"
k create secret generic app-secret -n smoke --from-literal=password=one --dry-run=client -o yaml \
  | k apply --validate=false -f - | grep -q "secret/app-secret created" || fail "secret created"
k create secret generic app-secret -n smoke --from-literal=password=two --dry-run=client -o yaml \
  | k apply --validate=false -f - | grep -q "secret/app-secret configured" || fail "secret configured"
expect_eq "$(k get secret app-secret -n smoke -o jsonpath='{.data.password}' | base64 -d)" "two" "secret value"
expect_eq "$(k get deploy web -n smoke -o jsonpath='{.metadata.generation}')" "1" "generation after secret change"

step "patch --type=json bumps generation"
k patch deploy web -n smoke --type=json \
  -p '[{"op":"add","path":"/spec/template/metadata/annotations","value":{"example.com/restartedAt":"now"}}]' >/dev/null
expect_eq "$(k get deploy web -n smoke -o jsonpath='{.metadata.generation}')" "2" "generation after template patch"
k patch deploy web -n smoke --type=merge -p '{"metadata":{"labels":{"tier":"web"}}}' >/dev/null
expect_eq "$(k get deploy web -n smoke -o jsonpath='{.metadata.generation}')" "2" "generation after label patch"
k patch deploy web -n smoke --type=strategic \
  -p '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}}}' >/dev/null
expect_eq "$(k get deploy web -n smoke -o jsonpath='{.spec.template.spec.containers[0].image}')" "nginx:1.28" "strategic patch"
expect_eq "$(k get deploy web -n smoke -o jsonpath='{.spec.template.spec.containers[0].envFrom[0].secretRef.name}')" "app-secret" "strategic patch kept envFrom"
k get deploy -n smoke -l tier=web -o name | grep -q "deployment.apps/web" || fail "label selector"
k rollout status deploy/web -n smoke --timeout=10s | grep -q "successfully rolled out" || fail "rollout status"

step "replace and delete"
k get cm -n smoke 2>&1 | grep -q "No resources found" || fail "empty configmap list"
k create configmap settings -n smoke --from-literal=a=1 >/dev/null
k get cm settings -n smoke -o yaml | sed 's/a: "1"/a: "2"/' | k replace --validate=false -f - >/dev/null
expect_eq "$(k get cm settings -n smoke -o jsonpath='{.data.a}')" "2" "replace"
k delete cm settings -n smoke | grep -q 'configmap "settings" deleted' || fail "delete"

step "CRD and its resources by short name"
cat >"$work/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wdg]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer}
YAML
k apply --validate=false -f "$work/crd.yaml" >/dev/null
cat <<'YAML' | k apply --validate=false -f - >/dev/null
apiVersion: example.com/v1
kind: Widget
metadata: {name: gadget, namespace: smoke}
spec: {size: 3}
YAML
k get wdg -n smoke | grep -Eq "^gadget +3$" || fail "custom resource by short name with printer column"
if k apply --validate=false -f - >/dev/null 2>"$work/invalid.err" <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: broken, namespace: smoke}
spec: {}
YAML
then fail "schema validation accepted a widget without size"; fi
grep -q "spec.size: Required value" "$work/invalid.err" || fail "schema error message: $(cat "$work/invalid.err")"

step "a denying validating webhook"
ca_bundle="$(base64 -w0 <"$work/webhook-ca.pem")"
cat <<YAML | k apply --validate=false -f - >/dev/null
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: deny-configmaps}
webhooks:
- name: deny.smoke.example.com
  clientConfig:
    service: {namespace: smoke, name: deny, path: /validate}
    caBundle: $ca_bundle
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}
  namespaceSelector:
    matchLabels: {kubernetes.io/metadata.name: smoke}
  sideEffects: None
  admissionReviewVersions: [v1]
YAML
if k create configmap blocked -n smoke --from-literal=a=1 >/dev/null 2>"$work/denied.err"; then
  fail "the webhook did not deny"
fi
grep -q 'admission webhook "deny.smoke.example.com" denied the request: configmaps are frozen' "$work/denied.err" \
  || fail "denial message: $(cat "$work/denied.err")"
k create configmap allowed -n default --from-literal=a=1 >/dev/null || fail "namespaceSelector should skip default"

echo "kubectl smoke test passed"
