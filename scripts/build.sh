#!/usr/bin/env bash
# `npm run build`: TypeScript -> dist/ (tsc -p tsconfig.build.json), then the workflow code bundled once into
# dist/workflow-bundle.js, which the pipeline worker loads instead of bundling at every start.
# --if-stale: do nothing when dist/ is newer than every source file (npm start, npm test, npm run worker:*).
set -euo pipefail
cd "$(dirname "$0")/.."
STAMP=dist/.build-stamp
SOURCES=(lib workflows activities workers scripts tsconfig.json tsconfig.build.json package-lock.json)

if [ "${1:-}" = "--if-stale" ] && [ -f "$STAMP" ] && [ -z "$(find "${SOURCES[@]}" -newer "$STAMP" -print -quit)" ]; then
  exit 0
fi
printf '\n\033[1m==> %s\033[0m\n' "building dist/ (tsc, workflow bundle)" >&2
# Stamped before compiling, so a source edited during the build makes the next run rebuild.
next_stamp=$(mktemp)
rm -rf dist
npx --no-install tsc -p tsconfig.build.json
node dist/scripts/bundle-workflows.js dist/workflow-bundle.js
mv "$next_stamp" "$STAMP"
