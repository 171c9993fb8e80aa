import assert from 'node:assert/strict';
import test from 'node:test';
import { JsonLogger } from '../../lib/temporal/log';

function capture(minLevel: 'DEBUG' | 'INFO' | 'WARN' = 'INFO'): { log: JsonLogger; lines: string[] } {
  const lines: string[] = [];
  return { log: new JsonLogger({ worker: 'pipeline' }, minLevel, (line) => lines.push(line)), lines };
}

test('one JSON object per line with ts, level, msg, the base fields and the metadata', () => {
  const { log, lines } = capture();
  log.info('Worker started', { taskQueue: 'q1', n: 3 });
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0] as string) as Record<string, unknown>;
  assert.equal(entry['level'], 'info');
  assert.equal(entry['msg'], 'Worker started');
  assert.equal(entry['worker'], 'pipeline');
  assert.equal(entry['taskQueue'], 'q1');
  assert.equal(entry['n'], 3);
  assert.match(String(entry['ts']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('below the minimum level nothing is written; errors keep message and stack; bigints are strings', () => {
  const { log, lines } = capture('WARN');
  log.info('not shown');
  log.debug('not shown either');
  log.warn('closing failed', { error: new Error('socket hang up'), offset: 12345678901234567890n });
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0] as string) as { level: string; error: { message: string; stack: string }; offset: string };
  assert.equal(entry.level, 'warn');
  assert.equal(entry.error.message, 'socket hang up');
  assert.match(entry.error.stack, /socket hang up/);
  assert.equal(entry.offset, '12345678901234567890');
});

test('passwords and secrets are redacted wherever they sit, other fields are kept', () => {
  const { log, lines } = capture();
  log.error('bad config', {
    password: 'pw-top-1',
    mysql: { user: 'trackflow_app', password: 'pw-nested-2' },
    config: { kafka: { sasl: { username: 'trackflow_stream', password: 'pw-deep-3' } } },
    TRACKFLOW_MYSQL_ADMIN_PASSWORD: 'pw-env-4',
    env: { TRACKFLOW_KAFKA_STREAM_PASSWORD: 'pw-env-5' },
    secret: 'pw-secret-6',
  });
  const line = lines[0] as string;
  for (const leaked of ['pw-top-1', 'pw-nested-2', 'pw-deep-3', 'pw-env-4', 'pw-env-5', 'pw-secret-6']) assert.ok(!line.includes(leaked), `${leaked} in ${line}`);
  const entry = JSON.parse(line) as { password: string; mysql: { user: string; password: string }; config: { kafka: { sasl: { username: string; password: string } } } };
  assert.equal(entry.password, '[redacted]');
  assert.equal(entry.mysql.password, '[redacted]');
  assert.equal(entry.mysql.user, 'trackflow_app');
  assert.equal(entry.config.kafka.sasl.password, '[redacted]');
  assert.equal(entry.config.kafka.sasl.username, 'trackflow_stream');
});

test('as the Temporal Runtime logger it forwards the SDK levels', () => {
  const { log, lines } = capture('DEBUG');
  log.log('DEBUG', 'poll', { sdkComponent: 'worker' });
  log.log('ERROR', 'failed');
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { level: string }).level), ['debug', 'error']);
});

test('a metadata key that is also a base field appears once, with the metadata value', () => {
  const lines: string[] = [];
  new JsonLogger({ worker: 'stream', taskQueue: 'base-q' }, 'INFO', (line) => lines.push(line)).info('state', { taskQueue: 'meta-q' });
  assert.equal((lines[0]?.match(/"taskQueue"/g) ?? []).length, 1);
  assert.equal((JSON.parse(lines[0] as string) as { taskQueue: string }).taskQueue, 'meta-q');
});
