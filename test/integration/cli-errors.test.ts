import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../../lib/config';
import { isolatedEnv, openTestStack } from '../support/env';
import type { TestStack } from '../support/env';

const run = promisify(execFile);
const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3 };

let tmp: string;
let unusedPort: number;
let stack: TestStack;
before(async () => {
  // Migrated schemas, so that with one service down the others answer as they would in production.
  stack = await openTestStack('clierr');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-cli-errors-'));
  // A port that was free a moment ago: nothing listens there, so a client pointed at it is refused.
  unusedPort = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
});
after(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await stack?.close();
});

type Service = 'cassandra' | 'kafka' | 'mysql' | 'temporal';

function downEnv(service: Service): NodeJS.ProcessEnv {
  const at = `127.0.0.1:${unusedPort}`;
  const env = isolatedEnv(stack.config);
  if (service === 'cassandra') env['TRACKFLOW_CASSANDRA_CONTACT_POINTS'] = at;
  if (service === 'kafka') env['TRACKFLOW_KAFKA_BROKERS'] = at;
  if (service === 'mysql') env['TRACKFLOW_MYSQL_PORT'] = String(unusedPort);
  if (service === 'temporal') env['TRACKFLOW_TEMPORAL_ADDRESS'] = at;
  return env;
}

async function trackflow(args: string[], env?: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(REPO_ROOT, 'bin', 'trackflow'), ...args], { env: env ?? isolatedEnv(stack.config), cwd: tmp, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The contract: exactly one line on stderr naming the command, no stack frame, no client library log line. */
function assertOneLine(r: { code: number; stderr: string }, code: number, pattern: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(r.code, code, r.stderr);
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^trackflow( [a-z]+)?: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at |"level":|KafkaJS|\{\s*$/m);
  assert.doesNotMatch(r.stderr, /\bat \S+ \(\S+:\d+:\d+\)|errno:/, 'no stack frame or inspected error object');
}

/** Every command with arguments that are otherwise valid, and the services it needs. */
const COMMANDS: Array<{ args: string[]; services: Service[] }> = [
  { args: ['export', 'events', '--csv'], services: ['mysql'] },
  { args: ['ledger', 'prune', '--older-than', '90'], services: ['mysql'] },
  { args: ['report', '--json'], services: ['mysql'] },
  { args: ['quarantine', 'list'], services: ['cassandra'] },
  { args: ['reconcile'], services: ['cassandra', 'kafka', 'mysql'] },
  { args: ['wait', '--caught-up', '--timeout', '5'], services: ['cassandra', 'kafka', 'mysql'] },
  { args: ['schedule', 'list'], services: ['temporal'] },
  { args: ['stream', 'status'], services: ['temporal'] },
];

describe('one error path: one line, the documented exit code', { concurrency: 4 }, () => {
  for (const c of [...COMMANDS.map((x) => x.args), ['generate'], ['ingest', 'x.csv'], ['jobs', 'load', 'x.csv']]) {
    test(`${c.join(' ')} --no-such-flag: exit 2`, async () => {
      assertOneLine(await trackflow([...c, '--no-such-flag']), EXIT.usage, /no-such-flag/);
    });
  }

  test('ingest and jobs load of a missing file: the same exit 2 and message', async () => {
    assertOneLine(await trackflow(['ingest', 'missing.csv']), EXIT.usage, /no such file: .*missing\.csv/);
    assertOneLine(await trackflow(['jobs', 'load', 'missing.csv']), EXIT.usage, /no such file: .*missing\.csv/);
    assertOneLine(await trackflow(['ingest', '--landing', 'missing-dir']), EXIT.usage, /missing-dir/);
  });

  test('report --html into a missing directory: exit 2', async () => {
    assertOneLine(await trackflow(['report', '--html', 'no/such/dir/r.html']), EXIT.usage, /no\/such\/dir/);
  });

  for (const c of [...COMMANDS, { args: ['ingest', path.join(REPO_ROOT, 'test', 'fixtures', 'tracking_sample.csv')], services: ['temporal'] as Service[] }, { args: ['jobs', 'load', path.join(REPO_ROOT, 'test', 'fixtures', 'job_sample.csv')], services: ['mysql'] as Service[] }]) {
    for (const service of c.services) {
      test(`${c.args[0]} ${c.args[1] ?? ''} with ${service} down: exit 3`, { timeout: 120_000 }, async () => {
        assertOneLine(await trackflow(c.args, downEnv(service)), EXIT.unavailable, new RegExp(`${service}|unavailable|cannot reach`, 'i'));
      });
    }
  }

  test('--verbose adds detail to the same failure', async () => {
    const r = await trackflow(['--verbose', 'quarantine', 'list'], downEnv('cassandra'));
    assert.equal(r.code, EXIT.unavailable);
    assert.ok(r.stderr.split('\n').filter(Boolean).length > 1, r.stderr);
  });
});
