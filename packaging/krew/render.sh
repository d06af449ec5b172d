#!/usr/bin/env bash
# Fills the Krew manifest template for a release: render.sh VERSION BASE_URL HOMEPAGE DIST
# where DIST holds the release archives named as in shardwatch.yaml (built elsewhere; each
# holds kubectl-shardwatch and LICENSE). Prints the manifest to stdout for krew-index, or
# for a local try: kubectl krew install --manifest=shardwatch.yaml --archive=ARCHIVE.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 4 ] || { echo "usage: $0 VERSION BASE_URL HOMEPAGE DIST" >&2; exit 2; }
export VERSION=$1 BASE_URL=$2 HOMEPAGE=$3
DIST=$4
sum() { sha256sum "$DIST/shardwatch-$VERSION-$1.tar.gz" | cut -d' ' -f1; }
SHA256_LINUX_AMD64=$(sum x86_64-unknown-linux-gnu)
SHA256_LINUX_ARM64=$(sum aarch64-unknown-linux-gnu)
SHA256_DARWIN_ARM64=$(sum aarch64-apple-darwin)
export SHA256_LINUX_AMD64 SHA256_LINUX_ARM64 SHA256_DARWIN_ARM64
# Only these variables: the manifest's other `$` text stays as it is.
envsubst '${VERSION} ${BASE_URL} ${HOMEPAGE} ${SHA256_LINUX_AMD64} ${SHA256_LINUX_ARM64} ${SHA256_DARWIN_ARM64}' \
  <"$HERE/shardwatch.yaml" | grep -v '^#'
