#!/usr/bin/env bash
# Installs Flux's CRDs into the cluster of $KUBECONFIG, taken from the controllers' Go
# module zips at the pinned Flux version (nothing of Flux is kept in this repository).
# Usage: flux-crds.sh [KUBECTL]
set -euo pipefail

# Flux v2.7: the controller versions it ships (those the Go module proxy serves).
SOURCE_CONTROLLER=${SHARDWATCH_SOURCE_CONTROLLER_VERSION:-v1.7.3}
KUSTOMIZE_CONTROLLER=${SHARDWATCH_KUSTOMIZE_CONTROLLER_VERSION:-v1.7.3}
HELM_CONTROLLER=${SHARDWATCH_HELM_CONTROLLER_VERSION:-v1.4.3}
KUBECTL=${1:-kubectl}

module_dir() {
  (cd "${TMPDIR:-/tmp}" && go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
}

files=()
for m in "github.com/fluxcd/source-controller@$SOURCE_CONTROLLER" \
         "github.com/fluxcd/kustomize-controller@$KUSTOMIZE_CONTROLLER" \
         "github.com/fluxcd/helm-controller@$HELM_CONTROLLER"; do
  dir=$(module_dir "$m")
  [ -n "$dir" ] || { echo "flux-crds: cannot download $m from the Go module proxy" >&2; exit 1; }
  for f in "$dir"/config/crd/bases/*.yaml; do files+=("$f"); done
done
args=()
for f in "${files[@]}"; do args+=(-f "$f"); done
"$KUBECTL" apply --server-side --force-conflicts --field-manager=shardwatch "${args[@]}" >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=60s crd \
  kustomizations.kustomize.toolkit.fluxcd.io helmreleases.helm.toolkit.fluxcd.io \
  gitrepositories.source.toolkit.fluxcd.io ocirepositories.source.toolkit.fluxcd.io \
  helmrepositories.source.toolkit.fluxcd.io helmcharts.source.toolkit.fluxcd.io \
  buckets.source.toolkit.fluxcd.io >/dev/null
echo "flux-crds: installed ${#files[@]} CRDs (source $SOURCE_CONTROLLER, kustomize $KUSTOMIZE_CONTROLLER, helm $HELM_CONTROLLER)"
