#!/usr/bin/env bash
# `npm start`: install what is missing, bring the local stack up, then run the whole pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bootstrap.sh
step "running the pipeline (workers, jobs, stream, ingest and publish)"
exec node --import tsx scripts/start.ts "$@"
