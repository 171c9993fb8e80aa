import type { Client } from 'cassandra-driver';

/** The year partition of an hour `YYYY-MM-DDTHH`. */
function yearOf(hour: string): number {
  return Number(hour.slice(0, 4));
}

/**
 * Lists hours in the lake's hour index (migration 004). Idempotent upserts; called by ingest before it writes a
 * chunk's events, so every hour that holds an event is listed.
 */
export async function recordLakeHours(client: Client, keyspace: string, hours: Iterable<string>, opts: { again?: boolean } = {}): Promise<void> {
  const query = `INSERT INTO ${keyspace}.lake_hours (year, hour) VALUES (?, ?)`;
  const fresh = [...new Set(hours)].filter((h) => opts.again || !recorded.has(`${keyspace}|${h}`));
  await Promise.all(fresh.map((h) => client.execute(query, [yearOf(h), h], { prepare: true })));
  if (recorded.size > 100_000) recorded.clear();
  for (const h of fresh) recorded.add(`${keyspace}|${h}`);
}

/** Hours this process already listed: a chunk spans the same few hours as the previous one. A reindex writes again. */
const recorded = new Set<string>();

/** Every hour the lake holds, in order: one small partition per year, no scan of the events. */
export async function listLakeHours(client: Client, keyspace: string): Promise<string[]> {
  const years = await client.execute(`SELECT DISTINCT year FROM ${keyspace}.lake_hours`, [], { prepare: true, fetchSize: 1000 });
  const ys: number[] = [];
  for await (const r of years) ys.push(Number(r['year']));
  const out: string[] = [];
  for (const y of ys.sort((a, b) => a - b)) {
    const rs = await client.execute(`SELECT hour FROM ${keyspace}.lake_hours WHERE year = ?`, [y], { prepare: true, fetchSize: 10_000 });
    for await (const r of rs) out.push(String(r['hour']));
  }
  return out;
}

/**
 * Fills the index from the lake's partition keys (SELECT DISTINCT reads partition keys, not rows): once, for a
 * lake ingested before migration 004.
 */
export async function reindexLakeHours(client: Client, keyspace: string, keepAlive?: () => void): Promise<number> {
  const rs = await client.execute(`SELECT DISTINCT hour FROM ${keyspace}.events_by_hour`, [], { prepare: true, fetchSize: 5000 });
  const batch: string[] = [];
  let n = 0;
  for await (const r of rs) {
    batch.push(String(r['hour']));
    if (batch.length >= 500) {
      await recordLakeHours(client, keyspace, batch.splice(0), { again: true });
      keepAlive?.();
    }
    n += 1;
  }
  await recordLakeHours(client, keyspace, batch, { again: true });
  return n;
}
