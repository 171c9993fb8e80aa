import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssignerProtocol } from 'kafkajs';
import type { Cluster } from 'kafkajs';
import { renderConsumers } from '../../scripts/cli/streamStatus';
import { defaultConsumers, loadConfig } from '../../lib/config';
import { checkSlot, ownedPartitions, sliceAssigner, sliceGroupId } from '../../lib/stream/slice';
import type { StreamStatus } from '../../workflows';

void test('slot i of C owns p mod C = i: every partition exactly once, for every C', () => {
  const all = [0, 1, 2, 3, 4, 5];
  assert.deepEqual(ownedPartitions({ index: 1, count: 4 }, all), [1, 5]);
  assert.deepEqual(ownedPartitions(undefined, [2, 0, 1]), [0, 1, 2]);
  for (let c = 1; c <= 8; c++) {
    const owned = Array.from({ length: c }, (_, i) => ownedPartitions({ index: i, count: c }, all)).flat().sort();
    assert.deepEqual(owned, all, `C=${c}`);
  }
});

void test('an impossible slot is refused with one line; group ids differ per slot and per count', () => {
  assert.throws(() => checkSlot({ index: 3, count: 3 }), /consumer slot 3 of 3 is not a valid slot/);
  assert.throws(() => checkSlot({ index: 0, count: 0 }), /not a valid slot/);
  assert.doesNotThrow(() => checkSlot({ index: 2, count: 3 }));
  assert.equal(sliceGroupId('g', undefined), 'g');
  assert.equal(sliceGroupId('g', { index: 0, count: 2 }), 'g.slice-0-of-2');
  assert.notEqual(sliceGroupId('g', { index: 0, count: 2 }), sliceGroupId('g', { index: 0, count: 3 }));
});

void test('the slice assigner hands the members of a slot group only the slot partitions, round-robin', async () => {
  const cluster = { findTopicPartitionMetadata: () => [0, 1, 2, 3, 4, 5, 6, 7].map((partitionId) => ({ partitionId })) } as unknown as Cluster;
  const assigner = sliceAssigner({ index: 1, count: 3 })({ cluster, groupId: 'g', logger: undefined as never });
  const out = await assigner.assign({ members: [{ memberId: 'b', memberMetadata: Buffer.alloc(0) }, { memberId: 'a', memberMetadata: Buffer.alloc(0) }], topics: ['t'] });
  const decoded = Object.fromEntries(out.map((m) => [m.memberId, AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment]));
  // Slot 1 of 3 owns 1, 4, 7; sorted members a, b share them in turn.
  assert.deepEqual(decoded, { a: { t: [1, 7] }, b: { t: [4] } });
});

void test('default consumer count: the partitions, capped by TRACKFLOW_STREAM_MAX_CONSUMERS', () => {
  const env = { TRACKFLOW_MYSQL_PASSWORD: 'x', TRACKFLOW_MYSQL_ADMIN_PASSWORD: 'y' };
  assert.equal(defaultConsumers(loadConfig({ ...env, TRACKFLOW_KAFKA_PARTITIONS: '4' })), 4);
  assert.equal(defaultConsumers(loadConfig({ ...env, TRACKFLOW_KAFKA_PARTITIONS: '12' })), 6);
  assert.equal(defaultConsumers(loadConfig({ ...env, TRACKFLOW_KAFKA_PARTITIONS: '12', TRACKFLOW_STREAM_MAX_CONSUMERS: '3' })), 3);
  assert.throws(() => loadConfig({ ...env, TRACKFLOW_STREAM_MAX_CONSUMERS: '0' }), /TRACKFLOW_STREAM_MAX_CONSUMERS must be an integer between 1 and 256/);
});

void test('status lists each consumer, live from its heartbeat when in flight', () => {
  const status = {
    consumers: 2,
    consumerStatus: [
      { index: 0, of: 2, state: 'leasing', leases: 3, partitions: [0, 2], offsets: [{ partition: 0, nextOffset: '10', lag: 1 }, { partition: 2, nextOffset: '7', lag: 0 }], lag: 1, worker: 'h:1' },
      { index: 1, of: 2, state: 'backing-off', leases: 1, partitions: [1], offsets: [{ partition: 1, nextOffset: '4', lag: 9 }], lag: 9, worker: 'h:2', lastError: { at: 'x', message: 'mysql: ECONNREFUSED' } },
    ],
  } as unknown as StreamStatus;
  const beat = { partitions: [{ partition: 0, nextOffset: '12', lag: 0 }, { partition: 2, nextOffset: '7', lag: 0 }], counts: {}, lag: 0, consumer: { index: 0, count: 2, worker: 'h:3', partitions: [0, 2] } };
  assert.deepEqual(renderConsumers(status, [beat]), [
    '  consumers 2:',
    '    consumer 0/2 leasing (in flight): partitions [0,2], offsets 0@12 2@7, lag 0, worker h:3, leases 3',
    '    consumer 1/2 backing-off: partitions [1], offsets 1@4, lag 9, worker h:2, leases 1, last error: mysql: ECONNREFUSED',
  ]);
});
