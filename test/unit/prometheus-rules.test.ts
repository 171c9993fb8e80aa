import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../lib/config';

const DIR = path.join(REPO_ROOT, 'ops', 'prometheus');

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  assert.ok(!r.error, `promtool not runnable (${r.error?.message}); npm test installs Debian's prometheus package`);
  return { status: r.status, out: r.stdout + r.stderr };
}

test('promtool: the alert rules and the native Prometheus config are valid', () => {
  for (const args of [['check', 'rules', 'alerts.yml'], ['check', 'config', 'prometheus.yml']]) {
    const r = promtool(...args);
    assert.equal(r.status, 0, r.out);
  }
});

test('promtool test rules: each alert fires when it should and stays quiet when it should not', () => {
  const r = promtool('test', 'rules', 'alerts.test.yml');
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});
