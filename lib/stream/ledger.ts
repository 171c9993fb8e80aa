import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

export interface PruneLedgerOptions {
  /** Ids counted longer ago than this are deleted. */
  olderThanDays: number;
  /** Rows per DELETE statement: each is its own short transaction, so the consumer is never blocked long. */
  batchSize?: number;
}

export interface PruneLedgerResult {
  /** Server time before which ids were deleted. */
  cutoff: string;
  deleted: number;
  statements: number;
  remaining: number;
}

/**
 * Deletes event ids counted before the cutoff from `counted_events`. The ledger only has to outlive the window
 * in which the same event can reach the stream again (an overlapping export that the lake's own existence check
 * did not catch); without retention it grows by one row per counted event forever.
 */
export async function pruneLedger(pool: Pool, opts: PruneLedgerOptions): Promise<PruneLedgerResult> {
  const batchSize = opts.batchSize ?? 10_000;
  // The cutoff is computed once, by the server, in its own time zone: counted_at is the server's TIMESTAMP.
  const [cut] = await pool.query<RowDataPacket[]>(
    `SELECT DATE_FORMAT(NOW(6) - INTERVAL ? SECOND, '%Y-%m-%d %H:%i:%s.%f') AS cutoff`,
    [Math.round(opts.olderThanDays * 86_400)],
  );
  const cutoff = String(cut[0]?.['cutoff']);
  let deleted = 0;
  let statements = 0;
  for (;;) {
    const [res] = await pool.query<ResultSetHeader>('DELETE FROM counted_events WHERE counted_at < ? ORDER BY counted_at LIMIT ?', [
      cutoff,
      batchSize,
    ]);
    statements += 1;
    deleted += res.affectedRows;
    if (res.affectedRows < batchSize) break;
  }
  const [left] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM counted_events');
  return { cutoff, deleted, statements, remaining: Number(left[0]?.['n'] ?? 0) };
}
