#!/usr/bin/env bash
# A local Git server for the real Flux controllers: serves a bare repository
# shardwatch-infra.git, branch main, whose content is a manifests folder (this
# repository's manifests/ unless SHARDWATCH_MANIFESTS names another, e.g. the copy
# `shardwatch up` unpacks) placed at manifests/, as the Kustomizations' paths expect,
# over smart HTTP on 127.0.0.1 with `git http-backend` behind git_server.py.
#
# Usage: git-server.sh start     (re)publish manifests/ as a new commit when it changed, serve it
#        git-server.sh stop      stop the server
#        git-server.sh url       print the repository URL (exit 1 when not serving)
#        git-server.sh publish   commit the current manifests folder into the bare repository
#
# Environment: SHARDWATCH_MANIFESTS (folder to publish, default <repo>/manifests),
# SHARDWATCH_GIT_PORT (default 19480), SHARDWATCH_GIT_ADDR (address to bind and serve on,
# default 127.0.0.1; `up --target kind` gives the kind network's gateway),
# SHARDWATCH_CLUSTER_NAME (a cluster other than `shardwatch` keeps its own server state,
# so two clusters' servers on one machine do not share a pid file), SHARDWATCH_CACHE.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${SHARDWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shardwatch}
CLUSTER=${SHARDWATCH_CLUSTER_NAME:-shardwatch}
if [ "$CLUSTER" = shardwatch ]; then DIR="$CACHE/git-server"; else DIR="$CACHE/git-server-$CLUSTER"; fi
ROOT="$DIR/repos"
BARE="$ROOT/shardwatch-infra.git"
MANIFESTS=${SHARDWATCH_MANIFESTS:-$REPO/manifests}
PORT=${SHARDWATCH_GIT_PORT:-19480}
ADDR=${SHARDWATCH_GIT_ADDR:-127.0.0.1}
URL="http://$ADDR:$PORT/shardwatch-infra.git"
PIDF="$DIR/server.pid"
LOGF="$DIR/server.log"

log() { printf '[git-server %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

alive() {
  [ -f "$PIDF" ] || return 1
  local pid
  pid=$(cat "$PIDF")
  kill -0 "$pid" 2>/dev/null && grep -q git_server.py "/proc/$pid/cmdline" 2>/dev/null
}

# A fresh commit on main with the current manifests folder (only when the tree changed),
# made in a scratch work tree with a fixed identity, so the user's git config plays no part.
publish() {
  [ -d "$MANIFESTS" ] || die "no manifests folder at $MANIFESTS"
  mkdir -p "$ROOT"
  [ -d "$BARE" ] || git init -q --bare -b main "$BARE"
  local work="$DIR/work"
  rm -rf "$work"
  git clone -q "$BARE" "$work" 2>/dev/null
  git -C "$work" checkout -q -B main
  rm -rf "$work/manifests"
  mkdir "$work/manifests"
  cp -R "$MANIFESTS/." "$work/manifests/"
  git -C "$work" add -A
  if git -C "$work" diff --cached --quiet 2>/dev/null && git -C "$work" rev-parse -q --verify HEAD >/dev/null; then
    log "$MANIFESTS unchanged at $(git -C "$work" rev-parse --short HEAD)"
  else
    GIT_AUTHOR_NAME=shardwatch GIT_AUTHOR_EMAIL=shardwatch@localhost \
    GIT_COMMITTER_NAME=shardwatch GIT_COMMITTER_EMAIL=shardwatch@localhost \
      git -C "$work" -c commit.gpgsign=false commit -q -m "manifests/ of $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo shardwatch)"
    git -C "$work" push -q origin main
    log "published $MANIFESTS as $(git -C "$work" rev-parse --short HEAD)"
  fi
  rm -rf "$work"
}

cmd_start() {
  mkdir -p "$DIR"
  publish
  # A server bound to another address (loopback for the local target, the kind gateway
  # for kind) is restarted on the one asked for, so the URL printed is where it listens.
  if alive && [ "$(cat "$DIR/server.addr" 2>/dev/null || echo 127.0.0.1)" != "$ADDR" ]; then
    log "serving on $(cat "$DIR/server.addr" 2>/dev/null || echo 127.0.0.1), wanted on $ADDR: restarting"
    cmd_stop
  fi
  if alive; then
    log "already serving $URL (pid $(cat "$PIDF"))"
  else
    setsid python3 "$HERE/git_server.py" "$ROOT" "$PORT" "$ADDR" </dev/null >>"$LOGF" 2>&1 &
    echo $! >"$PIDF"
    echo "$ADDR" >"$DIR/server.addr"
    local deadline=$((SECONDS + 10))
    until git ls-remote "$URL" main >/dev/null 2>&1; do
      alive || die "server exited; see $LOGF"
      [ $SECONDS -ge $deadline ] && die "no answer on $URL after 10s; see $LOGF"
      sleep 0.2
    done
    log "serving $URL (pid $(cat "$PIDF"), log $LOGF)"
  fi
  echo "$URL"
}

cmd_stop() {
  if alive; then
    local pid
    pid=$(cat "$PIDF")
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    log "stopped (pid $pid)"
  fi
  rm -f "$PIDF"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  url)
    alive || die "not serving (git-server.sh start)"
    echo "http://$(cat "$DIR/server.addr" 2>/dev/null || echo 127.0.0.1):$PORT/shardwatch-infra.git" ;;
  publish) publish ;;
  *) echo "usage: $0 start|stop|url|publish" >&2; exit 2 ;;
esac
