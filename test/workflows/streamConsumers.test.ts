import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ConsumeLeaseInput, ConsumeLeaseSummary } from '../../activities/types';
import { TASK_QUEUES } from '../../lib/taskQueues';
import { drainSignal, scaleSignal, statusQuery, streamToWarehouse } from '../../workflows';
import { counts, eventually, startTestEnv, withWorkers } from './support';

const PARTITIONS = 6;

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});
const started: string[] = [];
afterEach(async () => {
  for (const id of started.splice(0)) await env.client.workflow.getHandle(id).terminate('test cleanup').catch(() => undefined);
});

/**
 * A slot-aware stand-in for the real lease: owns p mod count = index of 6 partitions, reports lag 1 per
 * partition, and records how many leases ran at the same moment and with which slot.
 */
function fakeSlots(opts: { caughtUpAfter?: number } = {}) {
  const calls: Array<{ consumer?: ConsumeLeaseInput['consumer']; endReason: ConsumeLeaseSummary['endReason'] }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const perSlot = new Map<string, number>();
  async function consumeLease(input: ConsumeLeaseInput): Promise<ConsumeLeaseSummary> {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const key = `${input.consumer?.index}/${input.consumer?.count}`;
    const n = (perSlot.get(key) ?? 0) + 1;
    perSlot.set(key, n);
    const ctx = Context.current();
    const start = Date.now();
    let endReason: ConsumeLeaseSummary['endReason'] = 'lease-expired';
    try {
      while (Date.now() - start < input.leaseMs) {
        if (opts.caughtUpAfter !== undefined && n >= opts.caughtUpAfter) {
          endReason = 'caught-up';
          break;
        }
        ctx.heartbeat({ n });
        const cancelled = await Promise.race([ctx.cancelled.then(() => false, () => true), new Promise<false>((r) => setTimeout(() => r(false), 30))]);
        if (cancelled) {
          endReason = 'cancelled';
          break;
        }
      }
    } finally {
      inFlight -= 1;
    }
    calls.push({ consumer: input.consumer, endReason });
    const slot = input.consumer ?? { index: 0, count: 1 };
    const own = Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => p % slot.count === slot.index);
    const lag = endReason === 'caught-up' ? 0 : 1;
    return {
      counts: counts({ consumed: 5, counted: 5, batches: 1 }),
      partitions: own.map((p) => ({ partition: p, nextOffset: String(n * 10), lag })),
      lag: lag * own.length,
      endReason,
      durationMs: Date.now() - start,
      consumer: { ...slot, worker: `host:${slot.index}`, partitions: own },
    };
  }
  return { consumeLease, calls, maxInFlight: () => maxInFlight };
}

void test('C consumers lease at once, each over its own partitions, and the status shows each one', { timeout: 60_000 }, async () => {
  const fake = fakeSlots();
  await withWorkers(env, { consumeLease: fake.consumeLease }, async () => {
    started.push('stream-slots-3');
    const handle = await env.client.workflow.start(streamToWarehouse, { taskQueue: TASK_QUEUES.pipeline, workflowId: 'stream-slots-3', args: [{ leaseMs: 300, consumers: 3 }] });
    const s = await eventually(() => handle.query(statusQuery), (st) => (st.consumerStatus ?? []).every((c) => c.leases >= 1) && (st.consumerStatus?.length ?? 0) === 3);
    assert.equal(s.consumers, 3);
    assert.deepEqual(s.consumerStatus?.map((c) => c.partitions), [[0, 3], [1, 4], [2, 5]]);
    assert.deepEqual(s.consumerStatus?.map((c) => c.worker), ['host:0', 'host:1', 'host:2']);
    assert.equal(s.lag, 6, 'lag summed over the three slots');
    assert.equal(fake.maxInFlight(), 3, 'three leases in flight together');
    const memo = (await handle.describe()).memo as { consumerStatus?: Array<{ partitions: number[] }> } | undefined;
    assert.deepEqual(memo?.consumerStatus?.map((c) => c.partitions), [[0, 3], [1, 4], [2, 5]]);
    await handle.signal(drainSignal);
    const r = await handle.result();
    assert.equal(r.state, 'drained');
    assert.equal(r.totals.consumed, fake.calls.length * 5, 'every lease, cancelled ones included, counted once');
  });
});

void test('scale 2 -> 6 -> 1 on a running stream cancels the old slots and starts the new split', { timeout: 60_000 }, async () => {
  const fake = fakeSlots();
  await withWorkers(env, { consumeLease: fake.consumeLease }, async () => {
    started.push('stream-slots-scale');
    const handle = await env.client.workflow.start(streamToWarehouse, { taskQueue: TASK_QUEUES.pipeline, workflowId: 'stream-slots-scale', args: [{ leaseMs: 60_000, consumers: 2 }] });
    await eventually(() => handle.describe(), (d) => (d.raw.pendingActivities?.length ?? 0) === 2);
    await handle.signal(scaleSignal, 6);
    await eventually(() => handle.describe(), (d) => (d.raw.pendingActivities?.length ?? 0) === 6);
    assert.deepEqual(fake.calls.map((c) => [c.consumer?.count, c.endReason]), [[2, 'cancelled'], [2, 'cancelled']]);
    await handle.signal(scaleSignal, 1);
    await eventually(() => handle.query(statusQuery), (s) => s.consumers === 1 && fake.calls.length === 8);
    await eventually(() => handle.describe(), (d) => (d.raw.pendingActivities?.length ?? 0) === 1);
    await handle.signal(scaleSignal, 0); // ignored: not a consumer count
    await handle.signal(drainSignal);
    const r = await handle.result();
    assert.equal(r.state, 'drained');
    const slotsSeen = fake.calls.map((c) => `${c.consumer?.index}/${c.consumer?.count}`).sort();
    assert.deepEqual(slotsSeen, ['0/1', '0/2', '0/6', '1/2', '1/6', '2/6', '3/6', '4/6', '5/6']);
    assert.equal(r.leases, 9);
    assert.equal(r.totals.consumed, 45);
  });
});

void test('stopWhenCaughtUp ends once every slot is caught up', { timeout: 60_000 }, async () => {
  const fake = fakeSlots({ caughtUpAfter: 2 });
  await withWorkers(env, { consumeLease: fake.consumeLease }, async () => {
    started.push('stream-slots-caught-up');
    const r = await env.client.workflow.execute(streamToWarehouse, {
      taskQueue: TASK_QUEUES.pipeline, workflowId: 'stream-slots-caught-up', args: [{ leaseMs: 50, consumers: 2, stopWhenCaughtUp: true }],
    });
    assert.equal(r.state, 'caught-up');
    assert.equal(r.leases, 4, 'two leases for each of two slots');
  });
});
