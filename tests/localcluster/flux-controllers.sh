#!/usr/bin/env bash
# Runs the real Flux controllers (source-, kustomize- and helm-controller, built by
# build-flux.sh) as local processes against the local cluster (cluster.sh): one main set
# watching objects without the shard key, and one set per shard of kind-config.yaml
# (the values of its nodes' sharding.fluxcd.io/key labels) watching its own key, each
# with leader election on, so every set holds its own Lease in flux-system.
#
# Usage: flux-controllers.sh start     start every set (already running processes are kept)
#        flux-controllers.sh stop      stop every process this script started
#        flux-controllers.sh status    one line per process: running or not, pid, ports, log
#
# Every listener binds 127.0.0.1. Ports: SHARDWATCH_FLUX_PORT_BASE (default 19400) + 10*set
# (main is set 0, shardN is set N by its order in kind-config.yaml) + 3*controller
# (source 0, kustomize 1, helm 2) + 0 for --metrics-addr, 1 for --health-addr, 2 for
# source-controller's --storage-addr (its --storage-adv-addr is that same address, so
# artifact URLs point at the local process).
# Logs, pids and source-controller storage live under <cache>/flux-<version>/run/.
#
# Out of a cluster, controller-runtime finds the leader election namespace only in
# /var/run/secrets/kubernetes.io/serviceaccount/namespace (Flux has no flag for it), so
# each process runs in a private mount namespace (unshare, needs root) with a small
# tmpfs on /run holding that one file: flux-system. Nothing changes on the host.
# Each also gets its own UTS namespace, to carry its kwok pod's name as hostname (see
# holder_name).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

FLUX_VERSION=${SHARDWATCH_FLUX_VERSION:-v2.7.3}
CACHE=${SHARDWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shardwatch}
BIN="$CACHE/flux-$FLUX_VERSION/bin"
RUN="$CACHE/flux-$FLUX_VERSION/run"
KIND_CONFIG=${SHARDWATCH_KIND_CONFIG:-$REPO/kind-config.yaml}
PORT_BASE=${SHARDWATCH_FLUX_PORT_BASE:-19400}
NAMESPACE=flux-system
CONTROLLERS=(source-controller kustomize-controller helm-controller)
SHARD_KEY=sharding.fluxcd.io/key

log() { printf '[flux-controllers %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The shard keys, in node order, from kind-config.yaml (the same parser cluster.sh uses).
shards() {
  python3 "$HERE/kind_nodes.py" "$KIND_CONFIG" | python3 -c '
import json, sys
seen = []
for node in json.load(sys.stdin)["items"]:
    key = node["metadata"].get("labels", {}).get("'"$SHARD_KEY"'")
    if key and key not in seen:
        seen.append(key)
print("\n".join(seen))'
}

# Sets: "main" plus one per shard. Prints "index name" lines.
sets() {
  echo "0 main"
  local i=1 s
  for s in $(shards); do echo "$i $s"; i=$((i + 1)); done
}

proc_name() { # CONTROLLER SET
  if [ "$2" = main ]; then echo "$1"; else echo "$1-$2"; fi
}

port() { # SET_INDEX CONTROLLER_INDEX OFFSET
  echo $((PORT_BASE + 10 * $1 + 3 * $2 + $3))
}

# A pid file counts only while its process is still the controller binary we started.
alive() { # NAME
  local pidf="$RUN/$1.pid" pid exe
  [ -f "$pidf" ] || return 1
  pid=$(cat "$pidf")
  kill -0 "$pid" 2>/dev/null || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  case "$exe" in "$BIN"/*) return 0 ;; *) return 1 ;; esac
}

# The Lease holder identity is "<hostname>_<uuid>" and shardwatch reads the pod name from
# it, so each process gets (in its own UTS namespace) the name of its Deployment's
# current Running kwok pod as hostname; "<name>-local" when there is none.
holder_name() { # NAME
  local pod
  pod=$("$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" get pods -l "app=$1" \
    --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}' 2>/dev/null || true)
  echo "${pod:-$1-local}"
}

start_one() { # CONTROLLER CONTROLLER_INDEX SET SET_INDEX
  local c=$1 ci=$2 set=$3 si=$4
  local name selector
  name=$(proc_name "$c" "$set")
  if alive "$name"; then
    log "$name already running (pid $(cat "$RUN/$name.pid"))"
    return 0
  fi
  if [ "$set" = main ]; then selector="!$SHARD_KEY"; else selector="$SHARD_KEY=$set"; fi
  local args=(
    --watch-all-namespaces
    "--watch-label-selector=$selector"
    --enable-leader-election
    "--metrics-addr=127.0.0.1:$(port "$si" "$ci" 0)"
    "--health-addr=127.0.0.1:$(port "$si" "$ci" 1)"
    --log-level=info
    --log-encoding=json
  )
  if [ "$c" = source-controller ]; then
    local storage="127.0.0.1:$(port "$si" "$ci" 2)"
    mkdir -p "$RUN/storage/$name"
    args+=("--storage-addr=$storage" "--storage-adv-addr=$storage" "--storage-path=$RUN/storage/$name")
  fi
  local logf="$RUN/$name.log" holder
  holder=$(holder_name "$name")
  echo "=== $(date -u +%FT%TZ) hostname $holder: $BIN/$c ${args[*]}" >>"$logf"
  # setsid: the process outlives this shell; unshare (no --fork) execs in place, so the
  # recorded pid is the controller's own pid. 9>&-: it must not inherit the lock.
  KUBECONFIG="$KUBECONFIG_PATH" RUNTIME_NAMESPACE="$NAMESPACE" HOLDER="$holder" \
    setsid unshare --mount --uts --propagation private \
    sh -c 'hostname "$HOLDER" &&
           mount -t tmpfs -o size=64k,mode=755 shardwatch-flux /run &&
           mkdir -p /run/secrets/kubernetes.io/serviceaccount &&
           printf %s "$RUNTIME_NAMESPACE" >/run/secrets/kubernetes.io/serviceaccount/namespace &&
           exec "$0" "$@"' "$BIN/$c" "${args[@]}" \
    </dev/null >>"$logf" 2>&1 9>&- &
  echo $! >"$RUN/$name.pid"
  log "started $name (pid $!, selector '$selector', log $logf)"
}

# Healthy: every process answers on its /readyz (controller-runtime's health endpoint).
wait_ready() {
  local deadline=$((SECONDS + ${SHARDWATCH_FLUX_START_TIMEOUT:-60})) si set ci name pending
  while :; do
    pending=()
    while read -r si set; do
      for ci in "${!CONTROLLERS[@]}"; do
        name=$(proc_name "${CONTROLLERS[$ci]}" "$set")
        alive "$name" || die "$name exited; see $RUN/$name.log"
        curl -fsS -o /dev/null "http://127.0.0.1:$(port "$si" "$ci" 1)/readyz" 2>/dev/null \
          || pending+=("$name")
      done
    done < <(sets)
    [ ${#pending[@]} -eq 0 ] && return 0
    [ $SECONDS -ge $deadline ] && die "not ready after ${SHARDWATCH_FLUX_START_TIMEOUT:-60}s: ${pending[*]}"
    sleep 1
  done
}

cmd_start() {
  local c
  for c in "${CONTROLLERS[@]}"; do
    [ -x "$BIN/$c" ] || die "$BIN/$c missing: run tests/localcluster/build-flux.sh first"
  done
  KUBECONFIG_PATH=$("$HERE/cluster.sh" kubeconfig) || die "the local cluster is not running (cluster.sh start)"
  KUBECTL="$("$HERE/cluster.sh" bin)/kubectl"
  "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get namespace "$NAMESPACE" >/dev/null 2>&1 \
    || die "namespace $NAMESPACE missing: run 'cargo run -- up --target local --no-tui' first"
  "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get crd gitrepositories.source.toolkit.fluxcd.io >/dev/null 2>&1 \
    || die "Flux CRDs missing: run 'cargo run -- up --target local --no-tui' first"
  mkdir -p "$RUN"
  exec 9>"$RUN/.lock"
  flock -w 60 9 || die "another flux-controllers.sh holds $RUN/.lock"
  local si set ci
  while read -r si set; do
    for ci in "${!CONTROLLERS[@]}"; do start_one "${CONTROLLERS[$ci]}" "$ci" "$set" "$si"; done
  done < <(sets)
  wait_ready
  log "all controllers ready"
}

cmd_stop() {
  mkdir -p "$RUN"
  exec 9>"$RUN/.lock"
  flock -w 60 9 || die "another flux-controllers.sh holds $RUN/.lock"
  local pidf name pids=() names=()
  for pidf in "$RUN"/*.pid; do
    [ -e "$pidf" ] || continue
    name=$(basename "$pidf" .pid)
    if alive "$name"; then
      pids+=("$(cat "$pidf")"); names+=("$name")
      kill -TERM "$(cat "$pidf")" 2>/dev/null || true
    else
      rm -f "$pidf"
    fi
  done
  # They release their Leases on the way out (--leader-election-release-on-cancel).
  local deadline=$((SECONDS + 20)) i left
  while :; do
    left=0
    for i in "${!names[@]}"; do alive "${names[$i]}" && left=1; done
    [ $left = 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      for i in "${!names[@]}"; do
        alive "${names[$i]}" && { log "killing ${names[$i]}"; kill -KILL "${pids[$i]}" 2>/dev/null || true; }
      done
      sleep 1
      break
    fi
    sleep 0.5
  done
  for i in "${!names[@]}"; do rm -f "$RUN/${names[$i]}.pid"; done
  log "stopped ${#names[@]} processes"
}

cmd_status() {
  local si set ci c name up=0 total=0
  while read -r si set; do
    for ci in "${!CONTROLLERS[@]}"; do
      c=${CONTROLLERS[$ci]}
      name=$(proc_name "$c" "$set")
      total=$((total + 1))
      if alive "$name"; then
        up=$((up + 1))
        printf '%-30s running pid %-7s metrics 127.0.0.1:%s health 127.0.0.1:%s%s\n' "$name" \
          "$(cat "$RUN/$name.pid")" "$(port "$si" "$ci" 0)" "$(port "$si" "$ci" 1)" \
          "$([ "$c" = source-controller ] && echo " storage 127.0.0.1:$(port "$si" "$ci" 2)")"
      else
        printf '%-30s stopped\n' "$name"
      fi
    done
  done < <(sets)
  echo "$up/$total running (logs in $RUN)"
  [ "$up" = "$total" ]
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
