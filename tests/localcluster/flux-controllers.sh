#!/usr/bin/env bash
# The local kubelet that runs the Flux controllers: status | stop | dir
# (`shardwatch local controllers …`).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/shardwatch.sh"
exec "$SHARDWATCH_BIN" local controllers "$@"
