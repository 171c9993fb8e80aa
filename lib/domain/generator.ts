import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { makeTimeUuid } from './timeuuid';
import { TRACKING_COLUMNS } from './tracking';
import { JOB_COLUMNS } from './jobRecord';
import { mulberry32 } from './random';
import { csvRow } from './csv';


export const BAD_KINDS = ['column_count', 'non_numeric_bid', 'non_uuid_create_time', 'v4_uuid', 'invalid_utf8'] as const;
export type BadKind = (typeof BAD_KINDS)[number];

/** The reject reason ingest gives each injected kind (prefix of the quarantine reason). */
export const BAD_KIND_REASON: Record<BadKind, string> = {
  column_count: 'column_count',
  non_numeric_bid: 'invalid_number',
  non_uuid_create_time: 'invalid_create_time',
  v4_uuid: 'invalid_create_time',
  invalid_utf8: 'invalid_utf8',
};

export interface GeneratorOptions {
  events: number;
  seed: number;
  /** Fraction of rows replaced by malformed ones, spread evenly, kinds in rotation. */
  badRate?: number;
  days?: number;
  /** First day (UTC midnight, ms) of the spread. */
  startMs?: number;
}

export interface Manifest {
  seed: number;
  events: number;
  days: number;
  /** Data rows written (valid + bad); the header is line 1, data row i (0-based) is line i + 2. */
  totalRows: number;
  validRows: number;
  badRows: number;
  badByKind: Record<BadKind, number[]>;
  jobIds: number[];
}

/** Weighted actions, matching the real mix (docs/data-contract.md). */
const TRACKS: Array<[string, number]> = [
  ['', 0.52],
  ['click', 0.32],
  ['alive', 0.12],
  ['conversion', 0.02],
  ['unqualified', 0.01],
  ['qualified', 0.005],
  ['redirect', 0.003],
  ['interview_scheduled', 0.002],
];
const BIDS = [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3];
const BROWSERS: Array<[string, string, string, string]> = [
  [
    'Chrome 103',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/103.0.0.0 Safari/537.36',
    '1366x768',
    '1366x625',
  ],
  [
    'Chrome 102',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/102.0.0.0 Safari/537.36',
    '1920x1080',
    '1920x976',
  ],
  [
    'Safari 604',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 15_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/103.0.5060.63 Mobile/15E148 Safari/604.1',
    '375x812',
    '375x640',
  ],
  ['Firefox 101', 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:101.0) Gecko/20100101 Firefox/101.0', '1536x864', '1536x750'],
];
const PAGES = [
  'http://fe.dev.gotoro.io/candidate-portal/job',
  'http://fe.stag.gotoro.io/candidate-portal/messages',
  'http://localhost:4200/candidate-portal/job?what=developer&where=',
];

const DEFAULT_START_MS = Date.UTC(2022, 6, 1);

/** Doubles the way the exporter writes them: `188.0`, `0.5`. */
export function fmtDouble(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export interface GeneratedTracking {
  /** Lines without their terminator; Buffers are lines carrying invalid UTF-8 on purpose. */
  lines: Generator<string | Buffer>;
  manifest: Manifest;
}

/** The job pool: ids and their attributes, derived from the seed. */
export function jobPool(seed: number): Array<{ id: number; companyId: number; campaignId: number; groupId: number | null }> {
  const rnd = mulberry32(seed ^ 0x5bd1e995);
  return Array.from({ length: 60 }, (_, i) => ({
    id: 100 + i * 17,
    companyId: 1 + Math.floor(rnd() * 20),
    campaignId: 1 + Math.floor(rnd() * 250),
    groupId: rnd() < 0.5 ? 1 + Math.floor(rnd() * 40) : null,
  }));
}

type Job = ReturnType<typeof jobPool>[number];

/** Everything drawn at random for one tracking row. */
interface DrawnEvent {
  millis: number;
  createTime: string;
  track: string;
  attributed: boolean;
  job: Job;
  publisher: number;
  bid: number;
  browser: (typeof BROWSERS)[number];
  page: string;
  user: number;
  /** The export's local timestamp column, empty for 2% of rows. */
  ts: string;
}

function drawTrack(rnd: () => number): string {
  let r = rnd();
  for (const [name, w] of TRACKS) {
    if (r < w) return name;
    r -= w;
  }
  return '';
}

/** The export's local time (UTC-7, as the real exports), or '' for a row without one. */
function localTimestamp(rnd: () => number, millis: number): string {
  const d = new Date(millis - 420 * 60_000);
  return rnd() < 0.02
    ? ''
    : `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:` +
        `${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** One row's random draws, in a fixed order: the same seed gives the same file. */
function drawEvent(rnd: () => number, jobs: Job[], at: { startMs: number; span: number; node: string }): DrawnEvent {
  const millis = at.startMs + Math.floor(rnd() * at.span);
  const createTime = makeTimeUuid(millis, Math.floor(rnd() * 10000), Math.floor(rnd() * 0x3fff), at.node);
  const track = drawTrack(rnd);
  const attributed = rnd() < 0.3;
  const job = jobs[Math.floor(rnd() * jobs.length)]!;
  const publisher = 1 + Math.floor(rnd() * 40);
  const bid = BIDS[Math.floor(rnd() * BIDS.length)]!;
  const browser = BROWSERS[Math.floor(rnd() * BROWSERS.length)]!;
  const page = PAGES[Math.floor(rnd() * PAGES.length)]!;
  const user = Math.floor(rnd() * 5000);
  return { millis, createTime, track, attributed, job, publisher, bid, browser, page, user, ts: localTimestamp(rnd, millis) };
}

/** The row's fields in TRACKING_COLUMNS order. */
function trackingFields(i: number, e: DrawnEvent): string[] {
  const { track, attributed, job, browser } = e;
  const ed = track && track !== 'alive' ? JSON.stringify({ customEvent: track, jobId: job.id, publisherId: attributed ? e.publisher : 0, userId: e.user }) : '';
  return [
    String(i),
    e.createTime,
    attributed ? fmtDouble(e.bid) : '',
    browser[0],
    attributed ? fmtDouble(job.campaignId) : '',
    '24.0',
    track,
    'UTF-8',
    e.page,
    'CandidatePortal',
    ed,
    track ? '2.0' : '1.0',
    attributed && job.groupId !== null ? fmtDouble(job.groupId) : '',
    '',
    attributed ? fmtDouble(job.id) : '',
    'true',
    attributed ? fmtDouble(e.publisher) : '',
    '',
    browser[2],
    e.ts,
    '-420.0',
    browser[1],
    `1-${(e.user * 7919).toString(36).padStart(8, '0')}-l5${(i % 1296).toString(36).padStart(2, '0')}xxxx`,
    '',
    '',
    '',
    '',
    '',
    '1.0',
    browser[3],
  ];
}

/** Row `i` spoiled the way `kind` says (the manifest lists it as bad). */
function badLine(kind: BadKind, fields: string[], createTime: string, i: number): string | Buffer {
  switch (kind) {
    case 'column_count':
      fields.splice(5, 3);
      break;
    case 'non_numeric_bid':
      fields[2] = 'abc';
      break;
    case 'non_uuid_create_time':
      fields[1] = `not-a-uuid-${i}`;
      break;
    case 'v4_uuid':
      fields[1] = `${createTime.slice(0, 14)}4${createTime.slice(15)}`;
      break;
    case 'invalid_utf8': {
      const before = Buffer.from(csvRow(fields.slice(0, 3)) + ',');
      const after = Buffer.from(csvRow(fields.slice(4)));
      return Buffer.concat([before, Buffer.from([0x43, 0x68, 0xff, 0xfe, 0x72]), Buffer.from(','), after]);
    }
  }
  return csvRow(fields);
}

/**
 * Tracking rows in exactly the export's format, one at a time (memory does not grow with `events`).
 * The manifest's bad-row lists are filled as rows are produced; read it after exhausting `lines`.
 */
export function generateTracking(opts: GeneratorOptions): GeneratedTracking {
  const seed = opts.seed >>> 0;
  const days = opts.days ?? 7;
  const startMs = opts.startMs ?? DEFAULT_START_MS;
  const n = opts.events;
  const badCount = Math.min(n, Math.round(n * (opts.badRate ?? 0)));
  const jobs = jobPool(seed);
  const manifest: Manifest = {
    seed,
    events: n,
    days,
    totalRows: n,
    validRows: n - badCount,
    badRows: badCount,
    badByKind: Object.fromEntries(BAD_KINDS.map((k) => [k, [] as number[]])) as unknown as Record<BadKind, number[]>,
    jobIds: jobs.map((j) => j.id),
  };
  const rnd = mulberry32(seed);
  const span = days * 86_400_000;
  const nodeHigh = (seed & 0xffff).toString(16).padStart(4, '0');

  function* lines(): Generator<string | Buffer> {
    yield TRACKING_COLUMNS.join(',');
    let nextBad = 0;
    const badIndex = (j: number): number => Math.floor(((j + 0.5) * n) / badCount);
    for (let i = 0; i < n; i++) {
      // The row index in the node makes every create_time unique within the file.
      const e = drawEvent(rnd, jobs, { startMs, span, node: nodeHigh + (i >>> 0).toString(16).padStart(8, '0') });
      const fields = trackingFields(i, e);
      if (nextBad < badCount && i === badIndex(nextBad)) {
        const kind = BAD_KINDS[nextBad % BAD_KINDS.length]!;
        manifest.badByKind[kind].push(i + 2);
        nextBad++;
        yield badLine(kind, fields, e.createTime, i);
        continue;
      }
      yield csvRow(fields);
    }
  }
  return { lines: lines(), manifest };
}

/** The job export for the generated job ids; the first job's description spans several lines. */
export function* generateJobs(seed: number): Generator<string> {
  yield JOB_COLUMNS.join(',');
  for (const [i, job] of jobPool(seed >>> 0).entries()) {
    const values: Record<string, string> = {
      id: String(job.id),
      created_by: 'admin',
      created_date: '2022-06-12 03:25:19.966000',
      last_modified_by: 'admin',
      last_modified_date: '2022-07-27 08:18:53.421507',
      is_active: '1',
      title: `Job ${job.id}`,
      description:
        i === 0
          ? 'Working across more than 30 countries, "quoted", with commas,\nand a second line\r\nand a third.'
          : 'Desc',
      work_schedule: 'Full Time',
      role_location: 'Remote',
      resume_option: 'Required',
      status: String(1 + (i % 3)),
      redirect_url: 'https://example.com/?a=1&b=2',
      group_id: job.groupId === null ? '' : String(job.groupId),
      minor_id: '1',
      campaign_id: String(job.campaignId),
      company_id: String(job.companyId),
      history_status: '2',
      ref_id: String(job.id),
    };
    yield csvRow(JOB_COLUMNS.map((c) => values[c] ?? ''));
  }
}

async function writeLines(file: string, lines: Iterable<string | Buffer>, gzip: boolean): Promise<void> {
  const out = fs.createWriteStream(file);
  const gz = gzip ? zlib.createGzip() : undefined;
  gz?.pipe(out);
  const sink: NodeJS.WritableStream = gz ?? out;
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
    sink.on('error', reject);
  });
  let buf: Array<string | Buffer> = [];
  let size = 0;
  const flush = async (): Promise<void> => {
    if (!buf.length) return;
    const chunk = Buffer.concat(buf.map((b) => (typeof b === 'string' ? Buffer.from(b) : b)));
    buf = [];
    size = 0;
    if (!sink.write(chunk)) await once(sink, 'drain');
  };
  for (const line of lines) {
    buf.push(line, '\n');
    size += line.length + 1;
    if (size >= 1 << 20) await flush();
  }
  await flush();
  sink.end();
  await done;
}

export interface GenerateResult {
  trackingFile: string;
  jobFile: string;
  manifestFile: string;
  manifest: Manifest;
}

/** Writes tracking.csv[.gz], job.csv and manifest.json into `outDir`, streaming with backpressure. */
export async function writeDataset(
  outDir: string,
  opts: GeneratorOptions & { gzip?: boolean; trackingName?: string },
): Promise<GenerateResult> {
  await fs.promises.mkdir(outDir, { recursive: true });
  const trackingFile = path.join(outDir, opts.trackingName ?? (opts.gzip ? 'tracking.csv.gz' : 'tracking.csv'));
  const jobFile = path.join(outDir, 'job.csv');
  const manifestFile = path.join(outDir, 'manifest.json');
  const gen = generateTracking(opts);
  await writeLines(trackingFile, gen.lines, !!opts.gzip);
  await writeLines(jobFile, generateJobs(opts.seed), false);
  await fs.promises.writeFile(manifestFile, JSON.stringify(gen.manifest, null, 2) + '\n');
  return { trackingFile, jobFile, manifestFile, manifest: gen.manifest };
}
