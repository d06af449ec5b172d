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
NODE=${DEMO_NODE:-shardwatch-worker2}
SHARD=${DEMO_SHARD:-shard2}
log() { printf '[record-failover %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# shellcheck source=prepare.sh
. "$HERE/prepare.sh"

# Whatever happens, the node comes back.
trap '"$CLUSTER" restore-node "$NODE" >/dev/null 2>&1 || true' EXIT

rm -f "$HERE"/[0-9]-*.svg "$HERE/failover.cast"  # its own screenshots, not explain-stuck.svg
"$VENV/bin/python" "$HERE/record_failover.py" --binary "$BINARY" --cluster-sh "$CLUSTER" \
  --kubeconfig "$KUBECONFIG_PATH" --out "$HERE" --node "$NODE" --shard "$SHARD"
log "done: $(ls "$HERE" | tr '\n' ' ')"
