#!/usr/bin/env bash
# Builds the control plane's binaries into ~/.cache/shardwatch unless there; prints their
# folder last (`shardwatch local build`).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/shardwatch.sh"
exec "$SHARDWATCH_BIN" local build
