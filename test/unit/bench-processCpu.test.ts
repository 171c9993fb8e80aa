import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { cpuTable, cpuWindow, perEvent, stackServerPids } from '../../bench/processCpu';

// How `npm run bench` finds this stack's servers and turns /proc CPU readings into µs per event.

test('perEvent: µs of CPU per event for each kind and their total, worked by hand', () => {
  const b = perEvent({ seconds: 10, cpuSeconds: { stage: 2, cassandra: 0.5 }, machineCpuSeconds: 3, cpus: 2 }, 100_000);
  // 2 s / 100,000 = 20 µs; 0.5 s / 100,000 = 5 µs; total 25 µs.
  assert.deepEqual(b.usPerEvent, { stage: 20, cassandra: 5, total: 25 });
  assert.equal(b.events, 100_000);
});

test('cpuTable: one row per measured stage, the machine column from the machine total', () => {
  const b = perEvent({ seconds: 10, cpuSeconds: { stage: 2, kafka: 1 }, machineCpuSeconds: 4, cpus: 2 }, 200_000);
  const text = cpuTable([{ name: 'Cassandra -> Kafka', cpu: b }, { name: 'skipped', cpu: undefined }]);
  const lines = text.split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /stage .*kafka .*total .*machine busy/);
  assert.match(lines[2]!, /Cassandra -> Kafka +\| +200,000 \| +10 \(2\.0\) \| +5 \(1\.0\) \| +15 \(3\.0\) \| +20 \(4\.0\) \|/);
  assert.equal(cpuTable([{ name: 'none', cpu: undefined }]), '');
});

test('cpuWindow: charges a busy process its CPU and an idle one none', async () => {
  // Both say "ready" once started, so Node's own start-up falls outside the window.
  const busy = spawn(process.execPath, ['-e', 'console.log("ready"); const t = Date.now(); while (Date.now() - t < 4000) {}']);
  const idle = spawn(process.execPath, ['-e', 'console.log("ready"); setTimeout(() => {}, 4000)']);
  const ready = (p: typeof busy): Promise<unknown> => new Promise((r) => p.stdout!.once('data', r));
  try {
    await Promise.all([ready(busy), ready(idle)]);
    const w = cpuWindow({ busy: [busy.pid!], idle: [idle.pid!] });
    await new Promise((r) => setTimeout(r, 1500));
    const t = w.stop();
    // On a loaded machine the busy loop gets only part of a core, but some of it, and the timer none.
    assert.ok(t.cpuSeconds['busy']! >= 0.2, `busy ${t.cpuSeconds['busy']}`);
    assert.ok(t.cpuSeconds['idle']! <= 0.05, `idle ${t.cpuSeconds['idle']}`);
    assert.ok(t.seconds >= 1.4 && t.seconds < 3);
    assert.ok(t.machineCpuSeconds >= t.cpuSeconds['busy']! - 0.05);
  } finally {
    busy.kill();
    idle.kill();
  }
});

test('stackServerPids: a pid file counts only when its process names the state dir', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-cpu-'));
  fs.mkdirSync(path.join(dir, 'run'));
  const ours = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)', dir]);
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)', '/elsewhere']);
  try {
    await new Promise((r) => setTimeout(r, 200));
    fs.writeFileSync(path.join(dir, 'run', 'cassandra.pid'), String(ours.pid));
    fs.writeFileSync(path.join(dir, 'run', 'kafka.pid'), String(other.pid));
    fs.writeFileSync(path.join(dir, 'run', 'mariadb.pid'), '999999999');
    const pids = stackServerPids(dir);
    assert.deepEqual(pids, { cassandra: [ours.pid], kafka: [], mariadb: [], temporal: [] });
  } finally {
    ours.kill();
    other.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
