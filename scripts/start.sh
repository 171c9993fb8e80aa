#!/usr/bin/env bash
# `npm start`: install what is missing, build dist/ if a source changed, bring the local stack up, then run the
# whole pipeline from the compiled code.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bootstrap.sh
step "running the pipeline (workers, jobs, stream, ingest and publish)"
exec node dist/scripts/start.js "$@"
