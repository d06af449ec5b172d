#!/usr/bin/env bash
# Builds the real Flux controllers (source-, kustomize- and helm-controller) from the Go
# module proxy into a cache folder outside the repository, keyed by the Flux version.
# Only the first run pays the build; nothing of Flux is kept in the repository.
# Usage: build-flux.sh       (prints the bin folder on its last line)
#
# Environment: SHARDWATCH_FLUX_VERSION (default v2.7.3), SHARDWATCH_SOURCE_CONTROLLER_VERSION,
# SHARDWATCH_KUSTOMIZE_CONTROLLER_VERSION, SHARDWATCH_HELM_CONTROLLER_VERSION (defaults:
# the versions Flux v2.7.3 ships, as flux-crds.sh), SHARDWATCH_CACHE.
set -euo pipefail

FLUX_VERSION=${SHARDWATCH_FLUX_VERSION:-v2.7.3}
SOURCE_CONTROLLER=${SHARDWATCH_SOURCE_CONTROLLER_VERSION:-v1.7.3}
KUSTOMIZE_CONTROLLER=${SHARDWATCH_KUSTOMIZE_CONTROLLER_VERSION:-v1.7.3}
HELM_CONTROLLER=${SHARDWATCH_HELM_CONTROLLER_VERSION:-v1.4.3}
CACHE=${SHARDWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shardwatch}
BIN="$CACHE/flux-$FLUX_VERSION/bin"
mkdir -p "$BIN"

log() { printf '[build-flux %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Wrapper module trick (as build.sh does for Kubernetes): each controller's go.mod
# replaces its own api module with the local folder ./api, which `go install` refuses.
# A module of our own requires the controller and maps that api module to its published
# version (tagged api/vX.Y.Z in the controller's repository, the same version as the
# controller). A dependency's replace lines do not apply to the main module, so the
# controller's other (non-local) replace lines are copied into the wrapper: they pin
# go-digest with BLAKE3, kustomize and yaml.v3 exactly as the release builds them.
build_controller() { # NAME VERSION
  local name=$1 version=$2
  local module="github.com/fluxcd/$name"
  local out="$BIN/$name"
  if [ -x "$out" ] && [ "$(cat "$out.version" 2>/dev/null)" = "$version" ]; then
    return 0
  fi
  local dir="$CACHE/src/flux-$name-$version"
  mkdir -p "$dir"
  local gomod
  gomod=$(cd "$dir" && go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$gomod" ] || { log "error: cannot download $module@$version"; exit 1; }
  # The api module must be on the proxy at the controller's version.
  (cd "$dir" && go mod download "$module/api@$version") \
    || { log "error: $module/api@$version is not on the Go module proxy"; exit 1; }
  local gover
  gover=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
  {
    echo "module shardwatch.local/flux-$name-build"
    echo "go ${gover:-1.25.0}"
    echo "require $module $version"
    echo "replace ("
    printf '\t%s/api => %s/api %s\n' "$module" "$module" "$version"
    # Every '=>' line of a go.mod is a replace (single or in a block); drop local ones.
    grep '=>' "$gomod" | sed 's#^\s*replace\s*##; s#//.*##' | grep -v '=>\s*\.\.\?/' \
      | sed 's#^\s*#\t#'
    echo ")"
  } >"$dir/go.mod"
  rm -f "$dir/go.sum"
  log "building $name $version (slow on a cold cache)"
  local t0=$SECONDS
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
    -o "$out.tmp" "$module") && mv "$out.tmp" "$out"
  echo "$version" >"$out.version"
  log "built $name $version in $((SECONDS - t0))s"
}

build_controller source-controller "$SOURCE_CONTROLLER"
build_controller kustomize-controller "$KUSTOMIZE_CONTROLLER"
build_controller helm-controller "$HELM_CONTROLLER"
log "Flux $FLUX_VERSION controllers ready in $BIN"
echo "$BIN"
