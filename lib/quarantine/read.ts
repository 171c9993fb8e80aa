import type { Client } from 'cassandra-driver';
import { reasonKind } from '../domain/tracking';

export interface QuarantineRow {
  batch: string;
  stage: string;
  line: number;
  file: string;
  /** The reason's machine-readable kind (text before the first colon), e.g. column_count. */
  kind: string;
  reason: string;
  raw: string;
  quarantinedAt: string | null;
}

export interface QuarantineFilter {
  batch?: string;
  stage?: string;
  /** Matches the reason's kind exactly, or any reason containing it (case-insensitive). */
  reason?: string;
}

const COLS = 'ingest_batch, stage, line_number, source_file, reason, raw, quarantined_at';

function toRow(r: Record<string, unknown>): QuarantineRow {
  const reason = String(r['reason'] ?? '');
  const at = r['quarantined_at'];
  return {
    batch: String(r['ingest_batch']),
    stage: String(r['stage']),
    line: Number(r['line_number']),
    file: String(r['source_file'] ?? ''),
    kind: reasonKind(reason),
    reason,
    raw: String(r['raw'] ?? ''),
    quarantinedAt: at instanceof Date ? at.toISOString() : null,
  };
}

export function matchesReason(row: QuarantineRow, reason: string | undefined): boolean {
  if (!reason) return true;
  const r = reason.toLowerCase();
  return row.kind.toLowerCase() === r || row.reason.toLowerCase().includes(r);
}

/**
 * Quarantined rows in key order (batch, stage, line). One batch reads one partition; without --batch the
 * whole table is paged through (rejects are a small fraction of the lake).
 */
export async function* listQuarantine(cassandra: Client, keyspace: string, filter: QuarantineFilter = {}): AsyncGenerator<QuarantineRow> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.batch !== undefined) {
    where.push('ingest_batch = ?');
    params.push(filter.batch);
    if (filter.stage !== undefined) {
      where.push('stage = ?');
      params.push(filter.stage);
    }
  }
  const cql = `SELECT ${COLS} FROM ${keyspace}.quarantine${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const rs = await cassandra.execute(cql, params, { prepare: true, fetchSize: 1000 });
  for await (const r of rs) {
    const row = toRow(r as unknown as Record<string, unknown>);
    if (filter.stage !== undefined && row.stage !== filter.stage) continue;
    if (!matchesReason(row, filter.reason)) continue;
    yield row;
  }
}

/** One quarantined row by its key, or undefined. */
export async function showQuarantine(cassandra: Client, keyspace: string, batch: string, stage: string, line: number): Promise<QuarantineRow | undefined> {
  const rs = await cassandra.execute(
    `SELECT ${COLS} FROM ${keyspace}.quarantine WHERE ingest_batch = ? AND stage = ? AND line_number = ?`,
    [batch, stage, line],
    { prepare: true },
  );
  const r = rs.first();
  return r ? toRow(r as unknown as Record<string, unknown>) : undefined;
}
