# Sourced by the scripts in this folder, which are thin shims: the local world lives in
# Rust (`shardwatch local …`, src/local/). Sets SHARDWATCH_BIN (default: this checkout's
# debug build, built first when missing) and SHARDWATCH_MANIFESTS (default: manifests/).
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARDWATCH_BIN=${SHARDWATCH_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/debug/shardwatch}
if [ ! -x "$SHARDWATCH_BIN" ]; then
  echo "[$(basename "$0")] no $SHARDWATCH_BIN: building it (cargo build)" >&2
  (cd "$REPO" && cargo build --quiet --bin shardwatch) >&2
fi
export SHARDWATCH_MANIFESTS=${SHARDWATCH_MANIFESTS:-$REPO/manifests}
