#!/usr/bin/env bash
# Runs Node 24 with the given arguments after the project setup (Node 24, npm ci). The process gets
# SIGTERM if whoever started it dies, so a killed `npm run` never leaves it running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec setpriv --pdeathsig TERM -- node "$@"
