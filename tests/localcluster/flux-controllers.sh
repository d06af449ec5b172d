#!/usr/bin/env bash
# Runs the real Flux controllers (source-, kustomize- and helm-controller, built by
# build-flux.sh) as local processes against the local cluster (cluster.sh): one main set
# watching objects without the shard key, and one set per shard of kind-config.yaml
# (the values of its nodes' sharding.fluxcd.io/key labels) watching its own key, each
# with leader election on, so every set holds its own Lease in flux-system.
# They watch only flux-system (the runtime namespace): the tests' own namespaces, whose
# Flux objects carry hand-written statuses, stay untouched.
#
# Usage: flux-controllers.sh start     start every set (already running processes are kept)
#        flux-controllers.sh stop      stop every process this script started
#        flux-controllers.sh status    one line per process: running or not, pid, ports,
#                                      hostname; exit 0 only when all run
#        flux-controllers.sh stop-shard SHARD [--kill]
#                                      stop one set (SHARD: shard1.. or main); --kill
#                                      SIGKILLs it, as a dying node would: no Lease released
#        flux-controllers.sh start-shard SHARD
#                                      start that set again, once its kwok pods run
#        flux-controllers.sh follow-shard SHARD NODE
#                                      (after NODE died, preferred placement) start the set
#                                      once its pods run on another Ready node
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
BIN=${SHARDWATCH_FLUX_BIN:-$CACHE/flux-$FLUX_VERSION/bin}
CLUSTER=${SHARDWATCH_CLUSTER_NAME:-shardwatch}
# Another cluster's processes keep their own pid files, so two clusters' sets never mix.
if [ "$CLUSTER" = shardwatch ]; then RUN="$CACHE/flux-$FLUX_VERSION/run"; else RUN="$CACHE/flux-$FLUX_VERSION/run-$CLUSTER"; fi
KIND_CONFIG=${SHARDWATCH_KIND_CONFIG:-$REPO/kind-config.yaml}
PORT_BASE=${SHARDWATCH_FLUX_PORT_BASE:-19400}
NAMESPACE=flux-system
CONTROLLERS=(source-controller kustomize-controller helm-controller)
SHARD_KEY=${SHARDWATCH_SHARD_LABEL:-sharding.fluxcd.io/key}
# shardwatch itself reads the kind config (`shardwatch kind-nodes`): one parser of it.
SHARDWATCH_BIN=${SHARDWATCH_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/debug/shardwatch}

log() { printf '[flux-controllers %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The shards, in node order, from kind-config.yaml (the same reader cluster.sh uses).
shards() {
  [ -x "$SHARDWATCH_BIN" ] || die "no shardwatch binary at $SHARDWATCH_BIN (cargo build, or set SHARDWATCH_BIN)"
  "$SHARDWATCH_BIN" kind-nodes --kind-config "$KIND_CONFIG" --shards "$SHARD_KEY"
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
  case "$exe" in "$(readlink -f "$BIN")"/*) return 0 ;; *) return 1 ;; esac
}

# The newest Running pod of a Deployment (label app=NAME) that is not being deleted: a
# failed node's old pods stay Terminating but Running until kwok deletes them.
current_pod() { # NAME
  "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" get pods -l "app=$1" \
    --field-selector=status.phase=Running --sort-by=.metadata.creationTimestamp \
    -o custom-columns=NAME:.metadata.name,DELETED:.metadata.deletionTimestamp --no-headers \
    2>/dev/null | awk '$2 == "<none>" { name = $1 } END { print name }'
}

# The Lease holder identity is "<hostname>_<uuid>" and shardwatch reads the pod name from
# it, so each process gets (in its own UTS namespace) the name of its Deployment's
# current Running kwok pod as hostname; "<name>-local" when there is none.
holder_name() { # NAME
  local pod
  pod=$(current_pod "$1" || true)
  echo "${pod:-$1-local}"
}

start_one() { # CONTROLLER CONTROLLER_INDEX SET SET_INDEX
  local c=$1 ci=$2 set=$3 si=$4
  local name selector
  name=$(proc_name "$c" "$set")
  if alive "$name"; then
    # A process stands in for its pod's container: when the pod was replaced meanwhile
    # (a rollout, a placement change), it is restarted as the new pod, as a kubelet would.
    local was now
    was=$(cat "$RUN/$name.hostname" 2>/dev/null || true)
    now=$(current_pod "$name" || true)
    if [ -z "$now" ] || [ "$now" = "$was" ]; then
      log "$name already running (pid $(cat "$RUN/$name.pid"))"
      return 0
    fi
    log "$name ran as pod $was, which was replaced by $now: restarting it"
    stop_names TERM "$name"
  fi
  if [ "$set" = main ]; then selector="!$SHARD_KEY"; else selector="$SHARD_KEY=$set"; fi
  local args=(
    --watch-all-namespaces=false
    "--watch-label-selector=$selector"
    --enable-leader-election
    "--metrics-addr=127.0.0.1:$(port "$si" "$ci" 0)"
    "--health-addr=127.0.0.1:$(port "$si" "$ci" 1)"
    --log-level=info
    --log-encoding=json
  )
  # Flux rechecks a dependsOn that is not Ready every 30 s; on this small local world
  # that is most of the time a layered chain takes, so it is shorter here
  # (SHARDWATCH_FLUX_REQUEUE_DEPENDENCY, default 5s).
  if [ "$c" != source-controller ]; then
    args+=("--requeue-dependency=${SHARDWATCH_FLUX_REQUEUE_DEPENDENCY:-5s}")
  fi
  if [ "$c" = source-controller ]; then
    local storage="127.0.0.1:$(port "$si" "$ci" 2)"
    mkdir -p "$RUN/storage/$name"
    args+=("--storage-addr=$storage" "--storage-adv-addr=$storage" "--storage-path=$RUN/storage/$name")
  fi
  local logf="$RUN/$name.log" holder
  holder=$(holder_name "$name")
  echo "=== $(date -u +%FT%TZ) hostname $holder: $BIN/$c ${args[*]}" >>"$logf"
  echo "$holder" >"$RUN/$name.hostname"
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

# Sets to act on: every set, or the one named (shard key or main). Prints "index name".
select_sets() { # [SET]
  if [ -z "${1:-}" ]; then sets; return; fi
  local line
  line=$(sets | awk -v s="$1" '$2 == s') || true
  [ -n "$line" ] || die "no set $1: one of $(sets | awk '{ printf "%s ", $2 }')"
  echo "$line"
}

# Healthy: every process of the sets answers on its /readyz (controller-runtime's health
# endpoint).
wait_ready() { # [SET]
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
    done < <(select_sets "${1:-}")
    [ ${#pending[@]} -eq 0 ] && return 0
    [ $SECONDS -ge $deadline ] && die "not ready after ${SHARDWATCH_FLUX_START_TIMEOUT:-60}s: ${pending[*]}"
    sleep 1
  done
}

# Everything a start needs: the binaries, the cluster, flux-system and the Flux CRDs.
connect() {
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
}

lock() {
  mkdir -p "$RUN"
  exec 9>"$RUN/.lock"
  flock -w 60 9 || die "another flux-controllers.sh holds $RUN/.lock"
}

start_sets() { # [SET]
  local si set ci
  while read -r si set; do
    for ci in "${!CONTROLLERS[@]}"; do start_one "${CONTROLLERS[$ci]}" "$ci" "$set" "$si"; done
  done < <(select_sets "${1:-}")
  wait_ready "${1:-}"
}

cmd_start() {
  connect
  lock
  start_sets
  log "all controllers ready"
}

# After a node comes back, its shard's pods become Running again (the old ones, or new
# ones once the old were evicted): wait for them (up to SHARDWATCH_FLUX_POD_TIMEOUT, 30 s),
# so the hostnames, hence the Lease holders, name the current pods. Without them the
# processes start anyway, named "<name>-local".
wait_pods() { # SET
  local deadline=$((SECONDS + ${SHARDWATCH_FLUX_POD_TIMEOUT:-30})) c missing
  while :; do
    missing=()
    for c in "${CONTROLLERS[@]}"; do
      [ -n "$(current_pod "$(proc_name "$c" "$1")" || true)" ] || missing+=("$(proc_name "$c" "$1")")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ $SECONDS -ge $deadline ]; then
      log "no Running pod after ${SHARDWATCH_FLUX_POD_TIMEOUT:-30}s for: ${missing[*]} (hostname <name>-local)"
      return 0
    fi
    sleep 1
  done
}

cmd_start_shard() { # SET
  [ -n "${1:-}" ] || die "usage: $0 start-shard SHARD"
  select_sets "$1" >/dev/null
  connect
  lock
  wait_pods "$1"
  start_sets "$1"
  log "set $1 ready"
}

# With preferred placement a dead node's pods are evicted and rescheduled elsewhere, and
# the processes (which stand in for those pods' containers) follow them: once each
# controller of the set has a Running pod, not being deleted, on a Ready node other than
# NODE, the set starts under those pods' names. Gives up after
# SHARDWATCH_FLUX_FOLLOW_TIMEOUT seconds (default 300); with required placement the pods
# never move, and cluster.sh restore-node starts the set instead.
cmd_follow_shard() { # SET NODE
  local set=${1:-} node=${2:-} c name pod where ready missing
  [ -n "$set" ] && [ -n "$node" ] || die "usage: $0 follow-shard SHARD NODE"
  select_sets "$set" >/dev/null
  connect
  local deadline=$((SECONDS + ${SHARDWATCH_FLUX_FOLLOW_TIMEOUT:-300}))
  while :; do
    missing=()
    for c in "${CONTROLLERS[@]}"; do
      name=$(proc_name "$c" "$set")
      pod=$(current_pod "$name")
      where=""
      [ -n "$pod" ] && where=$("$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" -n "$NAMESPACE" get pod "$pod" \
        -o jsonpath='{.spec.nodeName}' 2>/dev/null || true)
      ready=""
      [ -n "$where" ] && ready=$("$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get node "$where" \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
      if [ -z "$where" ] || [ "$where" = "$node" ] || [ "$ready" != True ]; then missing+=("$name"); fi
    done
    [ ${#missing[@]} -eq 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      log "set $set: pods not moved off $node after ${SHARDWATCH_FLUX_FOLLOW_TIMEOUT:-300}s (${missing[*]}); not started"
      return 0
    fi
    sleep 2
  done
  lock
  start_sets "$set"
  log "set $set followed its pods off $node"
}

# Stops the named processes: SIGTERM, SIGKILL after 20 s; or SIGKILL at once.
stop_names() { # SIGNAL NAME...
  local sig=$1 name pids=() names=()
  shift
  for name in "$@"; do
    if alive "$name"; then
      pids+=("$(cat "$RUN/$name.pid")"); names+=("$name")
      kill "-$sig" "$(cat "$RUN/$name.pid")" 2>/dev/null || true
    fi
    rm -f "$RUN/$name.hostname"
  done
  # On SIGTERM they release their Leases on the way out (--leader-election-release-on-cancel).
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
    sleep 0.2
  done
  for name in "$@"; do rm -f "$RUN/$name.pid"; done
  log "stopped ${#names[@]} processes$([ "$sig" = KILL ] && echo " with SIGKILL")"
}

cmd_stop() {
  [ -d "$RUN" ] || { log "nothing to stop (never started)"; return 0; }
  lock
  local pidf names=()
  for pidf in "$RUN"/*.pid; do
    [ -e "$pidf" ] && names+=("$(basename "$pidf" .pid)")
  done
  stop_names TERM "${names[@]}"
}

cmd_stop_shard() { # SET [--kill]
  [ -n "${1:-}" ] || die "usage: $0 stop-shard SHARD [--kill]"
  local sig=TERM c names=()
  case "${2:-}" in
    --kill) sig=KILL ;;
    "") ;;
    *) die "usage: $0 stop-shard SHARD [--kill]" ;;
  esac
  select_sets "$1" >/dev/null
  lock
  for c in "${CONTROLLERS[@]}"; do names+=("$(proc_name "$c" "$1")"); done
  stop_names "$sig" "${names[@]}"
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
        printf '%-28s running pid %-7s metrics :%s health :%s%s hostname %s\n' "$name" \
          "$(cat "$RUN/$name.pid")" "$(port "$si" "$ci" 0)" "$(port "$si" "$ci" 1)" \
          "$([ "$c" = source-controller ] && echo " storage :$(port "$si" "$ci" 2)")" \
          "$(cat "$RUN/$name.hostname" 2>/dev/null || echo '?')"
      else
        printf '%-28s stopped\n' "$name"
      fi
    done
  done < <(sets)
  echo "$up/$total running on 127.0.0.1 (logs in $RUN)"
  [ "$up" = "$total" ]
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  start-shard) cmd_start_shard "${2:-}" ;;
  stop-shard) cmd_stop_shard "${2:-}" "${3:-}" ;;
  follow-shard) cmd_follow_shard "${2:-}" "${3:-}" ;;
  *) echo "usage: $0 start|stop|status|start-shard SHARD|stop-shard SHARD [--kill]|follow-shard SHARD NODE" >&2; exit 2 ;;
esac
