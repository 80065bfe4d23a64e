#!/usr/bin/env bash
# Runs one command against a fresh real control plane: starts e2e/control-plane/run,
# waits for its `ready` line, runs the command with KUBECONFIG (and SMOKE_KUBECONFIG) set
# to the admin kubeconfig, then stops the control plane. Exits with the command's status.
#
#   e2e/control-plane/with-control-plane.sh bash e2e/sim-kubectl-smoke.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
plane=""
cleanup() {
  if [[ -n "$plane" ]]; then kill -TERM "$plane" 2>/dev/null || true; wait "$plane" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkfifo "$work/ready"
python3 "$here/run" --kubeconfig-out "$work/kubeconfig" >"$work/ready" &
plane=$!
read -r -t 180 line <"$work/ready" || true
[[ "$line" == ready\ https://* ]] || { echo "the control plane did not start (said: '${line:-}')" >&2; exit 1; }
echo "control plane: ${line#ready }"

export KUBECONFIG="$work/kubeconfig" SMOKE_KUBECONFIG="$work/kubeconfig"
"$@"
