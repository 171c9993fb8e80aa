import { createCassandraClient } from '../../lib/clients/cassandra';
import { createKafka } from '../../lib/clients/kafka';
import { createMysqlPool } from '../../lib/clients/mysql';
import type { Config } from '../../lib/config';
import { config } from '../../lib/config';
import { waitCaughtUp, type CaughtUpState } from '../../lib/reconcile/caughtUp';
import { EXIT, UsageError, type Command } from './command';
import { quietKafkaLog, serviceErrorExit } from './serviceErrors';

const help = `Usage: trackflow wait --caught-up [--timeout S] [--json]

Waits until every published event has been consumed and committed to the warehouse: no ingest batch is
left in publish_pending, and for every partition of the topic the consumer group's stored offset in MySQL
equals the topic's high watermark. Prints progress (lag, pending batches) every few seconds.

  --caught-up   the condition to wait for (the only one so far)
  --timeout S   give up after S seconds (default 600)
  --json        print the final state as JSON

Exit status: 0 caught up, 1 timed out, 3 a service is unreachable.`;

function parseArgs(argv: string[]): { timeoutMs: number; json: boolean } {
  let caughtUp = false;
  let json = false;
  let timeoutMs = 600_000;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--caught-up') caughtUp = true;
    else if (a === '--json') json = true;
    else if (a === '--timeout' || a.startsWith('--timeout=')) {
      const raw = a.includes('=') ? a.slice('--timeout='.length) : argv[++i];
      const s = Number(raw);
      if (raw === undefined || !Number.isFinite(s) || s < 0) throw new UsageError(`invalid --timeout ${String(raw)}`);
      timeoutMs = s * 1000;
    } else throw new UsageError(a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`);
  }
  if (!caughtUp) throw new UsageError('say what to wait for: --caught-up');
  return { timeoutMs, json };
}

function progressLine(s: CaughtUpState): string {
  const secs = (s.elapsedMs / 1000).toFixed(0);
  return `${secs}s  lag ${s.lag.toLocaleString('en-US')}  pending batches ${s.pendingBatches}${s.caughtUp ? '  caught up' : ''}`;
}

export async function runWait(cfg: Config, args: { timeoutMs: number; json: boolean }): Promise<number> {
  const cassandra = createCassandraClient(cfg.cassandra);
  const kafka = createKafka(cfg.kafka, 'wait', { retry: { initialRetryTime: 300, retries: 2 }, logCreator: quietKafkaLog });
  const mysql = createMysqlPool(cfg.mysql, { connectionLimit: 1 });
  const tty = process.stderr.isTTY === true;
  let lastPrinted = 0;
  try {
    await cassandra.connect();
    const state = await waitCaughtUp(
      { cassandra, kafka, mysql, config: cfg },
      {
        timeoutMs: args.timeoutMs,
        onProgress: (s) => {
          if (tty) process.stderr.write(`\r\x1b[2K${progressLine(s)}`);
          else if (s.elapsedMs - lastPrinted >= 5000 || s.caughtUp || lastPrinted === 0) {
            lastPrinted = Math.max(1, s.elapsedMs);
            process.stderr.write(progressLine(s) + '\n');
          }
        },
      },
    );
    if (tty) process.stderr.write('\n');
    if (args.json) process.stdout.write(JSON.stringify(state, null, 2) + '\n');
    else if (!state.caughtUp) process.stderr.write(`trackflow wait: timed out after ${(args.timeoutMs / 1000).toFixed(0)}s\n`);
    return state.caughtUp ? EXIT.ok : EXIT.failed;
  } catch (err) {
    if (tty) process.stderr.write('\n');
    return serviceErrorExit('wait', err);
  } finally {
    await mysql.end().catch(() => undefined);
    await cassandra.shutdown().catch(() => undefined);
  }
}

export const command: Command = {
  name: 'wait',
  summary: 'Wait until every published event is consumed and committed (wait --caught-up [--timeout S])',
  help,
  async run(argv) {
    return runWait(config(), parseArgs(argv));
  },
};
