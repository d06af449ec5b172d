#!/usr/bin/env bash
# Builds the real Flux controllers into ~/.cache/shardwatch unless there; prints their
# folder last (`shardwatch local build-flux`).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/shardwatch.sh"
exec "$SHARDWATCH_BIN" local build-flux
