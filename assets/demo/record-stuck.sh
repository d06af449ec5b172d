#!/usr/bin/env bash
# Records assets/demo/explain-stuck.svg: the real dashboard's explanation of a stuck
# reconciliation (manifests/clusters/demo/stuck.yaml, applied and removed again) on the
# local cluster with the real Flux controllers. About a minute once everything is built.
# Same prerequisites as record-failover.sh (it starts the cluster and the stack if needed).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${SHARDWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shardwatch}
VENV="$CACHE/demo-venv"
CLUSTER="$REPO/tests/localcluster/cluster.sh"

log() { printf '[record-stuck %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pyte' 2>/dev/null; then
  log "installing pyte into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'pyte==0.8.2'
fi
log "building shardwatch (release)"
(cd "$REPO" && cargo build --release -q)
BINARY="$REPO/target/release/shardwatch"
KUBECONFIG_PATH=$("$CLUSTER" start)
"$BINARY" --kubeconfig "$KUBECONFIG_PATH" up --target local --no-tui
"$VENV/bin/python" "$HERE/record_stuck.py" --binary "$BINARY" --cluster-sh "$CLUSTER" \
  --kubeconfig "$KUBECONFIG_PATH" --scenario "$REPO/manifests/clusters/demo/stuck.yaml" --out "$HERE"
