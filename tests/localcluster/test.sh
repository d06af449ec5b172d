#!/usr/bin/env bash
# The whole test suite against a real local control plane, in one command:
# compiles the tests, builds the real Flux controllers (build-flux.sh, cached after the
# first run, about 11 minutes cold), starts the local cluster (building its binaries on
# first use), runs every test (the doctests, then `cargo test --lib --bins --tests`, never
# stopping at the first failing binary) with the cluster's kubeconfig and the controllers'
# folder (SHARDWATCH_FLUX_BIN) exported, and at the end stops the cluster, and with it any
# Flux controller processes and Git server the tests started, unless KEEP_CLUSTER=1.
# Extra arguments go to both cargo test runs, e.g. `test.sh -- --nocapture`.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE/../.."

log() { printf '[test %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

finish() {
  local rc=$?
  if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
    log "cluster (and any Flux controllers, Git server) left running (KEEP_CLUSTER=1); stop them with tests/localcluster/cluster.sh stop"
  else
    "$HERE/cluster.sh" stop || rc=1
  fi
  exit "$rc"
}

# Compile first: on two cores a build next to the running control plane only slows both.
# --all-targets here so the benchmark keeps compiling; it is run by `cargo bench` only.
cargo test --all-targets --no-run "$@"
# The scripts here hand over to the binary just built (`shardwatch local …`).
SHARDWATCH_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/shardwatch"
export SHARDWATCH_BIN
# Same reason; a no-op (0.01 s) once cached. Its last line is the bin folder.
SHARDWATCH_FLUX_BIN=$("$HERE/build-flux.sh" | tail -n 1)
export SHARDWATCH_FLUX_BIN

trap finish EXIT
KUBECONFIG_PATH=$("$HERE/cluster.sh" start)
export SHARDWATCH_TEST_KUBECONFIG="$KUBECONFIG_PATH"
export SHARDWATCH_KUBECTL="$("$HERE/cluster.sh" bin)/kubectl"
export KUBECONFIG="$KUBECONFIG_PATH"

# --no-fail-fast: one failing test binary must not hide the results of the others.
rc=0
out=$(mktemp)
cargo test --doc --no-fail-fast "$@" 2>&1 | tee -a "$out" || rc=1
cargo test --lib --bins --tests --no-fail-fast "$@" 2>&1 | tee -a "$out" || rc=1
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$out"
rm -f "$out"
exit "$rc"
