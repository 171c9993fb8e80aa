#!/usr/bin/env bash
# `npm run test:tls`: the golden end-to-end test and the TLS refusal tests with every client over TLS to the
# local stack (its own CA, lib/stack/tls.ts): MySQL and Cassandra with TLS on their ports, Kafka on SASL_SSL.
# Against the strict stack (`up --tls`) it also shows each server refusing a plaintext client.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/bootstrap.sh
state=$(npx --no-install tsx -e "process.stdout.write(require('./lib/config').config().stateDir)")
ca="$state/tls/ca.pem"
# In strict mode (`npm run stack -- up --tls`) Kafka's client port is SASL_SSL; otherwise its extra TLS listener.
read -r mode kafka_port < <(npx --no-install tsx -e "require('./lib/config').config(); const m=require('./lib/stack/tlsMode'); const mode=m.stackTlsMode(); process.stdout.write(mode + ' ' + m.kafkaTlsPort(Number(require('./lib/config').config().kafka.brokers[0].split(':').pop()), mode) + '\\n')")
export TRACKFLOW_MYSQL_TLS=true TRACKFLOW_MYSQL_TLS_CA_FILE="$ca"
export TRACKFLOW_CASSANDRA_TLS=true TRACKFLOW_CASSANDRA_TLS_CA_FILE="$ca"
export TRACKFLOW_KAFKA_TLS=true TRACKFLOW_KAFKA_TLS_CA_FILE="$ca" TRACKFLOW_KAFKA_BROKERS="127.0.0.1:$kafka_port"
export TRACKFLOW_STACK_TLS="$mode"
step "golden end to end and TLS refusals, every client over TLS (CA $ca; stack TLS $mode)"
[ "$mode" = required ] || echo "  the stack only offers TLS: the plaintext refusals skip (npm run stack -- down && npm run stack -- up --tls)"
exec node --import tsx --test --test-concurrency=1 "$@" test/integration/e2e-golden.test.ts test/integration/tls.test.ts \
  test/integration/tls-required.test.ts
