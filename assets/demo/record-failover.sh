#!/usr/bin/env bash
# Records the failover demo in assets/demo/: the real dashboard (release build) in a
# 120x34 pseudo-terminal on the local cluster while the shard2 worker fails and comes back.
# Writes failover.cast (asciinema v2; `asciinema play assets/demo/failover.cast`), one SVG
# screenshot per step and a README.md listing them. Takes about two minutes once the
# cluster and the binaries are built; rerun it any time.
#
# It starts the local cluster and the stack (`shardwatch up --target local --no-tui`) when
# they are not there, and leaves them running. Needs Python 3; installs pyte (a terminal
# emulator) from PyPI into a virtualenv in the cache, never into the repository.
# Environment: DEMO_NODE (default shardwatch-worker2), DEMO_SHARD (default shard2).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${SHARDWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shardwatch}
VENV="$CACHE/demo-venv"
CLUSTER="$REPO/tests/localcluster/cluster.sh"
NODE=${DEMO_NODE:-shardwatch-worker2}
SHARD=${DEMO_SHARD:-shard2}

log() { printf '[record-failover %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pyte' 2>/dev/null; then
  log "installing pyte into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'pyte==0.8.2'
fi

log "building shardwatch (release)"
(cd "$REPO" && cargo build --release -q)
BINARY="$REPO/target/release/shardwatch"

KUBECONFIG_PATH=$("$CLUSTER" start)
log "standing up the sharded stack (real Flux controllers on the local target)"
"$BINARY" --kubeconfig "$KUBECONFIG_PATH" up --target local --no-tui

# Whatever happens, the node comes back.
trap '"$CLUSTER" restore-node "$NODE" >/dev/null 2>&1 || true' EXIT

rm -f "$HERE"/*.svg "$HERE/failover.cast"
"$VENV/bin/python" "$HERE/record_failover.py" --binary "$BINARY" --cluster-sh "$CLUSTER" \
  --kubeconfig "$KUBECONFIG_PATH" --out "$HERE" --node "$NODE" --shard "$SHARD"
log "done: $(ls "$HERE" | tr '\n' ' ')"
