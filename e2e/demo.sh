#!/usr/bin/env bash
# make demo: a simulated cluster, reloader serving its webhook over TLS, and a real reload.
# make demo-real (DEMO_BACKEND=real): the same on the real control plane (kube-apiserver,
# etcd and kube-controller-manager from e2e/control-plane), where the rollout also shows
# as a new ReplicaSet.
#
# Starts the API server and reloader on loopback, registers the webhooks through kubectl,
# applies a Deployment that follows a Secret, changes the Secret with kubectl and shows the
# rollout (generation and recorded hash before and after). Leaves no process behind.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${BIN:-$ROOT/target/debug}"
BACKEND="${DEMO_BACKEND:-sim}"
KUBECTL="${KUBECTL:-$ROOT/.tools/bin/kubectl}"
[[ -x "$KUBECTL" ]] || KUBECTL=kubectl
kubectl() { "$KUBECTL" "$@"; }
WORK="$(mktemp -d)"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
# A free port below the kernel's ephemeral range (32768-60999), so no outgoing connection
# can take it between this check and reloader's bind.
free_port() {
  python3 - <<'PY'
import random, socket
while True:
    port = random.randrange(20000, 32000)
    try:
        socket.socket().bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
PY
}
fail() { echo "demo failed: $*" >&2; echo "--- reloader log (last 30 lines)" >&2; tail -30 "$WORK/reloader.log" >&2 || true; exit 1; }

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

if [[ "$BACKEND" == real ]]; then
  say "Starting the real control plane (etcd, kube-apiserver, kube-controller-manager)"
  python3 "$ROOT/e2e/control-plane/run" --kubeconfig-out "$WORK/kubeconfig" >"$WORK/sim.log" 2>"$WORK/control-plane.err" &
  PIDS+=($!)
  wait_for 180 grep -q '^ready https://' "$WORK/sim.log" || { cat "$WORK/control-plane.err" >&2; fail "the control plane did not start"; }
else
  say "Starting the Kubernetes API simulator (e2e/apiserver-sim)"
  "$BIN/apiserver-sim" --listen 127.0.0.1:0 --kubeconfig-out "$WORK/kubeconfig" >"$WORK/sim.log" 2>&1 &
  PIDS+=($!)
  wait_for 20 grep -q '^listening on https://' "$WORK/sim.log" || fail "the simulator did not start"
fi
head -1 "$WORK/sim.log"
export KUBECONFIG="$WORK/kubeconfig"

say "Writing a CA and a serving certificate (reloader certs)"
CA_BUNDLE="$("$BIN/reloader" certs --out-dir "$WORK/certs" --san 127.0.0.1 | tail -1)"
WEBHOOK_PORT="$(free_port)"
METRICS_PORT="$(free_port)"

say "Registering the CRD and the webhooks (reloader webhook-config | kubectl apply)"
mkdir -p "$WORK/manifests"
"$BIN/reloader" webhook-config --ca-bundle "$CA_BUNDLE" --url "https://127.0.0.1:$WEBHOOK_PORT" \
  --out-dir "$WORK/manifests"
kubectl apply -f "$WORK/manifests/crd.yaml"
kubectl wait --for=condition=Established --timeout=60s crd/reloaderconfigs.reloader.stakater.com >/dev/null
for f in "$WORK"/manifests/*webhook-configuration.yaml; do kubectl apply -f "$f"; done

say "Starting reloader serve"
"$BIN/reloader" serve --kubeconfig "$WORK/kubeconfig" \
  --tls-cert-file "$WORK/certs/tls.crt" --tls-key-file "$WORK/certs/tls.key" \
  --webhook-addr "127.0.0.1:$WEBHOOK_PORT" --metrics-addr "127.0.0.1:$METRICS_PORT" \
  --coalesce-window 200ms >"$WORK/reloader.log" 2>&1 &
PIDS+=($!)
wait_for 30 python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "http://127.0.0.1:$METRICS_PORT/readyz" || fail "reloader did not become ready"

say "A Deployment that follows the Secret app-secret"
kubectl create namespace demo
kubectl -n demo create secret generic app-secret --from-literal=password=first --save-config
kubectl apply -f - <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  annotations:
    secret.reloader.stakater.com/reload: app-secret
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          env:
            - name: PASSWORD
              valueFrom:
                secretKeyRef: {name: app-secret, key: password}
YAML

show() {
  kubectl -n demo get deployment web -o \
    jsonpath='{"generation="}{.metadata.generation}{"  recorded hash="}{.spec.template.spec.containers[0].env[?(@.name=="STAKATER_APP_SECRET_SECRET")].value}{"\n"}'
}
generation() { kubectl -n demo get deployment web -o jsonpath='{.metadata.generation}'; }
# On the real control plane the deployment controller makes one ReplicaSet per rollout.
replicasets() { kubectl -n demo get replicasets -l app=web -o name | wc -l; }
revision() { kubectl -n demo get deployment web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}'; }
show_real() {
  [[ "$BACKEND" == real ]] || return 0
  echo "        replicasets=$(replicasets)  revision=$(revision)"
}
if [[ "$BACKEND" == real ]]; then
  wait_for 30 test "$(replicasets)" -eq 1 || fail "the first ReplicaSet never appeared"
else
  sleep 1
fi
echo "before: $(show)"
show_real
BEFORE="$(generation)"

say "Changing the Secret with kubectl"
kubectl -n demo create secret generic app-secret --from-literal=password=second \
  --dry-run=client -o yaml | kubectl apply -f -
rolled() { [ "$(generation)" -gt "$BEFORE" ]; }
wait_for 30 rolled || fail "the Deployment was not rolled"
if [[ "$BACKEND" == real ]]; then
  wait_for 30 test "$(replicasets)" -eq 2 || fail "no new ReplicaSet"
fi
echo "after:  $(show)"
show_real
AFTER="$(generation)"

say "Applying the same Secret again: no data change, so no rollout"
kubectl -n demo create secret generic app-secret --from-literal=password=second \
  --dry-run=client -o yaml | kubectl apply -f -
sleep 2
[ "$(generation)" = "$AFTER" ] || fail "an unchanged Secret rolled the Deployment"
if [[ "$BACKEND" == real ]]; then
  [ "$(replicasets)" -eq 2 ] || fail "an unchanged Secret made a ReplicaSet"
fi
echo "still:  $(show)"
show_real

say "Done: one change, one rollout. Everything started here is stopped on exit."
