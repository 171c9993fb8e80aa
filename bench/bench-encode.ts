/**
 * What the Cassandra driver's request encoding costs per tracking row, without a server: the rows of a
 * generated export are encoded as 40-row UNLOGGED batches of events_by_hour inserts (cassandra-driver's own
 * BatchRequest.write), once with every column bound (the empty ones unset) and once with only the columns a
 * row has (lib/ingest/shapedInsert.ts), in rounds A B A B so a drifting load weighs on both.
 *
 *   npx tsx bench/bench-encode.ts <tracking.csv> [--rows 20000] [--rounds 2]
 */
import { createRequire } from 'node:module';
import { types } from 'cassandra-driver';
import { readCsvRecords } from '../lib/ingest/reader';
import { shapedInserts } from '../lib/ingest/shapedInsert';
import { IDX, LAKE_COLUMNS, NUMERIC_COLUMNS, checkRecord, type TrackingRow } from '../lib/domain/tracking';

// The driver's request classes are internal; this reaches them the way the driver's own tests do.
const driver = createRequire(require.resolve('cassandra-driver'));
const { BatchRequest } = driver('./lib/requests') as { BatchRequest: new (items: unknown[], opts: unknown) => { write(enc: unknown, id: number): Buffer } };
const Encoder = driver('./lib/encoder') as new (version: number, opts: unknown) => unknown;

const COLUMNS = [...LAKE_COLUMNS, 'hour', 'source_file', 'ingest_batch', 'line_number', 'extras'];
const { dataTypes } = types;
const typeOf = (c: string): object =>
  c === 'create_time' ? { code: dataTypes.timeuuid }
    : c === 'row_number' || c === 'line_number' ? { code: dataTypes.bigint }
      : NUMERIC_COLUMNS.has(c) ? { code: dataTypes.double }
        : c === 'extras' ? { code: dataTypes.map, info: [{ code: dataTypes.text }, { code: dataTypes.text }] }
          : { code: dataTypes.text };

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function readRows(file: string, max: number): Promise<Array<{ line: number; row: TrackingRow }>> {
  const rows: Array<{ line: number; row: TrackingRow }> = [];
  for await (const rec of readCsvRecords(file, {})) {
    if (rec.line === 1) continue;
    const c = checkRecord(rec.fields, rec.invalidUtf8Column);
    if (c.ok) rows.push({ line: rec.line, row: c.row });
    if (rows.length >= max) break;
  }
  return rows;
}

/** Batch items as the driver holds them after preparing: values plus the column types of the statement. */
function items(rows: Array<{ line: number; row: TrackingRow }>, shaped: boolean): Array<{ query: string; params: unknown[]; queryId: Buffer; meta: object }> {
  const insert = shapedInserts('ks.events_by_hour', COLUMNS);
  return rows.map(({ line, row }) => {
    const values: unknown[] = row.values.slice();
    values[IDX.createTime] = types.Uuid.fromString(row.createTime);
    values.push(row.hour, 'tracking.csv', 'b0123456789abcdef0123', line, row.extras);
    const cols = shaped ? COLUMNS.filter((_, i) => values[i] !== null && values[i] !== undefined) : COLUMNS;
    const params = shaped ? insert(values).params : values.map((v) => v ?? undefined);
    return { query: 'q', params, queryId: Buffer.alloc(16), meta: { columns: cols.map((c) => ({ type: typeOf(c) })) } };
  });
}

async function main(): Promise<void> {
  const rows = await readRows(process.argv[2] ?? '', Number(arg('rows', '20000')));
  const encoder = new Encoder(4, { encoding: { useUndefinedAsUnset: true } });
  const opts = {
    getOrGenerateTimestamp: () => null, getHints: () => null, isBatchCounter: () => false, isBatchLogged: () => false,
    isQueryTracing: () => false, getCustomPayload: () => null, getConsistency: () => 1, getSerialConsistency: () => null, getKeyspace: () => null,
  };
  const sets = { 'every column bound': items(rows, false), 'non-empty columns only': items(rows, true) };
  for (let round = 0; round < Number(arg('rounds', '2')); round++) {
    for (const [name, batch] of Object.entries(sets)) {
      const t0 = process.cpuUsage();
      for (let rep = 0; rep < 5; rep++) for (let i = 0; i < batch.length; i += 40) new BatchRequest(batch.slice(i, i + 40), opts).write(encoder, 1);
      const u = process.cpuUsage(t0);
      const params = batch.reduce((a, b) => a + b.params.length, 0) / batch.length;
      process.stdout.write(`${name}: ${params.toFixed(1)} parameters per row, ${((u.user + u.system) / (5 * batch.length)).toFixed(2)} µs CPU per row\n`);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
