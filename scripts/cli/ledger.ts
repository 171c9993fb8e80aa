import type { Command } from 'commander';
import { config } from '../../lib/config';
import { EXIT, act, group, output, positiveInt, positiveNumber } from './command';

const DETAILS = `
Deletes from the warehouse's event-id ledger (counted_events) the ids counted more than DAYS days ago.
The ledger makes the stream count each event once even when an event reaches Kafka twice; an event
re-exported after its id was pruned would be counted again, so keep DAYS longer than any export can
overlap an earlier one. Deletes run in chunks of N rows (default 10000), each its own short transaction.

Exit status: 0 done, 2 bad usage, 1 schema missing, 3 MySQL unreachable.`;

async function prune(opts: { olderThan: number; batchSize: number; json?: boolean }): Promise<number> {
  const { createMysqlPool } = await import('../../lib/clients/mysql');
  const { pruneLedger } = await import('../../lib/stream/ledger');
  const pool = createMysqlPool(config().mysql, { connectionLimit: 1 });
  try {
    const r = await pruneLedger(pool, { olderThanDays: opts.olderThan, batchSize: opts.batchSize });
    output(Boolean(opts.json), r, () => `deleted ${r.deleted} ids counted before ${r.cutoff} (server time); ${r.remaining} remain`);
    return EXIT.ok;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

export function defineLedger(program: Command): void {
  group(program, 'ledger', 'Retention of the event-id ledger')
    .command('prune')
    .description('delete the ledger ids counted more than DAYS days ago')
    .requiredOption('--older-than <days>', 'age in days of the ids to delete', positiveNumber)
    .option('--batch-size <n>', 'rows deleted per transaction', positiveInt, 10_000)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', DETAILS)
    .action(act(prune));
}
