import type { Command } from 'commander';
import { config } from '../../lib/config';
import { EXIT, act, output } from './command';
import { quietKafkaLog } from './kafkaLog';

const DETAILS = `
Prints the count at every stage (lake, Kafka, stream, warehouse) and checks that they add up exactly
(docs/reconcile.md lists the equations). A check that cannot conclude yet (a batch still being published,
consumer lag) is reported as pending, not failed. --batch checks only the lake-side equations of that ingest
batch and its published count (stream counters are kept per partition, not per batch).

Exit status: 0 every check holds or is pending, 1 a check failed (or no such batch), 2 bad usage,
3 a service is unreachable.`;

async function reconcileCommand(opts: { batch?: string; json?: boolean }): Promise<number> {
  const [{ createCassandraClient }, { createKafka }, { createMysqlPool }] = await Promise.all([
    import('../../lib/clients/cassandra'), import('../../lib/clients/kafka'), import('../../lib/clients/mysql'),
  ]);
  const { reconcile } = await import('../../lib/reconcile/gather');
  const { formatReconcile } = await import('../../lib/reconcile/equations');
  const cfg = config();
  const cassandra = createCassandraClient(cfg.cassandra);
  const kafka = createKafka(cfg.kafka, 'reconcile', { retry: { initialRetryTime: 300, retries: 2 }, logCreator: quietKafkaLog });
  const mysql = createMysqlPool(cfg.mysql, { connectionLimit: 2 });
  try {
    await cassandra.connect();
    const result = await reconcile({ cassandra, kafka, mysql, config: cfg }, { batch: opts.batch });
    output(Boolean(opts.json), result, () => formatReconcile(result));
    return result.status === 'fail' ? EXIT.failed : EXIT.ok;
  } finally {
    await mysql.end().catch(() => undefined);
    await cassandra.shutdown().catch(() => undefined);
  }
}

export function defineReconcile(program: Command): void {
  program
    .command('reconcile')
    .description('Count every stage from the lake to the warehouse and check that they add up (exit 1 if not)')
    .option('--batch <id>', 'only this ingest batch')
    .option('--json', 'print the stages and checks as JSON')
    .addHelpText('after', DETAILS)
    .action(act(reconcileCommand));
}
