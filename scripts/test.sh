#!/usr/bin/env bash
# `npm test`: everything a fresh clone needs, then every test tier against the real stack.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bootstrap.sh

step "type-checking and linting"
npx --no-install tsc --noEmit -p .
npx --no-install eslint --max-warnings=0 .

step "running unit, workflow, integration and fast fault tests against the real stack"
files=(test/unit/*.test.ts test/workflows/*.test.ts test/integration/*.test.ts)
if compgen -G "test/faults/fast/*.test.ts" >/dev/null; then files+=(test/faults/fast/*.test.ts); fi
exec node --import tsx --test --test-concurrency=1 --test-timeout=600000 "$@" "${files[@]}"
