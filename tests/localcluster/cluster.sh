#!/usr/bin/env bash
# The local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok as
# kubelets): `shardwatch local …`. Usage: cluster.sh start | stop | status | kubeconfig |
# bin | fail-node NAME [--wait] | restore-node NAME [--wait] | kubectl ARGS... |
# stop-apiserver | start-apiserver [--no-wait] | restart-controllers. Options and environment: README, "The local world".
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/shardwatch.sh"
case "${1:-}" in
  kubectl) shift; exec "$SHARDWATCH_BIN" local kubectl -- "$@" ;;
  "") exec "$SHARDWATCH_BIN" local --help ;;
  *) exec "$SHARDWATCH_BIN" local "$@" ;;
esac
