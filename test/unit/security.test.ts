import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { TrackflowError } from '../../lib/domain/errors';
import { ConfigError, loadConfig } from '../../lib/config';
import { ensureDotEnv, fillSecrets } from '../../lib/dotenv';
import { confineInputPath } from '../../lib/security/paths';
import { grantDatabase } from '../../lib/migrate/mysql';
import { sha256File, verifyJars } from '../../lib/stack/provision';
import { CHECKSUMS, VERSIONS } from '../../lib/stack/versions';
import { kafkaAcls } from '../../lib/stack/security';
import { sliceGroupId } from '../../lib/stream/slice';
import { AclOperationTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-security-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MARKER = 'root:x:0:0:secret-marker';

function layout() {
  const dir = fs.mkdtempSync(path.join(tmp, 'case-'));
  const landing = path.join(dir, 'landing');
  fs.mkdirSync(path.join(landing, 'jobs'), { recursive: true });
  const secret = path.join(dir, 'passwd');
  fs.writeFileSync(secret, `${MARKER}\n`);
  fs.writeFileSync(path.join(landing, 'ok.csv'), 'a,b\n');
  return { dir, landing, secret };
}

function refusal(fn: () => unknown): TrackflowError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TrackflowError, `expected an error of the taxonomy, got ${String(err)}`);
    assert.equal(err.retryable, false);
    assert.ok(!err.message.includes(MARKER), 'the refusal must not echo file content');
    return err;
  }
  assert.fail('expected a refusal');
}

test('a file inside the landing directory is accepted and resolved', () => {
  const { landing } = layout();
  assert.equal(confineInputPath(path.join(landing, 'ok.csv'), [landing]), fs.realpathSync(path.join(landing, 'ok.csv')));
  assert.equal(confineInputPath(landing, [landing], 'directory'), fs.realpathSync(landing));
});

test('a path outside the landing directory, directly or through "..", is refused naming path and rule', () => {
  const { landing, secret } = layout();
  for (const p of [secret, path.join(landing, '..', 'passwd'), '/etc/passwd']) {
    const err = refusal(() => confineInputPath(p, [landing]));
    assert.equal(err.type, 'PathOutsideInputDirs');
    assert.match(err.message, /outside the input directories/);
    assert.ok(err.message.includes(path.resolve(p)));
  }
});

test('a symlink in the landing directory, to a file or through a linked directory, is refused', () => {
  const { dir, landing, secret } = layout();
  fs.symlinkSync(secret, path.join(landing, 'evil.csv'));
  fs.symlinkSync(path.join(landing, 'ok.csv'), path.join(landing, 'inside-link.csv'));
  fs.symlinkSync(dir, path.join(landing, 'up'));
  for (const p of ['evil.csv', 'inside-link.csv', path.join('up', 'passwd')]) {
    const err = refusal(() => confineInputPath(path.join(landing, p), [landing]));
    assert.equal(err.type, 'SymlinkRefused');
    assert.match(err.message, /is a symbolic link/);
  }
});

test('a missing file and a directory given as a file are refused with their own rule', () => {
  const { landing } = layout();
  assert.equal(refusal(() => confineInputPath(path.join(landing, 'nope.csv'), [landing])).type, 'FileNotFound');
  assert.equal(refusal(() => confineInputPath(path.join(landing, 'jobs'), [landing])).type, 'PathNotRegular');
});

const BASE_ENV = { TRACKFLOW_MYSQL_PASSWORD: 'a1b2c3', TRACKFLOW_MYSQL_ADMIN_PASSWORD: 'd4e5f6' };

test('a change-me password anywhere in the configuration is refused', () => {
  for (const key of ['TRACKFLOW_MYSQL_PASSWORD', 'TRACKFLOW_MYSQL_ADMIN_PASSWORD', 'TRACKFLOW_CASSANDRA_PASSWORD', 'TRACKFLOW_KAFKA_STREAM_PASSWORD']) {
    assert.throws(() => loadConfig({ ...BASE_ENV, [key]: 'change-me-app' }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, new RegExp(`${key} is the example placeholder`));
      return true;
    });
  }
  assert.throws(() => loadConfig({ ...BASE_ENV, TRACKFLOW_MYSQL_PASSWORD: 'ChangeMe' }), ConfigError);
  assert.equal(loadConfig(BASE_ENV).mysql.password, 'a1b2c3');
});

test('keyspace, database, topic and group names must match the identifier patterns', () => {
  const bad: Array<[string, string]> = [
    ['TRACKFLOW_CASSANDRA_KEYSPACE', 'lake; DROP KEYSPACE x'],
    ['TRACKFLOW_CASSANDRA_KEYSPACE', 'Trackflow'],
    ['TRACKFLOW_MYSQL_DATABASE', 'trackflow`; DROP DATABASE mysql; --'],
    ['TRACKFLOW_MYSQL_DATABASE', 'a'.repeat(49)],
    ['TRACKFLOW_KAFKA_TOPIC', 'events topic'],
    ['TRACKFLOW_KAFKA_DLQ_TOPIC', '../dlq'],
    ['TRACKFLOW_KAFKA_GROUP', 'group"x'],
  ];
  for (const [key, value] of bad) {
    assert.throws(() => loadConfig({ ...BASE_ENV, [key]: value }), (err: Error) => err instanceof ConfigError && err.message.startsWith(key), `${key}=${value}`);
  }
  const ok = loadConfig({ ...BASE_ENV, TRACKFLOW_CASSANDRA_KEYSPACE: 'trackflow_t_a1', TRACKFLOW_KAFKA_TOPIC: 'trackflow.t.a1' });
  assert.equal(ok.kafka.deadLetterTopic, 'trackflow.t.a1.dlq');
});

test('TLS verification off is refused in production mode and allowed (with a warning) elsewhere', () => {
  const off = { ...BASE_ENV, TRACKFLOW_MYSQL_TLS: 'true', TRACKFLOW_MYSQL_TLS_REJECT_UNAUTHORIZED: 'false' };
  assert.throws(() => loadConfig({ ...off, TRACKFLOW_ENV: 'production' }), /REJECT_UNAUTHORIZED=false is refused/);
  assert.equal(loadConfig(off).mysql.tls.rejectUnauthorized, false);
});

test('workers get no admin secret: the admin password is optional in the configuration', () => {
  const cfg = loadConfig({ TRACKFLOW_MYSQL_PASSWORD: 'a1b2c3' });
  assert.equal(cfg.mysql.adminPassword, undefined);
});

test('first run: .env is the example with every empty or placeholder password replaced by a random one, mode 0600', () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'env-'));
  const example = path.join(dir, '.env.example');
  fs.writeFileSync(example, 'TRACKFLOW_MYSQL_USER=trackflow_app\nTRACKFLOW_MYSQL_PASSWORD=\nTRACKFLOW_KAFKA_ADMIN_PASSWORD=change-me\n');
  const target = path.join(dir, '.env');
  ensureDotEnv(target, example);
  const text = fs.readFileSync(target, 'utf8');
  assert.equal(fs.statSync(target).mode & 0o777, 0o600);
  const secrets = [...text.matchAll(/PASSWORD=([0-9a-f]*)$/gm)].map((m) => m[1]);
  assert.equal(secrets.length, 2);
  for (const s of secrets) assert.equal(s?.length, 48);
  assert.notEqual(secrets[0], secrets[1]);
  assert.match(text, /^TRACKFLOW_MYSQL_USER=trackflow_app$/m);
  // A second run keeps the secrets it made; a key the example gained later is added.
  fs.appendFileSync(example, 'TRACKFLOW_CASSANDRA_PASSWORD=\n');
  ensureDotEnv(target, example);
  const again = fs.readFileSync(target, 'utf8');
  assert.ok(again.startsWith(text));
  assert.match(again, /^TRACKFLOW_CASSANDRA_PASSWORD=[0-9a-f]{48}$/m);
});

test('fillSecrets keeps a real password and replaces a quoted placeholder', () => {
  const { text, generated } = fillSecrets('TRACKFLOW_MYSQL_PASSWORD=s3cret\nTRACKFLOW_MYSQL_ADMIN_PASSWORD="change-me-admin"\n', '');
  assert.deepEqual(generated, ['TRACKFLOW_MYSQL_ADMIN_PASSWORD']);
  assert.match(text, /^TRACKFLOW_MYSQL_PASSWORD=s3cret$/m);
  assert.doesNotMatch(text, /change-me/);
});

test('a MySQL grant names exactly one database: GRANT wildcards are escaped', () => {
  assert.equal(grantDatabase('trackflow_t_a1'), '`trackflow\\_t\\_a1`');
  assert.equal(grantDatabase('trackflow'), '`trackflow`');
  assert.throws(() => grantDatabase('trackflow%'), ConfigError);
});

test('a jar whose sha256 is not the recorded one, an unrecorded jar, or a missing one stops the stack', () => {
  const lib = fs.mkdtempSync(path.join(tmp, 'lib-'));
  fs.writeFileSync(path.join(lib, 'a-1.0.jar'), 'original');
  const sums = { 'a-1.0.jar': sha256File(path.join(lib, 'a-1.0.jar')) };
  verifyJars(lib, sums);
  fs.writeFileSync(path.join(lib, 'a-1.0.jar'), 'tampered');
  assert.throws(() => verifyJars(lib, sums), /a-1\.0\.jar: sha256 [0-9a-f]{64} differs from the recorded/);
  fs.writeFileSync(path.join(lib, 'a-1.0.jar'), 'original');
  fs.writeFileSync(path.join(lib, 'extra-2.0.jar'), 'x');
  assert.throws(() => verifyJars(lib, sums), /extra-2\.0\.jar: not a recorded artifact/);
  fs.rmSync(path.join(lib, 'extra-2.0.jar'));
  fs.rmSync(path.join(lib, 'a-1.0.jar'));
  assert.throws(() => verifyJars(lib, sums), /recorded jar\(s\) missing \(a-1\.0\.jar\)/);
});

test('every server artifact has a recorded sha256', () => {
  assert.ok(Object.keys(CHECKSUMS.cassandra).length > 50);
  assert.ok(Object.keys(CHECKSUMS.kafka).length > 50);
  for (const sum of [...Object.values(CHECKSUMS.cassandra), ...Object.values(CHECKSUMS.kafka), CHECKSUMS.temporalBinary, CHECKSUMS.temporalWheel.sha256]) {
    assert.match(sum, /^[0-9a-f]{64}$/);
  }
  assert.ok(CHECKSUMS.cassandra[`cassandra-all-${VERSIONS.cassandra}.jar` as keyof typeof CHECKSUMS.cassandra]);
  assert.ok(CHECKSUMS.kafka[`kafka_2.13-${VERSIONS.kafka}.jar` as keyof typeof CHECKSUMS.kafka]);
});

test('the stream user may read the groups of every parallel consumer, and only those', () => {
  const cfg = loadConfig({ ...BASE_ENV, TRACKFLOW_KAFKA_STREAM_USERNAME: 'trackflow_stream', TRACKFLOW_KAFKA_STREAM_PASSWORD: 'g7h8i9' });
  const groups = kafkaAcls(cfg).filter((a) => a.principal === `User:${cfg.kafka.users.stream?.username}` && a.resourceType === AclResourceTypes.GROUP);
  assert.deepEqual(
    groups.map((a) => [a.resourceName, a.resourcePatternType, a.operation]),
    [
      ['trackflow-warehouse', ResourcePatternTypes.PREFIXED, AclOperationTypes.READ],
      ['trackflow-warehouse', ResourcePatternTypes.PREFIXED, AclOperationTypes.DESCRIBE],
    ],
  );
  assert.equal(sliceGroupId(cfg.kafka.consumerGroup, { index: 2, count: 6 }), 'trackflow-warehouse.slice-2-of-6');
});
