#!/usr/bin/env bash
# Runs the real kubectl against apiserver-sim and checks the behaviours the product's
# end-to-end tests rely on. Exits non-zero on the first failed expectation.
#
#   e2e/sim-kubectl-smoke.sh            # builds apiserver-sim if needed
#   APISERVER_SIM_BIN=path e2e/sim-kubectl-smoke.sh
#   KUBECTL=path e2e/sim-kubectl-smoke.sh                # another kubectl (default: kubectl)
#   SMOKE_KUBECONFIG=path e2e/sim-kubectl-smoke.sh       # against another API server
#
# With SMOKE_KUBECONFIG the same checks run against that server (a real kube-apiserver,
# say) instead of a fresh simulator, except the ones that need the simulator's own
# --simulate-rollouts; the webhook is then registered by URL (127.0.0.1) instead of
# through --service-endpoint. The apiserver-sim binary is still used for its
# deny-webhook. What the script creates there is deleted at exit.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${APISERVER_SIM_BIN:-$repo_root/target/debug/apiserver-sim}"
if [[ -z "${APISERVER_SIM_BIN:-}" ]]; then
  (cd "$repo_root" && cargo build --quiet -p apiserver-sim)
fi
kubectl_bin="${KUBECTL:-kubectl}"
real="${SMOKE_KUBECONFIG:-}"

work="$(mktemp -d)"
pids=()
# On a shared server every run gets its own namespace.
ns="smoke"
[[ -n "$real" ]] && ns="smoke-$$-$RANDOM"
cleanup() {
  if [[ -n "$real" ]]; then
    k delete validatingwebhookconfiguration "deny-configmaps-$ns" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    k delete configmap "allowed-$ns" -n default --ignore-not-found >/dev/null 2>&1 || true
    k delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# Pipes into `grep PATTERN >/dev/null`, never `grep -q`: -q stops reading at the first match,
# and under pipefail the writer's SIGPIPE would fail the pipe when its output is long.
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
  --ca-out "$work/webhook-ca.pem" --dns-name "deny.$ns.svc" --message "configmaps are frozen"
webhook_addr="$started_addr"
if [[ -n "$real" ]]; then
  kubeconfig="$real"
  echo "--- against the API server of $real (namespace $ns)"
else
  kubeconfig="$work/kubeconfig"
  start_and_wait apiserver-sim "$bin" --listen 127.0.0.1:0 --kubeconfig-out "$kubeconfig" \
    --service-endpoint "$ns/deny=$webhook_addr" --simulate-rollouts
fi

k() { "$kubectl_bin" --kubeconfig "$kubeconfig" --cache-dir "$work/cache" "$@"; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"; }

step "create namespace"
k create namespace "$ns" >/dev/null
expect_eq "$(k get ns "$ns" -o jsonpath='{.status.phase}')" "Active" "namespace phase"

step "apply a Deployment"
cat >"$work/deploy.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: $ns
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
k apply -f "$work/deploy.yaml" | grep "deployment.apps/web created" >/dev/null || fail "apply create"
k apply -f "$work/deploy.yaml" | grep "deployment.apps/web unchanged" >/dev/null || fail "re-apply unchanged"
expect_eq "$(k get deploy web -n "$ns" -o jsonpath='{.metadata.generation}')" "1" "initial generation"
k get deploy -n "$ns" -o wide | grep "nginx:1.27" >/dev/null || fail "get -o wide shows the image"

step "secret through create --dry-run=client | apply, twice"
k create secret generic app-secret -n "$ns" --from-literal=password=one --dry-run=client -o yaml \
  | k apply -f - | grep "secret/app-secret created" >/dev/null || fail "secret created"
k create secret generic app-secret -n "$ns" --from-literal=password=two --dry-run=client -o yaml \
  | k apply -f - | grep "secret/app-secret configured" >/dev/null || fail "secret configured"
expect_eq "$(k get secret app-secret -n "$ns" -o jsonpath='{.data.password}' | base64 -d)" "two" "secret value"
expect_eq "$(k get deploy web -n "$ns" -o jsonpath='{.metadata.generation}')" "1" "generation after secret change"

step "patch --type=json bumps generation"
k patch deploy web -n "$ns" --type=json \
  -p '[{"op":"add","path":"/spec/template/metadata/annotations","value":{"example.com/restartedAt":"now"}}]' >/dev/null
expect_eq "$(k get deploy web -n "$ns" -o jsonpath='{.metadata.generation}')" "2" "generation after template patch"
k patch deploy web -n "$ns" --type=merge -p '{"metadata":{"labels":{"tier":"web"}}}' >/dev/null
expect_eq "$(k get deploy web -n "$ns" -o jsonpath='{.metadata.generation}')" "2" "generation after label patch"
k patch deploy web -n "$ns" --type=strategic \
  -p '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}}}' >/dev/null
expect_eq "$(k get deploy web -n "$ns" -o jsonpath='{.spec.template.spec.containers[0].image}')" "nginx:1.28" "strategic patch"
expect_eq "$(k get deploy web -n "$ns" -o jsonpath='{.spec.template.spec.containers[0].envFrom[0].secretRef.name}')" "app-secret" "strategic patch kept envFrom"
k get deploy -n "$ns" -l tier=web -o name | grep "deployment.apps/web" >/dev/null || fail "label selector"
if [[ -n "$real" ]]; then
  echo "    skipped: rollout status (needs the simulator's --simulate-rollouts; without a kubelet no pod gets ready)"
else
  k rollout status deploy/web -n "$ns" --timeout=10s | grep "successfully rolled out" >/dev/null || fail "rollout status"
fi

step "an unknown field is rejected by default (server-side field validation)"
sed 's/replicas: 2/replicass: 2/' "$work/deploy.yaml" >"$work/typo.yaml"
if k apply -f "$work/typo.yaml" >/dev/null 2>"$work/typo.err"; then fail "apply accepted spec.replicass"; fi
grep -q 'strict decoding error: unknown field "spec.replicass"' "$work/typo.err" || fail "unknown field error: $(cat "$work/typo.err")"
sed 's/name: web$/name: web-typo/' "$work/typo.yaml" >"$work/typo-new.yaml"
if k create -f "$work/typo-new.yaml" >/dev/null 2>"$work/typo.err"; then fail "create accepted spec.replicass"; fi
grep -q 'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicass"' "$work/typo.err" \
  || fail "unknown field error on create: $(cat "$work/typo.err")"

step "replace and delete"
k get cm -n "$ns" -l smoke=none 2>&1 | grep "No resources found" >/dev/null || fail "empty configmap list"
k create configmap settings -n "$ns" --from-literal=a=1 >/dev/null
k get cm settings -n "$ns" -o yaml | sed 's/a: "1"/a: "2"/' | k replace -f - >/dev/null
expect_eq "$(k get cm settings -n "$ns" -o jsonpath='{.data.a}')" "2" "replace"
k delete cm settings -n "$ns" | grep 'configmap "settings" deleted' >/dev/null || fail "delete"

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
k apply -f "$work/crd.yaml" >/dev/null
k wait --for=condition=Established crd/widgets.example.com --timeout=30s >/dev/null
cat <<YAML | k apply -f - >/dev/null
apiVersion: example.com/v1
kind: Widget
metadata: {name: gadget, namespace: $ns}
spec: {size: 3}
YAML
k get wdg -n "$ns" | grep -Eq "^gadget +3$" || fail "custom resource by short name with printer column"
if k apply -f - >/dev/null 2>"$work/invalid.err" <<YAML
apiVersion: example.com/v1
kind: Widget
metadata: {name: broken, namespace: $ns}
spec: {}
YAML
then fail "schema validation accepted a widget without size"; fi
grep -q "spec.size: Required value" "$work/invalid.err" || fail "schema error message: $(cat "$work/invalid.err")"

step "an events.k8s.io/v1 Event is a core Event"
cat <<YAML | k create -f - >/dev/null
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: reloaded-web, namespace: $ns}
eventTime: "2024-01-01T00:00:00.000000Z"
reportingController: example.com/smoke
reportingInstance: smoke-1
action: Reload
reason: Reloaded
note: rolled deployment web
type: Normal
regarding: {apiVersion: apps/v1, kind: Deployment, name: web, namespace: $ns}
YAML
k get events -n "$ns" | grep "rolled deployment web" >/dev/null || fail "kubectl get events: $(k get events -n "$ns" 2>&1)"
expect_eq "$(k get events.v1. reloaded-web -n "$ns" -o jsonpath='{.involvedObject.name} {.reportingComponent}')" \
  "web example.com/smoke" "core view of the event"

step "a denying validating webhook"
ca_bundle="$(base64 -w0 <"$work/webhook-ca.pem")"
if [[ -n "$real" ]]; then
  # A real server cannot use the simulator's --service-endpoint table: call the webhook
  # by URL (its certificate is also valid for 127.0.0.1).
  client_config="url: https://$webhook_addr/validate"
else
  client_config="service: {namespace: $ns, name: deny, path: /validate}"
fi
cat <<YAML | k apply -f - >/dev/null
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: deny-configmaps-$ns}
webhooks:
- name: deny.smoke.example.com
  clientConfig:
    $client_config
    caBundle: $ca_bundle
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}
  namespaceSelector:
    matchLabels: {kubernetes.io/metadata.name: $ns}
  sideEffects: None
  admissionReviewVersions: [v1]
YAML
if k create configmap blocked -n "$ns" --from-literal=a=1 >/dev/null 2>"$work/denied.err"; then
  fail "the webhook did not deny"
fi
grep -q 'admission webhook "deny.smoke.example.com" denied the request: configmaps are frozen' "$work/denied.err" \
  || fail "denial message: $(cat "$work/denied.err")"
k create configmap "allowed-$ns" -n default --from-literal=a=1 >/dev/null || fail "namespaceSelector should skip default"
[[ -n "$real" ]] || k delete configmap "allowed-$ns" -n default >/dev/null

echo "kubectl smoke test passed"
