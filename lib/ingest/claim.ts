import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'cassandra-driver';
import { types } from 'cassandra-driver';

/**
 * The content-hash claim (docs/lake.md): before reading a file, a run claims its hash in `file_registry` with a
 * lightweight transaction, so two runs that discover the same file at once cannot both ingest it. A claim is
 * the row `status = 'ingesting'`, `source_file` = the claimant, written with a TTL and refreshed while the
 * ingest runs; a claimant that dies frees the file when the TTL runs out. Finishing turns the row into the
 * permanent `status = 'ingested'` registration.
 */
export const CLAIM_TTL_S = 120;

export type ClaimOutcome = { status: 'claimed' } | { status: 'ingested' } | { status: 'held'; owner: string };

export interface ClaimKey {
  keyspace: string;
  hash: string;
  batch: string;
  owner: string;
}

// Conditional (Paxos) writes: never idempotent, so the driver must not resend one after a timeout or a lost
// connection (the first may have been applied); their Paxos phase runs at the client's serial consistency.
const OPTS = { prepare: true, isIdempotent: false };

/**
 * Runs one conditional write, again after a Paxos write timeout (contention between two claimants, or a
 * replica that just died, both common on a cluster). The driver must not resend it blindly, but this protocol
 * may: a timed-out round is finished by the next one, and each write here is safe to repeat by the same
 * claimant (it finds its own claim and refreshes it, or finds its change already made and changes nothing).
 */
async function conditional(write: () => Promise<types.ResultSet>): Promise<types.ResultSet> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const e = err as { code?: number; writeType?: string };
      if (e.code !== types.responseErrorCodes.writeTimeout || e.writeType !== 'CAS' || attempt >= 6) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt + Math.random() * 200));
    }
  }
}

/** Claims the hash for `owner`: claimed, already ingested, or held by another claimant. */
export async function claimFile(client: Client, k: ClaimKey, opts: { takeOver?: boolean } = {}): Promise<ClaimOutcome> {
  const rs = await conditional(() => client.execute(
    `INSERT INTO ${k.keyspace}.file_registry (content_hash, ingest_batch, source_file, status, registered_at) ` +
      `VALUES (?, ?, ?, 'ingesting', ?) IF NOT EXISTS USING TTL ${CLAIM_TTL_S}`,
    [k.hash, k.batch, k.owner, new Date()],
    OPTS,
  ));
  if (rs.wasApplied()) return { status: 'claimed' };
  const row = rs.first();
  if (row?.['status'] === 'ingested') return { status: 'ingested' };
  const holder = String(row?.['source_file'] ?? '');
  // The same claimant again (a retried activity of the same run), or a resumed attempt adopting its own claim.
  if (holder === k.owner || opts.takeOver) return (await refreshClaim(client, k, holder)) ? { status: 'claimed' } : claimFile(client, k, opts);
  return { status: 'held', owner: holder };
}

/** Extends the claim while `expectedHolder` still holds it; false if it expired or changed hands. */
export async function refreshClaim(client: Client, k: ClaimKey, expectedHolder = k.owner): Promise<boolean> {
  const rs = await conditional(() => client.execute(
    `UPDATE ${k.keyspace}.file_registry USING TTL ${CLAIM_TTL_S} SET source_file = ?, ingest_batch = ?, registered_at = ? ` +
      `WHERE content_hash = ? IF status = 'ingesting' AND source_file = ?`,
    [k.owner, k.batch, new Date(), k.hash, expectedHolder],
    OPTS,
  ));
  return rs.wasApplied();
}

/** Gives the claim up (the file failed for good): another run, or a corrected copy, may ingest it. */
export async function releaseClaim(client: Client, k: ClaimKey): Promise<void> {
  await conditional(() => client.execute(`DELETE FROM ${k.keyspace}.file_registry WHERE content_hash = ? IF status = 'ingesting' AND source_file = ?`, [k.hash, k.owner], OPTS));
}

/**
 * The permanent registration, also through Paxos (mixing plain and conditional writes on one row is unsafe).
 * It overwrites the claim's cells without a TTL, so the row stays.
 */
export async function registerFile(client: Client, k: ClaimKey, file: { sourceFile: string; size: number; at: Date }): Promise<void> {
  const rs = await conditional(() => client.execute(
    `UPDATE ${k.keyspace}.file_registry SET ingest_batch = ?, source_file = ?, size_bytes = ?, status = 'ingested', registered_at = ? ` +
      `WHERE content_hash = ? IF EXISTS`,
    [k.batch, file.sourceFile, file.size, file.at, k.hash],
    OPTS,
  ));
  if (rs.wasApplied()) return;
  // The claim expired meanwhile (a long stall): register all the same, unless another run did.
  await conditional(() => client.execute(
    `INSERT INTO ${k.keyspace}.file_registry (content_hash, ingest_batch, source_file, size_bytes, status, registered_at) ` +
      `VALUES (?, ?, ?, ?, 'ingested', ?) IF NOT EXISTS`,
    [k.hash, k.batch, file.sourceFile, file.size, file.at],
    OPTS,
  ));
}

/**
 * Claims the file, waiting while another run holds it (calling `keepAlive` so the activity's heartbeat goes on):
 * 'claimed' to ingest it here, 'ingested' once the holder registered it. A holder that died frees it by TTL.
 */
export async function waitForClaim(
  client: Client,
  k: ClaimKey,
  opts: { takeOver?: boolean; keepAlive?: () => void; pollMs?: number } = {},
): Promise<'claimed' | 'ingested'> {
  for (;;) {
    const c = await claimFile(client, k, { takeOver: opts.takeOver });
    if (c.status !== 'held') return c.status;
    opts.keepAlive?.();
    await sleep(opts.pollMs ?? 1000);
  }
}
