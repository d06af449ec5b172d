# Sourced by the demo recorders: pyte in a cache virtualenv, the release binary, the local
# cluster and the sharded stack with the real Flux controllers (started when not there).
# Sets VENV, BINARY, CLUSTER and KUBECONFIG_PATH; expects HERE and REPO.
CACHE=${SHARDWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shardwatch}
VENV="$CACHE/demo-venv"
CLUSTER="$REPO/tests/localcluster/cluster.sh"

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
