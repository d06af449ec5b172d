#!/usr/bin/env bash
# Records assets/failover.ndjson, the recording `shardwatch replay` and the tests play: the
# real Flux controllers on the local cluster while the shard2 worker fails and comes back,
# as `shardwatch snapshot --follow --record` saw it. About three minutes with the cluster
# and the stack up; starts them when they are not there and leaves them running.
# Environment: SHARDWATCH_BIN (default: the debug binary of CARGO_TARGET_DIR or target/),
# DEMO_NODE (default shardwatch-worker2), DEMO_DOWN_SECONDS (default 45), and the cluster
# scripts' SHARDWATCH_CLUSTER_NAME and ports.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
NODE=${DEMO_NODE:-shardwatch-worker2}
DOWN=${DEMO_DOWN_SECONDS:-45}
OUT="$REPO/assets/failover.ndjson"
BIN=${SHARDWATCH_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/debug/shardwatch}
CLUSTER="$REPO/tests/localcluster/cluster.sh"
export SHARDWATCH_BIN="$BIN"
log() { printf '[record-ndjson %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

KUBECONFIG_PATH=$("$CLUSTER" start)
sw() { "$BIN" --kubeconfig "$KUBECONFIG_PATH" --log-file /dev/null "$@"; }
log "standing up the sharded stack (real Flux controllers)"
sw up --target local --no-tui --no-kubeconfig-update >/dev/null

# Waits (at most $2 seconds) until `check` says healthy.
healthy() {
  local deadline=$((SECONDS + $2))
  until sw check --timeout 20 >/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || { log "not healthy after $2 s ($1)"; return 1; }
    sleep 2
  done
}
healthy "before" 300

trap '"$CLUSTER" restore-node "$NODE" >/dev/null 2>&1 || true; [ -z "${FOLLOW:-}" ] || kill -TERM "$FOLLOW" 2>/dev/null || true' EXIT
# Not through sw(): $! must be shardwatch itself, so the TERM below reaches it.
"$BIN" --kubeconfig "$KUBECONFIG_PATH" --log-file /dev/null snapshot --follow --record "$OUT" >/dev/null &
FOLLOW=$!
log "recording to $OUT; healthy for 10 s"
sleep 10
log "failing $NODE for $DOWN s"
"$CLUSTER" fail-node "$NODE"
sleep "$DOWN"
log "restoring $NODE"
"$CLUSTER" restore-node "$NODE"
healthy "after the restore" 300
# The timeline closes the incident once every controller leads again: `check` says so.
sleep 10
kill -TERM "$FOLLOW"
wait "$FOLLOW" || true
FOLLOW=
log "done: $(wc -l <"$OUT") lines, $(du -h "$OUT" | cut -f1)"
