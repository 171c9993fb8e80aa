import { createCassandraClient } from '../clients/cassandra';
import { config } from '../config';
import { listQuarantine, showQuarantine, type QuarantineRow } from '../quarantine/read';
import { parseFlags } from '../temporal/cli';
import { EXIT, UsageError, type Command } from './command';
import { serviceErrorExit } from './serviceErrors';
import { csvRow } from '../csv';

const help = `Usage: trackflow quarantine list [--batch ID] [--stage ingest|publish] [--reason R] [--json | --csv]
       trackflow quarantine show --batch ID --line N [--stage ingest|publish] [--json]

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

type Flags = { batch?: string; stage?: string; reason?: string; line?: string; json?: boolean; csv?: boolean };

function parse(argv: string[]): { sub: string; flags: Flags } {
  const { values, positionals } = parseFlags(
    argv,
    {
      batch: { type: 'string' },
      stage: { type: 'string' },
      reason: { type: 'string' },
      line: { type: 'string' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
    },
    true,
  );
  const [sub, ...extra] = positionals;
  if (sub !== 'list' && sub !== 'show') throw new UsageError(sub ? `unknown sub-command "${sub}"` : 'missing sub-command (list or show)');
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (values.json && values.csv) throw new UsageError('choose one of --json and --csv');
  if (values.stage !== undefined && !['ingest', 'publish'].includes(values.stage)) throw new UsageError(`--stage must be ingest or publish, not ${values.stage}`);
  return { sub, flags: values };
}

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

export const command: Command = {
  name: 'quarantine',
  summary: 'List and show the rows ingest and publish set aside (quarantine list|show)',
  help,
  async run(argv) {
    const { sub, flags } = parse(argv);
    let line: number | undefined;
    if (sub === 'show') {
      if (!flags.batch) throw new UsageError('show needs --batch ID');
      line = Number(flags.line);
      if (!flags.line || !Number.isInteger(line) || line < 1) throw new UsageError('show needs --line N (a positive integer)');
      if (flags.csv) throw new UsageError('show takes --json, not --csv');
    } else if (flags.line !== undefined) throw new UsageError('--line is for show');
    const cfg = config();
    const cassandra = createCassandraClient(cfg.cassandra);
    try {
      await cassandra.connect();
      const ks = cfg.cassandra.keyspace;
      if (sub === 'list') return await list(listQuarantine(cassandra, ks, flags), flags);
      const row = await showQuarantine(cassandra, ks, flags.batch!, flags.stage ?? 'ingest', line!);
      if (!row) {
        process.stderr.write(`trackflow quarantine: no quarantined row at batch ${flags.batch}, stage ${flags.stage ?? 'ingest'}, line ${line}\n`);
        return EXIT.failed;
      }
      process.stdout.write((flags.json ? JSON.stringify(row, null, 2) : humanShow(row)) + '\n');
      return EXIT.ok;
    } catch (err) {
      return serviceErrorExit('quarantine', err);
    } finally {
      await cassandra.shutdown().catch(() => undefined);
    }
  },
};
