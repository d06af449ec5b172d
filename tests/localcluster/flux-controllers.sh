#!/usr/bin/env bash
# The real Flux controllers of the local cluster run under shardwatch's local kubelet
# (`shardwatch kubelet`, src/local/kubelet/), which `shardwatch up --target local` starts:
# one process per Flux controller Deployment, as its current pod, restarted with the
# kubelet's back-off, killed with its node, moved with its pod; `kubectl logs` shows its
# output. This script only reads and stops it, for people and scripts that run it by hand.
#
# Usage: flux-controllers.sh status   one line per controller (running pid … pod … restarts
#                                     N, back-off, or stopped); exit 0 only when all run
#        flux-controllers.sh stop     stop the kubelet, which stops every controller
#                                     (SIGTERM: they release their Leases)
#        flux-controllers.sh dir      print the kubelet's folder (kubelet.log, logs/, status)
#
# Environment: SHARDWATCH_CLUSTER_NAME (default shardwatch), SHARDWATCH_CACHE.
set -euo pipefail

CACHE=${SHARDWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shardwatch}
RUN="$CACHE/kwok/${SHARDWATCH_CLUSTER_NAME:-shardwatch}.kubelet"

log() { printf '[flux-controllers %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

kubelet_pid() {
  local pid
  pid=$(cat "$RUN/kubelet.pid" 2>/dev/null) || return 1
  { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q ' kubelet ' || return 1
  echo "$pid"
}

case "${1:-}" in
  status)
    if ! kubelet_pid >/dev/null; then
      echo "the local kubelet is not running (shardwatch up --target local starts it)"
      exit 1
    fi
    cat "$RUN/status"
    tail -n 1 "$RUN/status" | awk '{ split($1, n, "/"); exit !(n[1] == n[2]) }'
    ;;
  stop)
    pid=$(kubelet_pid) || { log "the local kubelet is not running"; exit 0; }
    kill -TERM "$pid"
    for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { log "killing the local kubelet (pid $pid)"; kill -KILL "$pid"; }
    log "stopped the local kubelet (pid $pid) and its controllers"
    ;;
  dir) echo "$RUN" ;;
  *) echo "usage: $0 status|stop|dir" >&2; exit 2 ;;
esac
