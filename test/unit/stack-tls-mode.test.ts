import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDotEnvSettings, clientTlsSettings, kafkaTlsPort, stackTlsMode } from '../../lib/stack/tlsMode';

const ENV = ['TRACKFLOW_MYSQL_TLS=false', '# TRACKFLOW_CASSANDRA_TLS_CA_FILE=', 'TRACKFLOW_KAFKA_TLS=false', 'OTHER=1', ''].join('\n');

test('strict mode switches the three clients to TLS with the CA, in place, and keeps other lines', () => {
  const out = applyDotEnvSettings(ENV, clientTlsSettings('required', '/s/tls/ca.pem'));
  assert.equal(
    out,
    [
      'TRACKFLOW_MYSQL_TLS=true',
      'TRACKFLOW_CASSANDRA_TLS_CA_FILE=/s/tls/ca.pem',
      'TRACKFLOW_KAFKA_TLS=true',
      'OTHER=1',
      'TRACKFLOW_MYSQL_TLS_CA_FILE=/s/tls/ca.pem',
      'TRACKFLOW_CASSANDRA_TLS=true',
      'TRACKFLOW_KAFKA_TLS_CA_FILE=/s/tls/ca.pem',
      '',
    ].join('\n'),
  );
});

test('going back to offered turns TLS off and comments the CA lines out', () => {
  const strict = applyDotEnvSettings(ENV, clientTlsSettings('required', '/s/tls/ca.pem'));
  const back = applyDotEnvSettings(strict, clientTlsSettings('offered', '/s/tls/ca.pem'));
  assert.match(back, /^TRACKFLOW_MYSQL_TLS=false$/m);
  assert.match(back, /^TRACKFLOW_KAFKA_TLS=false$/m);
  assert.match(back, /^# TRACKFLOW_MYSQL_TLS_CA_FILE=$/m);
  assert.doesNotMatch(back, /ca\.pem/);
});

test('Kafka TLS port: the client port in strict mode, else TRACKFLOW_STACK_KAFKA_TLS_PORT or port + 2', () => {
  assert.equal(kafkaTlsPort(9092, 'required', {}), 9092);
  assert.equal(kafkaTlsPort(9092, 'offered', {}), 9094);
  assert.equal(kafkaTlsPort(9092, 'offered', { TRACKFLOW_STACK_KAFKA_TLS_PORT: '19999' }), 19999);
});

test('TRACKFLOW_STACK_TLS takes offered or required, and a clear error otherwise', () => {
  assert.equal(stackTlsMode({ TRACKFLOW_STACK_TLS: 'required' }), 'required');
  assert.equal(stackTlsMode({ TRACKFLOW_STACK_TLS: 'offered' }), 'offered');
  assert.throws(() => stackTlsMode({ TRACKFLOW_STACK_TLS: 'yes' }), /TRACKFLOW_STACK_TLS must be one of offered, required \(got "yes"\)/);
});
