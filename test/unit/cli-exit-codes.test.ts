import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

// The exit-code contract of every command (docs/operations.md): 0 ok, 1 a check failed, 2 bad usage,
// 3 a service unavailable; a failure is one line on stderr, never a stack trace. Nothing here needs the stack:
// the services are pointed at a port nobody listens on.

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'trackflow');
const TRACKING = path.join(ROOT, 'test', 'fixtures', 'tracking_sample.csv');
const JOBS = path.join(ROOT, 'test', 'fixtures', 'job_sample.csv');
const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3 };

let tmp: string;
let env: NodeJS.ProcessEnv;

/** .env.example's settings with every secret filled in, so the test does not depend on a local .env. */
function exampleEnv(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const line of fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2] || (m[1]!.endsWith('PASSWORD') ? 'test-only-secret-value' : '');
  }
  return out;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-exit-codes-'));
  // A port that was free a moment ago: a client pointed at it is refused.
  const closed = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
  const at = `127.0.0.1:${closed}`;
  env = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    ...exampleEnv(),
    TRACKFLOW_STATE_DIR: path.join(tmp, 'state'),
    TRACKFLOW_LANDING_DIR: tmp,
    TRACKFLOW_CASSANDRA_CONTACT_POINTS: at,
    TRACKFLOW_KAFKA_BROKERS: at,
    TRACKFLOW_MYSQL_PORT: String(closed),
    TRACKFLOW_TEMPORAL_ADDRESS: at,
    TRACKFLOW_STACK_CASSANDRA_PORT: String(closed),
    TRACKFLOW_STACK_KAFKA_PORT: String(closed),
    TRACKFLOW_STACK_MYSQL_PORT: String(closed),
    TRACKFLOW_STACK_TEMPORAL_PORT: String(closed),
  };
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const trackflow = (args: string[]) => run([BIN, ...args]);

/** Exactly one line on stderr, prefixed with the command, matching `pattern`; no stack frame, no driver log. */
function assertOneLine(r: { code: number | null; stderr: string }, code: number, prefix: string, pattern: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(r.code, code, r.stderr);
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.ok(lines[0]!.startsWith(`${prefix}: `), lines[0]);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at |\bat \S+ \(\S+:\d+:\d+\)|TypeError|"level":|errno:/m);
}

interface Case {
  /** A valid invocation. */
  args: string[];
  /** The same command with a required argument or option left out. */
  missing?: string[];
  /** The exit code with every service down (3), or 1 for `stack status`, which reports them unhealthy. */
  down?: number;
}

const CASES: Case[] = [
  { args: ['stack', 'up'], missing: ['stack'] },
  { args: ['stack', 'down'] },
  { args: ['stack', 'status'], down: EXIT.failed },
  { args: ['stack', 'logs', 'kafka'], missing: ['stack', 'logs'] },
  { args: ['stack', 'reset'] },
  { args: ['generate'], missing: ['generate', '--events'] },
  { args: ['jobs', 'load', JOBS], missing: ['jobs', 'load'], down: EXIT.unavailable },
  { args: ['export', 'events'], missing: ['export'], down: EXIT.unavailable },
  { args: ['schedule', 'create'], missing: ['schedule'], down: EXIT.unavailable },
  { args: ['schedule', 'update'], down: EXIT.unavailable },
  { args: ['schedule', 'delete'], down: EXIT.unavailable },
  { args: ['schedule', 'list'], down: EXIT.unavailable },
  { args: ['schedule', 'pause'], down: EXIT.unavailable },
  { args: ['schedule', 'unpause'], down: EXIT.unavailable },
  { args: ['schedule', 'trigger'], down: EXIT.unavailable },
  { args: ['schedule', 'backfill', '--from', '2024-01-01T00:00:00Z', '--to', '2024-01-02T00:00:00Z'], missing: ['schedule', 'backfill', '--to', '2024-01-02T00:00:00Z'], down: EXIT.unavailable },
  { args: ['ingest', TRACKING], missing: ['ingest'], down: EXIT.unavailable },
  { args: ['stream', 'start'], missing: ['stream'], down: EXIT.unavailable },
  { args: ['stream', 'status'], down: EXIT.unavailable },
  { args: ['stream', 'pause'], down: EXIT.unavailable },
  { args: ['stream', 'resume'], down: EXIT.unavailable },
  { args: ['stream', 'scale', '--consumers', '1'], missing: ['stream', 'scale'], down: EXIT.unavailable },
  { args: ['stream', 'drain'], down: EXIT.unavailable },
  { args: ['stream', 'stop'], down: EXIT.unavailable },
  { args: ['reconcile'], down: EXIT.unavailable },
  { args: ['report'], down: EXIT.unavailable },
  { args: ['wait', '--caught-up', '--timeout', '5'], missing: ['wait'], down: EXIT.unavailable },
  { args: ['quarantine', 'list'], missing: ['quarantine'], down: EXIT.unavailable },
  { args: ['quarantine', 'show', '--batch', 'b', '--line', '1'], missing: ['quarantine', 'show', '--batch', 'b'], down: EXIT.unavailable },
  { args: ['ledger', 'prune', '--older-than', '90'], missing: ['ledger', 'prune'], down: EXIT.unavailable },
  { args: ['verify'], down: EXIT.unavailable },
  { args: ['rebuild', '--all'], missing: ['rebuild'], down: EXIT.unavailable },
];

describe('every command: unknown flag, missing argument, service down', { concurrency: 4 }, () => {
  for (const c of CASES) {
    const prefix = `trackflow ${c.args[0]}`;
    test(`${c.args.join(' ')} --no-such-flag: exit 2, one line`, async () => {
      assertOneLine(await trackflow([...c.args, '--no-such-flag']), EXIT.usage, prefix, /unknown option '--no-such-flag'.*--help for usage/);
    });
    if (c.missing) {
      const missing = c.missing;
      test(`${missing.join(' ')}: exit 2, one line`, async () => {
        assertOneLine(await trackflow(missing), EXIT.usage, prefix, /missing|required|needs|give |argument/);
      });
    }
    if (c.down === EXIT.unavailable) {
      test(`${c.args.join(' ')} with its services down: exit 3, one line`, { timeout: 90_000 }, async () => {
        assertOneLine(await trackflow(c.args), EXIT.unavailable, prefix, /unavailable|cannot reach/);
      });
    }
  }

  test('stack status with nothing running: exit 1, a report and no error', async () => {
    const r = await trackflow(['stack', 'status']);
    assert.equal(r.code, EXIT.failed, r.stderr);
    assert.match(r.stdout, /^cassandra +(stopped|unhealthy)/m);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });

  test('an unknown command, an unknown global flag, a bad option value: exit 2, one line', async () => {
    assertOneLine(await trackflow(['bogus']), EXIT.usage, 'trackflow', /unknown command "bogus"/);
    assertOneLine(await trackflow(['--bogus']), EXIT.usage, 'trackflow', /unknown option '--bogus'/);
    assertOneLine(await trackflow(['stack', 'logs', 'kafka', '-n', 'abc']), EXIT.usage, 'trackflow stack', /'abc' is invalid/);
    assertOneLine(await trackflow(['stack', 'up', 'bogus']), EXIT.usage, 'trackflow stack', /'bogus' is invalid.*unknown service/);
    assertOneLine(await trackflow(['stream', 'bogus']), EXIT.usage, 'trackflow stream', /unknown sub-command "bogus"/);
  });

  test('npm run stack -- and npm start go through the same framework', async () => {
    // The loader by path: the command runs in a temporary directory, where `--import tsx` would not resolve.
    const tsx = pathToFileURL(path.join(path.dirname(require.resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
    const stack = (args: string[]) => run(['--import', tsx, path.join(ROOT, 'scripts', 'stack.ts'), ...args]);
    assertOneLine(await stack(['up', '--bogus']), EXIT.usage, 'trackflow stack', /unknown option '--bogus'/);
    assertOneLine(await stack(['logs']), EXIT.usage, 'trackflow stack', /missing required argument 'service'/);
    assertOneLine(await stack(['bogus']), EXIT.usage, 'trackflow stack', /unknown sub-command "bogus"/);
    const start = (args: string[]) => run(['--import', tsx, path.join(ROOT, 'scripts', 'start.ts'), ...args]);
    assertOneLine(await start(['--bogus']), EXIT.usage, 'npm start', /unknown option '--bogus'/);
    assertOneLine(await start(['--stream-workers', '0']), EXIT.usage, 'npm start', /'0' is invalid/);
    assertOneLine(await start(['--jobs', 'j.csv']), EXIT.usage, 'npm start', /--jobs and --tracking go together/);
  });

  test('--help and --version exit 0 on stdout; no command prints the help and exits 2', async () => {
    const help = await trackflow(['--help']);
    assert.equal(help.code, EXIT.ok);
    for (const name of ['stack', 'generate', 'jobs', 'export', 'schedule', 'ingest', 'stream', 'reconcile', 'report', 'wait', 'quarantine', 'ledger', 'verify', 'rebuild']) {
      assert.match(help.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
    }
    const version = await trackflow(['--version']);
    assert.deepEqual([version.code, version.stdout.trim()], [EXIT.ok, JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version]);
    const sub = await trackflow(['stream', 'start', '--help']);
    assert.equal(sub.code, EXIT.ok);
    assert.match(sub.stdout, /--consumers <c>/);
    const bare = await trackflow([]);
    assert.equal(bare.code, EXIT.usage);
    assert.match(bare.stdout, /^Usage: trackflow/m);
  });
});
