import type { Client } from 'cassandra-driver';
import type { Command } from 'commander';
import { Option } from 'commander';
import { config } from '../../lib/config';
import { csvRow } from '../../lib/domain/csv';
import { NotFound } from '../../lib/domain/errors';
import type { QuarantineRow } from '../../lib/quarantine/read';
import { EXIT, UsageError, act, group, oneOf, positiveInt } from './command';

const DETAILS = `
Lists the rows that ingest or publish set aside, with their batch, file, line and reason, in key order.
--reason matches a reason kind exactly (column_count, invalid_number, invalid_create_time, invalid_utf8)
or any reason containing the text. \`show\` prints one row in full, including its raw text.
Exit status: 0 ok (also when nothing matches), 1 no such row (show), 2 bad usage, 3 Cassandra unreachable.`;

const CSV_COLUMNS = ['batch', 'stage', 'line', 'file', 'kind', 'reason', 'raw', 'quarantinedAt'] as const;

function humanLine(r: QuarantineRow): string {
  const reason = r.reason.length > 100 ? `${r.reason.slice(0, 97)}...` : r.reason;
  return `${r.batch}  ${r.stage.padEnd(7)}  line ${String(r.line).padStart(7)}  ${r.file}  ${reason}`;
}

function humanShow(r: QuarantineRow): string {
  return [
    `batch:          ${r.batch}`,
    `stage:          ${r.stage}`,
    `file:           ${r.file}`,
    `line:           ${r.line}`,
    `reason:         ${r.reason}`,
    `quarantined at: ${r.quarantinedAt ?? '-'}`,
    'raw:',
    r.raw,
  ].join('\n');
}

type Flags = { batch?: string; stage?: 'ingest' | 'publish'; reason?: string; line?: number; json?: boolean; csv?: boolean };

async function list(rows: AsyncGenerator<QuarantineRow>, flags: Flags): Promise<number> {
  const out = process.stdout;
  if (flags.csv) out.write(CSV_COLUMNS.join(',') + '\n');
  if (flags.json) out.write('[');
  let n = 0;
  for await (const r of rows) {
    if (flags.csv) out.write(csvRow(CSV_COLUMNS.map((c) => (r[c] === null || r[c] === undefined ? null : String(r[c])))) + '\n');
    else if (flags.json) out.write(`${n ? ',' : ''}\n  ${JSON.stringify(r)}`);
    else out.write(humanLine(r) + '\n');
    n++;
  }
  if (flags.json) out.write(n ? '\n]\n' : ']\n');
  if (!flags.json && !flags.csv) process.stderr.write(`${n} quarantined row(s)\n`);
  return EXIT.ok;
}

/** Runs `fn` with a connected Cassandra client and always shuts it down. */
async function withCassandra(fn: (client: Client, keyspace: string) => Promise<number>): Promise<number> {
  const { createCassandraClient } = await import('../../lib/clients/cassandra');
  const cfg = config();
  const cassandra = createCassandraClient(cfg.cassandra);
  try {
    await cassandra.connect();
    return await fn(cassandra, cfg.cassandra.keyspace);
  } finally {
    await cassandra.shutdown().catch(() => undefined);
  }
}

async function listCommand(flags: Flags): Promise<number> {
  if (flags.json && flags.csv) throw new UsageError('choose one of --json and --csv');
  const { listQuarantine } = await import('../../lib/quarantine/read');
  return withCassandra((cassandra, ks) => list(listQuarantine(cassandra, ks, flags), flags));
}

async function showCommand(flags: Flags & { batch: string; line: number }): Promise<number> {
  const { showQuarantine } = await import('../../lib/quarantine/read');
  const stage = flags.stage ?? 'ingest';
  return withCassandra(async (cassandra, ks) => {
    const row = await showQuarantine(cassandra, ks, flags.batch, stage, flags.line);
    if (!row) throw new NotFound(`no quarantined row at batch ${flags.batch}, stage ${stage}, line ${flags.line}`);
    process.stdout.write((flags.json ? JSON.stringify(row, null, 2) : humanShow(row)) + '\n');
    return EXIT.ok;
  });
}

export function defineQuarantine(program: Command): void {
  const quarantine = group(program, 'quarantine', 'List and show the rows ingest and publish set aside').addHelpText('after', DETAILS);
  const stage = () => new Option('--stage <stage>', 'ingest or publish').argParser(oneOf('ingest', 'publish'));
  quarantine
    .command('list')
    .description('list the quarantined rows in key order')
    .option('--batch <id>', 'only this ingest batch')
    .addOption(stage())
    .option('--reason <r>', 'a reason kind exactly, or any reason containing the text')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action(act(listCommand));
  quarantine
    .command('show')
    .description('print one quarantined row in full, including its raw text')
    .requiredOption('--batch <id>', 'the ingest batch')
    .requiredOption('--line <n>', 'the line number', positiveInt)
    .addOption(stage())
    .option('--json', 'print JSON')
    .action(act(showCommand));
}
