import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'trackflow');

function trackflow(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr naming the command, no stack frame. */
function assertUsage(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(r.code, 2, r.stderr);
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^trackflow stack: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at |TypeError/m);
}

test('trackflow stack up --bogus: one line, exit 2', () => {
  assertUsage(trackflow(['stack', 'up', '--bogus']), /bogus/);
});

test('trackflow stack logs with a bad -n: one line, exit 2', () => {
  assertUsage(trackflow(['stack', 'logs', 'kafka', '-n', 'abc']), /abc/);
});
