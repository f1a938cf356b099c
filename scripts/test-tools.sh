#!/usr/bin/env bash
# Builds the registry-side test tools from the Go module proxy into a per-version cache outside the
# repository, and prints the cache folder: the Distribution registry, the crane client, and
# `htpasswd-bcrypt` (a bcrypt line for the registry's htpasswd file). Rebuilds only what is missing.
set -euo pipefail

DISTRIBUTION_VERSION=v3.1.2
CRANE_VERSION=v0.22.1
CACHE_ROOT=${SEC_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/secret-export-controller/testbin}
OUT="$CACHE_ROOT/registry-$DISTRIBUTION_VERSION-crane-$CRANE_VERSION"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

log() { echo "test-tools: $*" >&2; }

# One throwaway module requiring both; x/crypto (bcrypt) comes with the registry.
build() {
  local work; work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  cat >"$work/go.mod" <<MOD
module local/registry-testbin

go 1.25.0

require (
	github.com/distribution/distribution/v3 $DISTRIBUTION_VERSION
	github.com/google/go-containerregistry $CRANE_VERSION
)
MOD
  mkdir -p "$work/htpasswd-bcrypt"
  cat >"$work/htpasswd-bcrypt/main.go" <<'GO'
// Prints "USER:BCRYPT(PASSWORD)" for a password read from stdin.
package main

import (
	"bufio"
	"fmt"
	"os"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	password, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && password == "" {
		fmt.Fprintln(os.Stderr, "usage: echo PASSWORD | htpasswd-bcrypt USER")
		os.Exit(2)
	}
	if len(password) > 0 && password[len(password)-1] == '\n' {
		password = password[:len(password)-1]
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%s:%s\n", os.Args[1], hash)
}
GO
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "github.com/distribution/distribution/v3/cmd/registry"\n\t_ "github.com/google/go-containerregistry/cmd/crane"\n\t_ "golang.org/x/crypto/bcrypt"\n)\n' >"$work/tools.go"
  (cd "$work" && go mod tidy)
  local pkg name
  for pkg in github.com/distribution/distribution/v3/cmd/registry github.com/google/go-containerregistry/cmd/crane ./htpasswd-bcrypt; do
    name=${pkg##*/}
    [ -x "$OUT/$name" ] && continue
    log "building $name"
    (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$OUT/$name.tmp" "$pkg")
    mv "$OUT/$name.tmp" "$OUT/$name"
  done
}

mkdir -p "$OUT"
if [ ! -x "$OUT/registry" ] || [ ! -x "$OUT/crane" ] || [ ! -x "$OUT/htpasswd-bcrypt" ]; then build; fi
echo "$OUT"
