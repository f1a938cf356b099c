#!/usr/bin/env bash
# What a fresh machine needs before the project can run, idempotent and quick when done: Node 24
# (from the npm registry, into .tools/ when the machine's Node is older) and npm ci when the lockfile
# changed. Source it to get Node 24 first on PATH. The control-plane binaries are built on first use
# (scripts/control-plane-binaries.sh).
set -euo pipefail

NODE_VERSION=24.21.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/.tools"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node24() {
  [ "$(node_major)" -ge 24 ] && return 0
  local dir="$TOOLS/node-v$NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    local arch work
    case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) echo "unsupported CPU $(uname -m)" >&2; return 1 ;; esac
    echo "setup: installing Node $NODE_VERSION from the npm registry into $dir" >&2
    work=$(mktemp -d)
    (cd "$work" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null && tar xzf ./*.tgz package/bin/node)
    mkdir -p "$dir/bin"
    mv "$work/package/bin/node" "$dir/bin/node"
    rm -rf "$work"
  fi
  export PATH="$dir/bin:$PATH"
}

ensure_dependencies() {
  local stamp="$ROOT/node_modules/.lock-stamp" want
  want=$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) >&2
  echo "$want" >"$stamp"
}

ensure_node24
ensure_dependencies
