#!/usr/bin/env bash
# Installs Flux's CRDs into the cluster of $KUBECONFIG (`shardwatch local flux-crds`). An
# argument (the kubectl of older versions of this script) is ignored.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/shardwatch.sh"
exec "$SHARDWATCH_BIN" local flux-crds
