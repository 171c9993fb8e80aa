import { createMysqlPool } from '../../lib/clients/mysql';
import { config } from '../../lib/config';
import { pruneLedger } from '../../lib/stream/ledger';
import { EXIT, UsageError, output, type Command } from './command';
import { serviceErrorExit } from './serviceErrors';

const help = `Usage: trackflow ledger prune --older-than DAYS [--batch-size N] [--json]

Deletes from the warehouse's event-id ledger (counted_events) the ids counted more than DAYS days ago.
The ledger makes the stream count each event once even when an event reaches Kafka twice; an event
re-exported after its id was pruned would be counted again, so keep DAYS longer than any export can
overlap an earlier one. Deletes run in chunks of N rows (default 10000), each its own short transaction.

Exit status: 0 done, 2 bad usage, 1 schema missing, 3 MySQL unreachable.`;

function parseArgs(argv: string[]): { olderThanDays: number; batchSize: number; json: boolean } {
  const [sub, ...rest] = argv;
  if (sub !== 'prune') throw new UsageError(sub === undefined ? 'say what to do: ledger prune' : `unknown ledger command ${sub}`);
  let olderThanDays: number | undefined;
  let batchSize = 10_000;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--json') json = true;
    else if (a === '--older-than') {
      const raw = value();
      olderThanDays = Number(raw);
      if (!Number.isFinite(olderThanDays) || olderThanDays <= 0) throw new UsageError(`--older-than must be a positive number of days, got ${raw}`);
    } else if (a === '--batch-size') {
      const raw = value();
      batchSize = Number(raw);
      if (!Number.isInteger(batchSize) || batchSize <= 0) throw new UsageError(`--batch-size must be a positive integer, got ${raw}`);
    } else throw new UsageError(a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`);
  }
  if (olderThanDays === undefined) throw new UsageError('--older-than DAYS is required');
  return { olderThanDays, batchSize, json };
}

export const command: Command = {
  name: 'ledger',
  summary: 'Retention of the event-id ledger (ledger prune --older-than DAYS)',
  help,
  async run(argv) {
    const args = parseArgs(argv);
    const pool = createMysqlPool(config().mysql, { connectionLimit: 1 });
    try {
      const r = await pruneLedger(pool, args);
      output(args.json, r, () => `deleted ${r.deleted} ids counted before ${r.cutoff} (server time); ${r.remaining} remain`);
      return EXIT.ok;
    } catch (err) {
      return serviceErrorExit('ledger', err);
    } finally {
      await pool.end().catch(() => undefined);
    }
  },
};
