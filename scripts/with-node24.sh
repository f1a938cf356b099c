#!/usr/bin/env bash
# Runs a TypeScript entry point with Node 24 after the project setup (Node 24, npm ci, binaries).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec node "$@"
