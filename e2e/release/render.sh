#!/usr/bin/env bash
# Renders one release of reloader into OUT_DIR with the image pinned by tag, and checks it:
#   OUT_DIR/manifests/*.yaml   the plain manifests (`reloader webhook-config --image …`)
#   OUT_DIR/reloader.yaml      the same, as one file in the order they are applied
#   OUT_DIR/reloader-V.tgz     the Helm chart, version and appVersion V
#   OUT_DIR/SHA256SUMS
# Checks: every object validates with kubernetes-validate --strict (offline), and every
# container image in the manifests and in both chart renderings (cert-manager and
# self-signed) is ghcr.io/reloader/reloader:V.
#
# Usage: render.sh VERSION OUT_DIR  (env: RELOADER, HELM, KUBERNETES_VALIDATE, PYTHON)
# `make release-manifests VERSION=…` runs it; tests/control_plane/release.rs installs its
# output into the real control plane.
set -euo pipefail

version=${1:?usage: render.sh VERSION OUT_DIR}
out=${2:?usage: render.sh VERSION OUT_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
reloader=${RELOADER:-$root/target/debug/reloader}
helm=${HELM:-$root/.tools/bin/helm}
validate=${KUBERNETES_VALIDATE:-$root/.tools/venv/bin/kubernetes-validate}
python=${PYTHON:-$root/.tools/venv/bin/python}
image=ghcr.io/reloader/reloader:$version

if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "VERSION must be a semantic version such as 1.2.3 or 1.2.3-rc.1, got '$version'" >&2
  exit 2
fi

rm -rf "$out"
mkdir -p "$out/manifests"
"$reloader" webhook-config --image "$image" --out-dir "$out/manifests"
files=(crd rbac service deployment validating-webhook-configuration mutating-webhook-configuration)
for f in "${files[@]}"; do
  [[ -f $out/manifests/$f.yaml ]] || { echo "webhook-config wrote no $f.yaml" >&2; exit 1; }
  printf -- '---\n# %s.yaml\n' "$f"
  cat "$out/manifests/$f.yaml"
done > "$out/reloader.yaml"

"$helm" package "$root/helm/reloader" --version "$version" --app-version "$version" \
  --destination "$out" >/dev/null
chart=$out/reloader-$version.tgz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$helm" template reloader "$chart" --namespace reloader > "$work/cert-manager.yaml"
"$python" "$root/helm/check-chart.py" --without-cert-manager "$work/cert-manager.yaml" "$work/cert-manager-core.yaml"
"$helm" template reloader "$chart" --namespace reloader --set certManager.enabled=false \
  --set tls.secretName=reloader-tls --set tls.caBundle=Q0E= > "$work/self-signed.yaml"

"$validate" --strict --quiet "$out"/manifests/*.yaml "$work/cert-manager-core.yaml" "$work/self-signed.yaml"

for rendered in "$out/reloader.yaml" "$work/cert-manager.yaml" "$work/self-signed.yaml"; do
  images=$(sed -n 's/^ *image: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$rendered" | sort -u)
  if [[ $images != "$image" ]]; then
    echo "$(basename "$rendered"): images are '${images//$'\n'/, }', not $image" >&2
    exit 1
  fi
done

(cd "$out" && sha256sum reloader.yaml "reloader-$version.tgz" manifests/*.yaml > SHA256SUMS)
echo "release $version in $out: reloader.yaml, manifests/, reloader-$version.tgz (image $image)"
