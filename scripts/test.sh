#!/usr/bin/env bash
# The whole check, from nothing: setup, control-plane binaries, the registry test tools, types, lint,
# then every test (pure unit tests and tests against the real control plane started once for the run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
SEC_TESTBIN_DIR=$(scripts/control-plane-binaries.sh)
SEC_TEST_TOOLS_DIR=$(scripts/test-tools.sh)
export SEC_TESTBIN_DIR SEC_TEST_TOOLS_DIR
node_modules/.bin/tsc --noEmit
node_modules/.bin/eslint .
node_modules/.bin/prettier --check .
exec node --test --test-concurrency=1 --test-timeout=600000 --test-global-setup=e2e/support/global-setup.ts "test/**/*.test.ts" "e2e/**/*.test.ts"
