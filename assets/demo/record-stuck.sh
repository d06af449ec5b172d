#!/usr/bin/env bash
# Records assets/demo/explain-stuck.svg: the real dashboard's explanation of a stuck
# reconciliation (manifests/clusters/demo/stuck.yaml, applied and removed again) on the
# local cluster with the real Flux controllers. About a minute once everything is built.
# Same prerequisites as record-failover.sh (it starts the cluster and the stack if needed).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
log() { printf '[record-stuck %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# shellcheck source=prepare.sh
. "$HERE/prepare.sh"
"$VENV/bin/python" "$HERE/record_stuck.py" --binary "$BINARY" --cluster-sh "$CLUSTER" \
  --kubeconfig "$KUBECONFIG_PATH" --scenario "$REPO/manifests/clusters/demo/stuck.yaml" --out "$HERE"
