#!/usr/bin/env bash
# A local Kubernetes control plane for the tests: real etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler as processes, run by kwokctl's binary
# runtime, with kwok playing the kubelets of the nodes kind-config.yaml describes.
# Nothing is downloaded here: the binaries come from build.sh's cache folder.
#
# Usage: cluster.sh start                 start (or reuse) the cluster, ensure its nodes are Ready
#        cluster.sh stop                  delete the cluster and every process of it, and
#                                         stop the local kubelet (with the Flux controllers)
#                                         and the Git server
#        cluster.sh status                running or not, and the nodes
#        cluster.sh kubeconfig            print the kubeconfig path (exit 1 if there is none)
#        cluster.sh bin                   print the folder of the cached binaries (no build)
#        cluster.sh fail-node NAME [--wait]     kwok stops heartbeating NAME; it goes NotReady;
#                                         the local kubelet (shardwatch kubelet) SIGKILLs
#                                         the Flux controllers of the pods on it
#        cluster.sh restore-node NAME [--wait]  kwok heartbeats NAME again; it goes Ready;
#                                         the kubelet starts its pods' controllers again
#        cluster.sh kubectl ARGS...       the cached kubectl against this cluster
#        cluster.sh stop-apiserver        SIGKILL this cluster's kube-apiserver only (an outage;
#                                         etcd, the controllers and kwok keep running)
#        cluster.sh start-apiserver [--no-wait]  start it again with the same flags; waits
#                                         until /readyz answers unless --no-wait
#        cluster.sh pause-etcd            SIGSTOP this cluster's etcd: the apiserver still
#                                         answers /version, but lists hang (a slow initial list)
#        cluster.sh resume-etcd           SIGCONT it
#        cluster.sh compact-etcd          compact etcd's history up to its current revision
#                                         (printed), as etcdctl compact would
#
# The kind config is read by shardwatch itself (`shardwatch kind-nodes`, the one parser of
# it): SHARDWATCH_BIN, default <target dir>/debug/shardwatch (run `cargo build` first).
#
# Environment: SHARDWATCH_CLUSTER_NAME (kwokctl cluster name, default shardwatch),
# SHARDWATCH_KIND_CONFIG (default <repo>/kind-config.yaml), SHARDWATCH_START_TIMEOUT
# (seconds, default 120), SHARDWATCH_NODE_GRACE_PERIOD (default 10),
# SHARDWATCH_NODE_MONITOR_PERIOD (default 2), SHARDWATCH_NODE_LEASE_SECONDS (default 8),
# SHARDWATCH_TOLERATION_SECONDS (default 30), SHARDWATCH_APISERVER_PORT (default: kwokctl
# picks one; set it where apiserver restarts are tested), and build.sh's SHARDWATCH_CACHE and
# SHARDWATCH_*_VERSION.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

# Same cache layout as build.sh.
K8S_VERSION=${SHARDWATCH_K8S_VERSION:-v1.34.4}
KWOK_VERSION=${SHARDWATCH_KWOK_VERSION:-v0.8.0}
ETCD_VERSION=${SHARDWATCH_ETCD_VERSION:-v3.6.5}
CACHE=${SHARDWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shardwatch}
BIN="$CACHE/k8s-$K8S_VERSION-kwok-$KWOK_VERSION-etcd-$ETCD_VERSION/bin"
STAGES="$BIN/../stages"

CLUSTER=${SHARDWATCH_CLUSTER_NAME:-shardwatch}
KIND_CONFIG=${SHARDWATCH_KIND_CONFIG:-$REPO/kind-config.yaml}
START_TIMEOUT=${SHARDWATCH_START_TIMEOUT:-120}
GRACE_PERIOD=${SHARDWATCH_NODE_GRACE_PERIOD:-10}
MONITOR_PERIOD=${SHARDWATCH_NODE_MONITOR_PERIOD:-2}
# kwok renews a node's lease every quarter of this, so well inside the grace period.
LEASE_SECONDS=${SHARDWATCH_NODE_LEASE_SECONDS:-8}
TOLERATION_SECONDS=${SHARDWATCH_TOLERATION_SECONDS:-30}
# kwokctl picks free ports just below 32768; a port freed by stop-apiserver can be taken
# by another cluster starting meanwhile. A fixed port outside that range (and outside
# the kernel's ephemeral range) keeps an apiserver restartable.
APISERVER_PORT=${SHARDWATCH_APISERVER_PORT:-}

# kwokctl keeps its clusters (pki, etcd data, logs, pids) under its workdir: ours is in
# the cache, never in the repository or ~/.kwok.
export KWOK_WORKDIR="$CACHE/kwok"
WORKDIR="$KWOK_WORKDIR/clusters/$CLUSTER"
KUBECONFIG_PATH="$WORKDIR/kubeconfig.yaml"
CONFIG="$KWOK_WORKDIR/$CLUSTER.kwokctl.yaml"
KWOKCTL_LOG="$KWOK_WORKDIR/$CLUSTER.kwokctl.log"
# kwokctl insists on adding a context to some kubeconfig; keep it away from ~/.kube.
KWOKCTL_CONTEXTS="$KWOK_WORKDIR/kwokctl-contexts.kubeconfig"

MANAGED_ANNOTATION=kwok.x-k8s.io/node
FLUX="$HERE/flux-controllers.sh"
FAIL_HOLDER=shardwatch-fail-node
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller)
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl)
STAGE_FILES=(node-initialize node-heartbeat-with-lease pod-ready pod-complete pod-delete)

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
k() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

lock() {
  mkdir -p "$KWOK_WORKDIR"
  exec 9>"$KWOK_WORKDIR/$CLUSTER.lock"
  flock -w 600 9 || die "another cluster.sh holds $KWOK_WORKDIR/$CLUSTER.lock"
}

ensure_binaries() {
  local missing=0 b s
  for b in "${BINARIES[@]}"; do [ -x "$BIN/$b" ] || missing=1; done
  for s in "${STAGE_FILES[@]}"; do [ -f "$STAGES/$s.yaml" ] || missing=1; done
  [ "$missing" = 0 ] && return 0
  log "binaries missing in $BIN: building them (the first build takes tens of minutes)"
  local built
  built=$("$HERE/build.sh" | tail -n 1)
  [ "$built" = "$BIN" ] || die "build.sh built into $built, expected $BIN"
  for b in "${BINARIES[@]}"; do [ -x "$BIN/$b" ] || die "build.sh did not produce $BIN/$b"; done
  for s in "${STAGE_FILES[@]}"; do [ -f "$STAGES/$s.yaml" ] || die "build.sh did not copy stage $s"; done
}

# The whole kwokctl configuration: options, component flags, and the stages kwok v0.8
# needs (it has no built-in ones) so nodes go Ready and pods Running/Ready, plus ours
# from tests/localcluster/stages/.
write_config() {
  {
    cat <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  kubeVersion: $K8S_VERSION
  bindAddress: 127.0.0.1
  heartbeatFactor: 1
  nodeLeaseDurationSeconds: $LEASE_SECONDS
  kubeControllerManagerNodeMonitorPeriodMilliseconds: $((MONITOR_PERIOD * 1000))
  kubeControllerManagerNodeMonitorGracePeriodMilliseconds: $((GRACE_PERIOD * 1000))
  kubectlBinary: $BIN/kubectl
$([ -z "$APISERVER_PORT" ] || echo "  kubeApiserverPort: $APISERVER_PORT")
  # kwok serves kubectl logs from the files its Logs objects name (the supervisor
  # writes one per Flux controller pod); the apiserver reaches kwok's kubelet server
  # through the nodes' Hostname address (localhost) and daemon endpoint port.
  enableCRDs:
  - Logs
componentsPatches:
- name: kube-apiserver
  extraArgs:
  - key: default-not-ready-toleration-seconds
    value: "$TOLERATION_SECONDS"
  - key: default-unreachable-toleration-seconds
    value: "$TOLERATION_SECONDS"
# One of each: no leader election, so an apiserver outage longer than the renew deadline
# (10 s) does not make them exit; they wait for the server like the kubelets do.
- name: kube-controller-manager
  extraArgs:
  - key: leader-elect
    value: "false"
- name: kube-scheduler
  extraArgs:
  - key: leader-elect
    value: "false"
- name: kwok-controller
  extraArgs:
  # Without a node IP, kwok's node-initialize stage empties a node's addresses when it
  # initializes the node again (after restore-node), and the API server then has no
  # address to reach kwok's kubelet server at (kubectl logs fails).
  - key: node-ip
    value: 127.0.0.1
    override: true
  - key: manage-all-nodes
    value: "false"
    override: true
  - key: manage-nodes-with-annotation-selector
    value: $MANAGED_ANNOTATION=fake
EOF
    local s
    for s in "${STAGE_FILES[@]}"; do
      echo "---"
      cat "$STAGES/$s.yaml"
    done
    # Our own stages (see each file's comment).
    for s in "$HERE"/stages/*.yaml; do
      echo "---"
      cat "$s"
    done
  } >"$1"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Running means: every component's process is alive and the apiserver answers /readyz.
running() {
  [ -f "$KUBECONFIG_PATH" ] || return 1
  local c
  for c in "${COMPONENTS[@]}"; do pid_alive "$WORKDIR/pids/$c.pid" || return 1; done
  k get --raw /readyz --request-timeout=5s >/dev/null 2>&1
}

# Processes of this cluster: kwokctl runs every binary through a symlink in $WORKDIR/bin.
cluster_pids() { pgrep -f "^$WORKDIR/bin/" || true; }

create_cluster() {
  log "creating cluster $CLUSTER (kwokctl binary runtime, workdir $WORKDIR)"
  local new="$CONFIG.new"
  write_config "$new"
  mv "$new" "$CONFIG"
  # KWOK_KUBECTL_BINARY keeps kwokctl from ever looking for kubectl elsewhere. The
  # components it starts outlive this script, so they must not inherit the lock (fd 9).
  if ! KWOK_KUBECTL_BINARY="$BIN/kubectl" "$BIN/kwokctl" --name "$CLUSTER" --config "$CONFIG" \
    create cluster --runtime binary --kubeconfig "$KWOKCTL_CONTEXTS" \
    --kube-apiserver-binary "$BIN/kube-apiserver" \
    --kube-controller-manager-binary "$BIN/kube-controller-manager" \
    --kube-scheduler-binary "$BIN/kube-scheduler" \
    --kwok-controller-binary "$BIN/kwok" \
    --etcd-binary "$BIN/etcd" \
    --wait "${START_TIMEOUT}s" >"$KWOKCTL_LOG" 2>&1 9>&-; then
    tail -n 20 "$KWOKCTL_LOG" >&2
    die "kwokctl create cluster failed; full log: $KWOKCTL_LOG, component logs: $WORKDIR/logs/"
  fi
}

delete_cluster() {
  # The local kubelet first: it would start the components kwokctl stops again.
  if [ -x "$FLUX" ]; then "$FLUX" stop 9>&- || log "warning: flux-controllers.sh stop failed"; fi
  if [ -d "$WORKDIR" ]; then
    KWOK_KUBECTL_BINARY="$BIN/kubectl" "$BIN/kwokctl" --name "$CLUSTER" \
      delete cluster --kubeconfig "$KWOKCTL_CONTEXTS" >>"$KWOKCTL_LOG" 2>&1 9>&- ||
      log "kwokctl delete cluster failed (see $KWOKCTL_LOG); cleaning up by hand"
  fi
  # kwokctl signals the processes and returns at once: give them 3s, then SIGTERM
  # whatever is left (say its pid files were lost), then SIGKILL after 10s more. Only
  # processes running this cluster's binaries are touched, never a pid file's guess.
  local start=$SECONDS left termed=0
  while left=$(cluster_pids | tr '\n' ' ') && [ -n "$left" ]; do
    if [ $((SECONDS - start)) -ge 13 ]; then
      log "killing leftover processes: $left"
      # shellcheck disable=SC2086
      kill -KILL $left 2>/dev/null || true
      sleep 1
      break
    elif [ $((SECONDS - start)) -ge 3 ] && [ "$termed" = 0 ]; then
      log "terminating leftover processes: $left"
      # shellcheck disable=SC2086
      kill -TERM $left 2>/dev/null || true
      termed=1
    fi
    sleep 0.2
  done
  rm -rf "$WORKDIR"
  left=$(cluster_pids)
  [ -z "$left" ] || die "processes of cluster $CLUSTER still running: $left"
}

# shardwatch reads the kind config (`shardwatch kind-nodes`): one parser of it, in Rust.
SHARDWATCH_BIN=${SHARDWATCH_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/debug/shardwatch}
kind_nodes() {
  [ -x "$SHARDWATCH_BIN" ] || die "no shardwatch binary at $SHARDWATCH_BIN (cargo build, or set SHARDWATCH_BIN)"
  "$SHARDWATCH_BIN" kind-nodes --kind-config "$KIND_CONFIG" "$@"
}
node_names() { kind_nodes --names; }

lease_holder() {
  k -n kube-node-lease get lease "$1" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true
}

# kwok v0.8 keeps heartbeating a node whose annotation stops matching its selector (its
# informer drops the update instead of forgetting the node), but it only manages nodes
# whose Lease it holds. So a failure takes the Lease over for a day and stops renewing
# it, exactly what a dead kubelet looks like to the node lifecycle controller. The
# annotation flip keeps the node unmanaged should kwok restart meanwhile.
fail_node() {
  local node=$1 now
  k get node "$node" >/dev/null || die "no node $node"
  k annotate node "$node" --overwrite "$MANAGED_ANNOTATION=shardwatch-failed" >/dev/null
  now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
  k -n kube-node-lease patch lease "$node" --type merge -p \
    "{\"spec\":{\"holderIdentity\":\"$FAIL_HOLDER\",\"leaseDurationSeconds\":86400,\"renewTime\":\"$now\"}}" >/dev/null
  log "node $node failed: no more heartbeats; NotReady after the ${GRACE_PERIOD}s grace period"
}

# Hands the node back: the annotation matches kwok's selector again and the Lease is
# expired, so kwok acquires it, manages the node and its stages make it Ready.
restore_node() {
  local node=$1
  k get node "$node" >/dev/null || die "no node $node"
  k annotate node "$node" --overwrite "$MANAGED_ANNOTATION=fake" >/dev/null
  if [ "$(lease_holder "$node")" = "$FAIL_HOLDER" ]; then
    k -n kube-node-lease patch lease "$node" --type merge -p \
      '{"spec":{"leaseDurationSeconds":1,"renewTime":"1970-01-01T00:00:00.000000Z"}}' >/dev/null
  fi
  log "node $node restored: kwok heartbeats it again"
}

ready_status() {
  k get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true
}

# wait_node NAME want(True|notTrue) timeout
wait_node() {
  local node=$1 want=$2 deadline=$((SECONDS + $3)) st
  while :; do
    st=$(ready_status "$node")
    if [ "$want" = True ] && [ "$st" = True ]; then return 0; fi
    if [ "$want" != True ] && [ -n "$st" ] && [ "$st" != True ]; then return 0; fi
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.5
  done
}

ensure_nodes() {
  local nodes node
  nodes=$(node_names) || die "cannot read nodes from $KIND_CONFIG"
  kind_nodes | k apply -f - >/dev/null
  for node in $nodes; do
    if [ "$(lease_holder "$node")" = "$FAIL_HOLDER" ] ||
      [ "$(k get node "$node" -o jsonpath="{.metadata.annotations.kwok\.x-k8s\.io/node}")" != fake ]; then
      log "node $node was left failed: restoring it"
      restore_node "$node"
    fi
  done
  local deadline=$((SECONDS + START_TIMEOUT)) bad
  while :; do
    bad=""
    for node in $nodes; do [ "$(ready_status "$node")" = True ] || bad+=" $node"; done
    [ -z "$bad" ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      k get nodes -o wide >&2 || true
      die "nodes not Ready after ${START_TIMEOUT}s:$bad (kwok log: $WORKDIR/logs/kwok-controller.log)"
    fi
    sleep 0.5
  done
  # Namespaced objects need their default ServiceAccount; wait for the controller's first one.
  deadline=$((SECONDS + START_TIMEOUT))
  until k -n default get serviceaccount default >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && die "no default ServiceAccount after ${START_TIMEOUT}s"
    sleep 0.5
  done
}

cmd_start() {
  command -v python3 >/dev/null || die "python3 is required"
  ensure_binaries
  lock
  local fresh
  fresh=$(mktemp)
  write_config "$fresh"
  if running && cmp -s "$fresh" "$CONFIG"; then
    log "cluster $CLUSTER already running"
  else
    if [ -d "$WORKDIR" ] || [ -n "$(cluster_pids)" ]; then
      log "cluster $CLUSTER is stale, half-running or configured differently: recreating it"
      delete_cluster
    fi
    create_cluster
  fi
  rm -f "$fresh"
  ensure_nodes
  log "cluster $CLUSTER ready with nodes: $(node_names | tr '\n' ' ')"
  echo "export KUBECONFIG=$KUBECONFIG_PATH" >&2
  echo "$KUBECONFIG_PATH"
}

cmd_stop() {
  lock
  # The Flux controllers first, while the apiserver can still take their Leases back;
  # then the Git server they read from. Neither may keep the cluster from stopping.
  if [ -x "$FLUX" ]; then "$FLUX" stop 9>&- || log "warning: flux-controllers.sh stop failed"; fi
  if [ -x "$HERE/git-server.sh" ]; then
    "$HERE/git-server.sh" stop 9>&- || log "warning: git-server.sh stop failed"
  fi
  # `shardwatch up`'s record of this cluster (its target, shape and shard key) goes with
  # it, so the next start is read with the default kind config again.
  rm -f "$CACHE/stood-up/$CLUSTER.json"
  if [ ! -d "$WORKDIR" ] && [ -z "$(cluster_pids)" ]; then
    log "cluster $CLUSTER is not running"
    return 0
  fi
  delete_cluster
  log "cluster $CLUSTER deleted; no process of it left"
}

cmd_status() {
  if running; then
    echo "cluster $CLUSTER: running (kubeconfig $KUBECONFIG_PATH)"
    k get nodes -L sharding.fluxcd.io/key
  else
    echo "cluster $CLUSTER: not running"
    local left
    left=$(cluster_pids)
    [ -z "$left" ] || echo "stray processes of it: $left (cluster.sh stop removes them)"
    return 1
  fi
}

# The apiserver alone, for outage tests: kwokctl has no per-component restart, so its
# command line is kept beside the pid file and replayed, logging where kwokctl's did.
APISERVER_PID="$WORKDIR/pids/kube-apiserver.pid"
APISERVER_CMDLINE="$WORKDIR/kube-apiserver.cmdline"

cmd_stop_apiserver() {
  [ -f "$KUBECONFIG_PATH" ] || die "cluster $CLUSTER is not running"
  pid_alive "$APISERVER_PID" || { log "kube-apiserver of $CLUSTER is not running"; return 0; }
  local pid
  pid=$(cat "$APISERVER_PID")
  [ -f "$APISERVER_CMDLINE" ] || cp "/proc/$pid/cmdline" "$APISERVER_CMDLINE"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  log "kube-apiserver of $CLUSTER killed (pid $pid)"
}

cmd_start_apiserver() {
  local wait=${1:-}
  [ -f "$APISERVER_CMDLINE" ] || die "no saved command line: stop-apiserver first"
  if pid_alive "$APISERVER_PID"; then
    log "kube-apiserver of $CLUSTER already running"
  else
    local args=()
    mapfile -d '' -t args <"$APISERVER_CMDLINE"
    # setsid may fork, so the process writes its own pid before becoming the apiserver.
    (cd "$WORKDIR" && exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$APISERVER_PID" "${args[@]}" \
      </dev/null >>"$WORKDIR/logs/kube-apiserver.log" 2>&1 9>&-) &
    local deadline=$((SECONDS + 5))
    until pid_alive "$APISERVER_PID" && grep -q kube-apiserver "/proc/$(cat "$APISERVER_PID")/cmdline" 2>/dev/null; do
      [ "$SECONDS" -ge "$deadline" ] && die "kube-apiserver did not start (log: $WORKDIR/logs/kube-apiserver.log)"
      sleep 0.05
    done
    log "kube-apiserver of $CLUSTER started (pid $(cat "$APISERVER_PID"))"
  fi
  [ "$wait" = --no-wait ] && return 0
  local deadline=$((SECONDS + START_TIMEOUT))
  until k get --raw /readyz --request-timeout=2s >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && die "kube-apiserver not ready after ${START_TIMEOUT}s"
    sleep 0.1
  done
  log "kube-apiserver of $CLUSTER ready"
}

# etcd paused and resumed, for tests that need lists to hang while the apiserver answers.
ETCD_PID="$WORKDIR/pids/etcd.pid"

cmd_signal_etcd() {
  pid_alive "$ETCD_PID" || die "etcd of $CLUSTER is not running"
  kill "-$1" "$(cat "$ETCD_PID")"
  log "etcd of $CLUSTER: SIG$1 sent (pid $(cat "$ETCD_PID"))"
}

# etcdctl is not among the cached binaries: etcd's own JSON gateway does the same.
cmd_compact_etcd() {
  pid_alive "$ETCD_PID" || die "etcd of $CLUSTER is not running"
  local url rev
  url=$(tr '\0' '\n' <"/proc/$(cat "$ETCD_PID")/cmdline" | sed -n 's/^--advertise-client-urls=//p' | cut -d, -f1)
  [ -n "$url" ] || die "cannot find etcd's client URL"
  rev=$(curl -sf -X POST "$url/v3/kv/range" -d '{"key":"AA=="}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["header"]["revision"])') ||
    die "cannot read etcd's revision at $url"
  curl -sf -X POST "$url/v3/kv/compaction" -d "{\"revision\":\"$rev\",\"physical\":true}" >/dev/null ||
    die "compaction at revision $rev failed"
  log "etcd of $CLUSTER compacted up to revision $rev"
  echo "$rev"
}

# fail-node / restore-node NAME [--wait]
cmd_node() {
  local action=$1 node=${2:-} wait=${3:-}
  [ -n "$node" ] || die "usage: cluster.sh $action NODE [--wait]"
  running || die "cluster $CLUSTER is not running"
  if [ "$action" = fail-node ]; then
    fail_node "$node"
    if [ "$wait" = --wait ]; then
      wait_node "$node" notTrue "$START_TIMEOUT" || die "node $node still Ready after ${START_TIMEOUT}s"
      log "node $node is NotReady"
    fi
  else
    restore_node "$node"
    if [ "$wait" = --wait ]; then
      wait_node "$node" True "$START_TIMEOUT" || die "node $node not Ready after ${START_TIMEOUT}s"
      log "node $node is Ready"
    fi
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  kubeconfig)
    echo "$KUBECONFIG_PATH"
    [ -f "$KUBECONFIG_PATH" ] || { log "cluster $CLUSTER has no kubeconfig: not started"; exit 1; }
    ;;
  bin) echo "$BIN" ;;
  fail-node | restore-node) cmd_node "$1" "${2:-}" "${3:-}" ;;
  kubectl) shift; k "$@" ;;
  stop-apiserver) cmd_stop_apiserver ;;
  start-apiserver) cmd_start_apiserver "${2:-}" ;;
  pause-etcd) cmd_signal_etcd STOP ;;
  resume-etcd) cmd_signal_etcd CONT ;;
  compact-etcd) cmd_compact_etcd ;;
  *) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
