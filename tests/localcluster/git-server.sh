#!/usr/bin/env bash
# The local Git server for the Flux controllers: start | stop | url | publish
# (`shardwatch local git-server …`; SHARDWATCH_GIT_PORT, SHARDWATCH_GIT_ADDR, SHARDWATCH_MANIFESTS).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/shardwatch.sh"
exec "$SHARDWATCH_BIN" local git-server "$@"
