#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from the Go module proxy into a
# per-version cache outside the repository, and prints the cache folder. Rebuilds only what is missing.
set -euo pipefail

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
CACHE_ROOT=${SEC_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/secret-export-controller/testbin}
OUT="$CACHE_ROOT/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

log() { echo "control-plane-binaries: $*" >&2; }

build_etcd() {
  local work; work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  cat >"$work/go.mod" <<MOD
module local/etcd-testbin

go 1.25.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$work/tools.go"
  (cd "$work" && go mod tidy && go build -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$OUT/etcd.tmp" "$OUT/etcd"
}

# k8s.io/kubernetes points every staging module at ./staging/src; as a dependency those replaces are
# ignored, so our module replaces each one with its published v0.MINOR.PATCH twin.
build_kubernetes() {
  local work kmod staging ldflags bin
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  staging=v0.${K8S_VERSION#v1.}
  kmod=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo 'module local/k8s-testbin'
    awk '$1=="go"{print; exit}' "$kmod"
    grep -E '^godebug ' "$kmod" || true
    echo "require k8s.io/kubernetes $K8S_VERSION"
    awk -v v="$staging" '/=> *\.\/staging\/src\// {for(i=1;i<=NF;i++) if($i ~ /^k8s\.io\//){print "replace " $i " => " $i " " v; break}}' "$kmod"
  } >"$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n)\n' >"$work/tools.go"
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
  ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  (cd "$work" && go mod tidy)
  for bin in kube-apiserver kube-controller-manager; do
    [ -x "$OUT/$bin" ] && continue
    log "building $bin $K8S_VERSION"
    (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$OUT/$bin.tmp" "k8s.io/kubernetes/cmd/$bin")
    mv "$OUT/$bin.tmp" "$OUT/$bin"
  done
}

mkdir -p "$OUT"
if [ ! -x "$OUT/etcd" ]; then log "building etcd $ETCD_VERSION"; build_etcd; fi
if [ ! -x "$OUT/kube-apiserver" ] || [ ! -x "$OUT/kube-controller-manager" ]; then build_kubernetes; fi
echo "$OUT"
