#!/usr/bin/env bash
# Runs a command after the project setup, with Node 24 first on PATH: for the tools (tsc, eslint,
# prettier) whose `#!/usr/bin/env node` would otherwise find an older system Node.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec "$@"
