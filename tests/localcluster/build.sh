#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy into a cache
# folder outside the repository, keyed by version. Only the first run pays the build.
# Usage: build.sh            (prints the bin folder on its last line)
set -euo pipefail

K8S_VERSION=${SHARDWATCH_K8S_VERSION:-v1.34.4}
KWOK_VERSION=${SHARDWATCH_KWOK_VERSION:-v0.8.0}
ETCD_VERSION=${SHARDWATCH_ETCD_VERSION:-v3.6.5}
CACHE=${SHARDWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shardwatch}
BIN="$CACHE/k8s-$K8S_VERSION-kwok-$KWOK_VERSION-etcd-$ETCD_VERSION/bin"
mkdir -p "$BIN"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Wrapper module trick: k8s.io/kubernetes replaces its staging modules with local
# folders, which `go install` refuses; a module of our own that requires it and maps
# each staging module to its published v0.X.Y builds the commands as released.
build_kubernetes() {
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  local missing=()
  for c in "${cmds[@]}"; do [ -x "$BIN/$c" ] || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local dir="$CACHE/src/kubernetes-$K8S_VERSION"
  mkdir -p "$dir"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  local staging="v0.${K8S_VERSION#v1.}"
  {
    echo "module shardwatch.local/kubernetes-build"
    echo "go 1.24.0"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo "replace ("
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$staging"'#p' "$gomod"
    echo ")"
  } >"$dir/go.mod"
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  for c in "${missing[@]}"; do
    log "building $c $K8S_VERSION (slow on a cold cache)"
    (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ld" \
      -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c") && mv "$BIN/$c.tmp" "$BIN/$c"
  done
}

# etcd's server module also replaces its siblings with local folders: same trick.
build_etcd() {
  [ -x "$BIN/etcd" ] && return 0
  local dir="$CACHE/src/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  local gomod
  gomod=$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module shardwatch.local/etcd-build"
    echo "go 1.24.0"
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo "replace ("
    sed -n 's#^\s*\(go.etcd.io/etcd/[a-z0-9/]*\) => \.\./.*#\t\1 => \1 '"$ETCD_VERSION"'#p' "$gomod"
    echo ")"
  } >"$dir/go.mod"
  log "building etcd $ETCD_VERSION"
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
    -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3) && mv "$BIN/etcd.tmp" "$BIN/etcd"
}

build_kwok() {
  [ -x "$BIN/kwok" ] && [ -x "$BIN/kwokctl" ] && return 0
  log "building kwok and kwokctl $KWOK_VERSION"
  GOBIN="$BIN" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
  # The stage definitions kwok needs to make nodes and pods Ready ship in its module.
  local src
  src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  mkdir -p "$BIN/../stages"
  cp "$src"/kustomize/stage/node/fast/*.yaml "$src"/kustomize/stage/node/heartbeat-with-lease/*.yaml \
     "$src"/kustomize/stage/pod/fast/*.yaml "$BIN/../stages/" 2>/dev/null || true
  rm -f "$BIN/../stages/kustomization.yaml"
}

build_kwok
build_etcd
build_kubernetes
log "binaries ready in $BIN"
echo "$BIN"
