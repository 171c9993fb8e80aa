import { createCassandraClient } from '../../lib/clients/cassandra';
import { createKafka } from '../../lib/clients/kafka';
import { createMysqlPool } from '../../lib/clients/mysql';
import { config } from '../../lib/config';
import { formatReconcile } from '../../lib/reconcile/equations';
import { BatchNotFoundError, reconcile } from '../../lib/reconcile/gather';
import { EXIT, UsageError, output, type Command } from './command';
import { quietKafkaLog, serviceErrorExit } from './serviceErrors';

const help = `Usage: trackflow reconcile [--batch ID] [--json]

Prints the count at every stage (lake, Kafka, stream, warehouse) and checks that they add up exactly
(docs/reconcile.md lists the equations). A check that cannot conclude yet (a batch still being published,
consumer lag) is reported as pending, not failed.

  --batch ID   only this ingest batch: the lake-side equations and its published count (stream
               counters are kept per partition, not per batch, so the stream side is not checked)
  --json       print the stages and checks as JSON

Exit status: 0 every check holds or is pending, 1 a check failed, 3 a service is unreachable.`;

function parseArgs(argv: string[]): { batch?: string; json: boolean } {
  const out: { batch?: string; json: boolean } = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') out.json = true;
    else if (a === '--batch' || a.startsWith('--batch=')) {
      const value = a.includes('=') ? a.slice('--batch='.length) : argv[++i];
      if (!value) throw new UsageError('--batch needs an ingest batch id');
      out.batch = value;
    } else throw new UsageError(a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`);
  }
  return out;
}

export const command: Command = {
  name: 'reconcile',
  summary: 'Count every stage from the lake to the warehouse and check that they add up (exit 1 if not)',
  help,
  async run(argv) {
    const args = parseArgs(argv);
    const cfg = config();
    const cassandra = createCassandraClient(cfg.cassandra);
    const kafka = createKafka(cfg.kafka, 'reconcile', { retry: { initialRetryTime: 300, retries: 2 }, logCreator: quietKafkaLog });
    const mysql = createMysqlPool(cfg.mysql, { connectionLimit: 2 });
    try {
      await cassandra.connect();
      const result = await reconcile({ cassandra, kafka, mysql, config: cfg }, { batch: args.batch });
      output(args.json, result, () => formatReconcile(result));
      return result.status === 'fail' ? EXIT.failed : EXIT.ok;
    } catch (err) {
      if (err instanceof BatchNotFoundError) {
        process.stderr.write(`trackflow reconcile: ${err.message}\n`);
        return EXIT.failed;
      }
      return serviceErrorExit('reconcile', err);
    } finally {
      await mysql.end().catch(() => undefined);
      await cassandra.shutdown().catch(() => undefined);
    }
  },
};
