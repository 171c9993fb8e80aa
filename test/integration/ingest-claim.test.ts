import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { generateTracking } from '../../lib/domain/generator';
import { CLAIM_TTL_S, claimFile } from '../../lib/ingest/claim';
import { ingestFileCore } from '../../lib/ingest/ingest';
import { openTestStack, type TestStack } from '../support/env';
import { expectedFrom } from '../support/reference';

let stack: TestStack;
let tmp: string;
before(async () => {
  stack = await openTestStack('claim');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-claim-'));
});
after(async () => {
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function count(table: string): Promise<number> {
  const rs = await stack.deps.cassandra.execute(`SELECT COUNT(*) AS n FROM ${stack.config.cassandra.keyspace}.${table}`);
  return Number(rs.first()?.['n'] ?? 0);
}

function writeExport(name: string, events: number, seed: number): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, [...generateTracking({ events, seed }).lines].join('\n') + '\n');
  return file;
}

void test('two runs that ingest the same files at the same moment: each file is ingested by exactly one of them', { timeout: 120_000 }, async () => {
  const files = [writeExport('a.csv', 6000, 71), writeExport('b.csv', 6000, 72), writeExport('c.csv', 6000, 73)];
  const deps = { cassandra: stack.deps.cassandra, keyspace: stack.config.cassandra.keyspace };
  // Both runs hash the file, then meet at the claim: the hook holds each until the other has hashed too.
  const hashed = new Map<string, number>();
  const bothHashed = (f: string) => async () => {
    hashed.set(f, (hashed.get(f) ?? 0) + 1);
    while ((hashed.get(f) ?? 0) < 2) await new Promise((r) => setTimeout(r, 10));
  };
  const run = (owner: string) =>
    Promise.all(files.map((f) => ingestFileCore(deps, { path: f }, { claimOwner: owner, afterHash: bothHashed(f) })));
  const [one, two] = await Promise.all([run('wf:run-1'), run('wf:run-2')]);
  for (let i = 0; i < files.length; i++) {
    const statuses = [one[i]!.status, two[i]!.status].sort();
    assert.deepEqual(statuses, ['duplicate-file', 'ingested'], `${files[i]}: ${statuses}`);
  }
  const written = [...one, ...two].reduce((n, r) => n + r.written + r.alreadyPresent, 0);
  const exp = expectedFrom(files);
  assert.equal(written, exp.events, 'the lake rows were written once, by the claimant');
  assert.equal(await count('publish_pending'), files.length, 'one publish entry per file');
  assert.equal(await count('events_by_hour'), exp.events);
});

void test('a claim held by a live run is refused to another; it carries a TTL, so a dead claimant frees the file', async () => {
  const k = { keyspace: stack.config.cassandra.keyspace, hash: 'h-claim-test', batch: 'b-claim-test', owner: 'wf:first' };
  assert.deepEqual(await claimFile(stack.deps.cassandra, k), { status: 'claimed' });
  assert.deepEqual(await claimFile(stack.deps.cassandra, { ...k, owner: 'wf:second' }), { status: 'held', owner: 'wf:first' });
  assert.deepEqual(await claimFile(stack.deps.cassandra, k), { status: 'claimed' }, 'the same run again (a retry) keeps it');
  const rs = await stack.deps.cassandra.execute(`SELECT TTL(status) AS t FROM ${k.keyspace}.file_registry WHERE content_hash = ?`, [k.hash], { prepare: true });
  const ttl = Number(rs.first()?.['t']);
  assert.ok(ttl > 0 && ttl <= CLAIM_TTL_S, `claim TTL ${ttl}`);
});
