#!/usr/bin/env bash
# `npm run test:tls`: the golden end-to-end test and the TLS refusal tests with every client over TLS to the
# local stack (its own CA, lib/stack/tls.ts): MySQL and Cassandra with TLS on their ports, Kafka on SASL_SSL.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bootstrap.sh
state=$(npx --no-install tsx -e "process.stdout.write(require('./lib/config').config().stateDir)")
ca="$state/tls/ca.pem"
kafka_port=$(npx --no-install tsx -e "require('./lib/config').config(); const e=process.env; process.stdout.write(String(e.TRACKFLOW_STACK_KAFKA_TLS_PORT ?? Number(e.TRACKFLOW_STACK_KAFKA_PORT ?? 9092) + 2))")
export TRACKFLOW_MYSQL_TLS=true TRACKFLOW_MYSQL_TLS_CA_FILE="$ca"
export TRACKFLOW_CASSANDRA_TLS=true TRACKFLOW_CASSANDRA_TLS_CA_FILE="$ca"
export TRACKFLOW_KAFKA_TLS=true TRACKFLOW_KAFKA_TLS_CA_FILE="$ca" TRACKFLOW_KAFKA_BROKERS="127.0.0.1:$kafka_port"
step "golden end to end and TLS refusals, every client over TLS (CA $ca)"
exec node --import tsx --test --test-concurrency=1 "$@" test/integration/e2e-golden.test.ts test/integration/tls.test.ts
