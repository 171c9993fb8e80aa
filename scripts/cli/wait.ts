import type { Command } from 'commander';
import type { Config } from '../../lib/config';
import { config } from '../../lib/config';
import { CheckFailed } from '../../lib/domain/errors';
import type { CaughtUpState } from '../../lib/reconcile/caughtUp';
import { EXIT, act, nonNegativeNumber } from './command';
import { quietKafkaLog } from './kafkaLog';
import { createProgress } from './progress';

const DETAILS = `
Waits until every published event has been consumed and committed to the warehouse: no ingest batch is
left in publish_pending, and for every partition of the topic the consumer group's stored offset in MySQL
equals the topic's high watermark. Prints progress (lag, pending batches) every few seconds.

Exit status: 0 caught up, 1 timed out, 2 bad usage, 3 a service is unreachable.`;

function progressLine(s: CaughtUpState): string {
  const secs = (s.elapsedMs / 1000).toFixed(0);
  return `${secs}s  lag ${s.lag.toLocaleString('en-US')}  pending batches ${s.pendingBatches}${s.caughtUp ? '  caught up' : ''}`;
}

export async function runWait(cfg: Config, args: { timeoutMs: number; json: boolean }): Promise<number> {
  const [{ createCassandraClient }, { createKafka }, { createMysqlPool }] = await Promise.all([
    import('../../lib/clients/cassandra'), import('../../lib/clients/kafka'), import('../../lib/clients/mysql'),
  ]);
  const { waitCaughtUp } = await import('../../lib/reconcile/caughtUp');
  const cassandra = createCassandraClient(cfg.cassandra);
  const kafka = createKafka(cfg.kafka, 'wait', { retry: { initialRetryTime: 300, retries: 2 }, logCreator: quietKafkaLog });
  const mysql = createMysqlPool(cfg.mysql, { connectionLimit: 1 });
  const progress = createProgress({ minGapMs: 5000 });
  try {
    await cassandra.connect();
    const state = await waitCaughtUp(
      { cassandra, kafka, mysql, config: cfg },
      { timeoutMs: args.timeoutMs, onProgress: (s) => progress.update(progressLine(s), { force: s.caughtUp }) },
    );
    progress.end();
    if (args.json) process.stdout.write(JSON.stringify(state, null, 2) + '\n');
    else if (!state.caughtUp) throw new CheckFailed(`timed out after ${(args.timeoutMs / 1000).toFixed(0)}s`);
    return state.caughtUp ? EXIT.ok : EXIT.failed;
  } finally {
    progress.end();
    await mysql.end().catch(() => undefined);
    await cassandra.shutdown().catch(() => undefined);
  }
}

export function defineWait(program: Command): void {
  program
    .command('wait')
    .description('Wait until every published event is consumed and committed')
    .requiredOption('--caught-up', 'the condition to wait for (the only one so far)')
    .option('--timeout <s>', 'give up after S seconds', nonNegativeNumber, 600)
    .option('--json', 'print the final state as JSON')
    .addHelpText('after', DETAILS)
    .action(act((opts: { timeout: number; json?: boolean }) => runWait(config(), { timeoutMs: opts.timeout * 1000, json: Boolean(opts.json) })));
}
