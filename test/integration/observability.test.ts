import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../lib/config';
import { Metrics } from '../../lib/metrics';
import { startPrometheus, stopPrometheus } from '../../lib/stack/observability';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('the native Prometheus of --observability scrapes both workers and loads the alert rules', { timeout: 90_000 }, async () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-prom-'));
  // Two metrics endpoints standing in for the workers, on ports of their own (never the shared workers').
  const pipeline = new Metrics();
  const stream = new Metrics();
  stream.set('trackflow_stream_partition_lag_messages', '', 17, { partition: '2' });
  const servers = [await pipeline.serve(0, () => ({ ok: true })), await stream.serve(0, () => ({ ok: true }))];
  const [p, s] = servers.map((x) => `127.0.0.1:${(x.address() as net.AddressInfo).port}`) as [string, string];
  const listen = `127.0.0.1:${await freePort()}`;
  try {
    const started = await startPrometheus({ stateDir, listen, targets: { pipeline: p, stream: s }, rulesFile: path.join(REPO_ROOT, 'ops', 'prometheus', 'alerts.yml') });
    assert.equal(started.started, true);
    assert.equal((await startPrometheus({ stateDir, listen, targets: { pipeline: p, stream: s }, rulesFile: path.join(REPO_ROOT, 'ops', 'prometheus', 'alerts.yml') })).started, false, 'idempotent');
    const rules = (await (await fetch(`http://${listen}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string }> }> } };
    assert.deepEqual(rules.data.groups.flatMap((g) => g.rules.map((r) => r.name)).sort(), [
      'TrackflowIngestFileFailed', 'TrackflowPartitionNotMoving', 'TrackflowSchedulePaused', 'TrackflowStreamLagGrowing', 'TrackflowWorkerDown',
    ]);
    const lag = await eventually(async () => {
      const q = (await (await fetch(`http://${listen}/api/v1/query?query=trackflow_stream_partition_lag_messages`)).json()) as {
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      return q.data.result.length ? q.data.result : undefined;
    }, 30_000);
    assert.equal(lag[0]?.value[1], '17');
    assert.equal(lag[0]?.metric['job'], 'trackflow-stream');
    assert.equal(lag[0]?.metric['partition'], '2');
  } finally {
    assert.notEqual(await stopPrometheus(stateDir), 'not-running');
    for (const x of servers) x.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});
