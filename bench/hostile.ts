/**
 * Exports of a given byte size for the hostile-ingest benchmark: a clean one, and a hostile one from the same
 * generator with oversized and broken records spread through it. Both are cut at the first line end past the
 * target size, so they differ in size by less than one record.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateTracking } from '../lib/domain/generator';
import { mulberry32 } from '../lib/domain/random';
import { TRACKING_COLUMNS } from '../lib/domain/tracking';

const MiB = 1 << 20;
const GiB = 1 << 30;

/** Small broken records: one every this many lines (a 2 GB export gets ~6,000, under the 10,000-reject cap). */
export const SMALL_EVERY_LINES = 1000;
/** A record over the 1 MiB limit (a 1.1 MiB field): one per this many bytes of export. */
export const OVERSIZED_EVERY_BYTES = 64 * MiB;
/** A line of commas: one per GiB (at least one), 30 MB long from 1 GiB up, scaled down for smaller exports. */
export const COMMA_LINE_BYTES = 30_000_000;

export type HostileKind =
  | 'unclosed_quote'
  | 'invalid_utf8'
  | 'non_finite'
  | 'bid_out_of_bounds'
  | 'column_count'
  | 'too_many_fields'
  | 'bad_closing_quote'
  | 'oversized_record'
  | 'comma_line';

/** Rotation of the small kinds; each is a distinct reject reason at ingest. */
const SMALL_KINDS: HostileKind[] = ['unclosed_quote', 'invalid_utf8', 'non_finite', 'bid_out_of_bounds', 'column_count', 'too_many_fields', 'bad_closing_quote'];
const NON_FINITE = ['1e400', '-1e400', 'NaN', 'Infinity'];
const BAD_BIDS = ['1e12', '1000001', '0.1234567'];

const COL = Object.fromEntries(TRACKING_COLUMNS.map((c, i) => [c, i])) as Record<string, number>;

/** Fields of a generator line (its quoting is csvField's: only fields with `"`, `,` or a line break are quoted). */
function splitGenerated(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 0x22) {
      let j = i + 1;
      let v = '';
      for (;;) {
        const k = line.indexOf('"', j);
        v += line.slice(j, k);
        if (line[k + 1] === '"') {
          v += '"';
          j = k + 2;
        } else {
          i = k + 1;
          break;
        }
      }
      out.push(v);
    } else {
      const k = line.indexOf(',', i);
      out.push(line.slice(i, k === -1 ? line.length : k));
      i = k === -1 ? line.length : k;
    }
    if (i >= line.length) return out;
    i++; // the comma
  }
}

const quote = (f: string): string => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f);
const join = (fields: string[]): string => fields.map(quote).join(',');

/** One broken version of a valid line (latin1 text: one char per byte, so any byte can be written). */
export function breakLine(kind: HostileKind, line: string, r: () => number): string {
  const f = splitGenerated(line);
  switch (kind) {
    case 'unclosed_quote':
      // A quote opens the browser field and never closes on this line: the splitter resynchronises later.
      f[COL['bn']!] = `"${f[COL['bn']!]}`;
      return f.join(',');
    case 'invalid_utf8':
      f[COL['ua']!] = `${f[COL['ua']!]}\xc3\x28\xff`;
      return join(f);
    case 'non_finite':
      f[COL[r() < 0.5 ? 'bid' : 'campaign_id']!] = NON_FINITE[Math.floor(r() * NON_FINITE.length)]!;
      return join(f);
    case 'bid_out_of_bounds':
      f[COL['bid']!] = BAD_BIDS[Math.floor(r() * BAD_BIDS.length)]!;
      return join(f);
    case 'column_count':
      return join(r() < 0.5 ? f.slice(0, f.length - 3) : [...f, 'x', 'y']);
    case 'too_many_fields':
      return line + ','.repeat(1200);
    case 'bad_closing_quote':
      f[COL['bn']!] = `"ab"c`;
      return f.join(',');
    case 'oversized_record':
      f[COL['ua']!] = 'x'.repeat(MiB + 100 * 1024);
      return join(f);
    case 'comma_line':
      throw new Error('comma_line is not a broken version of a line');
  }
}

export interface SizedExport {
  file: string;
  hostile: boolean;
  bytes: number;
  lines: number;
  /** Hostile records written, by kind; an unclosed quote also swallows valid lines up to its resync point. */
  injected: Partial<Record<HostileKind, number>>;
  /** Bytes taken by the injected records. */
  injectedBytes: number;
}

/** Where each large record goes: byte offsets, evenly spread, so every part of the file has some. */
function largePlan(bytes: number): Array<{ at: number; kind: HostileKind; size: number }> {
  const oversized = Math.max(1, Math.floor(bytes / OVERSIZED_EVERY_BYTES));
  const commas = Math.max(1, Math.round(bytes / GiB));
  const commaSize = Math.max(2 * MiB, Math.round(COMMA_LINE_BYTES * Math.min(1, bytes / GiB)));
  const plan = [
    ...Array.from({ length: oversized }, (_, i) => ({ at: ((i + 0.5) * bytes) / oversized, kind: 'oversized_record' as const, size: MiB })),
    ...Array.from({ length: commas }, (_, i) => ({ at: ((i + 0.3) * bytes) / commas, kind: 'comma_line' as const, size: commaSize })),
  ];
  return plan.sort((a, b) => a.at - b.at);
}

/**
 * Writes an export of about `bytes` bytes from the tracking generator (seed `seed`, no malformed rows of its
 * own). `hostile` replaces one line in SMALL_EVERY_LINES by a broken one (kinds in rotation) and adds the
 * large records of largePlan. Streaming with backpressure; memory does not grow with the size.
 */
export async function writeSizedExport(file: string, opts: { bytes: number; seed: number; hostile: boolean }): Promise<SizedExport> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const r = mulberry32(opts.seed ^ 0x7f4a7c15);
  // More rows than can fit; the loop stops at the size.
  const gen = generateTracking({ events: Math.ceil(opts.bytes / 100) + 10, seed: opts.seed, badRate: 0, days: 14 });
  const plan = opts.hostile ? largePlan(opts.bytes) : [];
  const out: SizedExport = { file, hostile: opts.hostile, bytes: 0, lines: 0, injected: {}, injectedBytes: 0 };
  const sink = fs.createWriteStream(`${file}.partial`);
  const parts: string[] = [];
  let pending = 0;
  const flush = async (): Promise<void> => {
    if (!sink.write(Buffer.from(parts.join(''), 'latin1'))) await new Promise<void>((ok) => sink.once('drain', () => ok()));
    parts.length = 0;
    pending = 0;
  };
  const emit = async (text: string, kind?: HostileKind): Promise<void> => {
    parts.push(text, '\n');
    pending += text.length + 1;
    out.bytes += text.length + 1;
    out.lines++;
    if (kind) {
      out.injected[kind] = (out.injected[kind] ?? 0) + 1;
      out.injectedBytes += text.length + 1;
    }
    if (pending >= MiB) await flush();
  };
  let small = 0;
  let dataLines = 0;
  for (const raw of gen.lines) {
    if (out.bytes >= opts.bytes) break;
    const line = typeof raw === 'string' ? Buffer.from(raw, 'utf8').toString('latin1') : raw.toString('latin1');
    if (out.lines === 0) {
      await emit(line);
      continue;
    }
    dataLines++;
    const large = plan[0];
    if (large && out.bytes >= large.at) plan.shift();
    // A large record that would run past the size is left out (only a tiny export gets there).
    if (large && out.bytes >= large.at && out.bytes + large.size < opts.bytes) {
      await emit(large.kind === 'comma_line' ? ','.repeat(large.size) : breakLine(large.kind, line, r), large.kind);
    } else if (opts.hostile && dataLines % SMALL_EVERY_LINES === 0) {
      const kind = SMALL_KINDS[small++ % SMALL_KINDS.length]!;
      await emit(breakLine(kind, line, r), kind);
    } else await emit(line);
  }
  await flush();
  await new Promise<void>((ok, fail) => sink.end((err?: Error | null) => (err ? fail(err) : ok())));
  await fs.promises.rename(`${file}.partial`, file);
  return out;
}

/** The pair of exports for `bytes`, cached by size and seed under `dir` (generated once). */
export async function ensureHostilePair(dir: string, bytes: number, seed: number, log: (l: string) => void): Promise<{ clean: SizedExport; hostile: SizedExport }> {
  const base = path.join(dir, `hostile-${bytes}-${seed}`);
  const manifest = path.join(base, 'manifest.json');
  if (fs.existsSync(manifest)) return JSON.parse(await fs.promises.readFile(manifest, 'utf8')) as { clean: SizedExport; hostile: SizedExport };
  const t = Date.now();
  log(`generating a clean and a hostile export of ${bytes} bytes (seed ${seed}) in ${base}`);
  const clean = await writeSizedExport(path.join(base, 'clean.csv'), { bytes, seed, hostile: false });
  const hostile = await writeSizedExport(path.join(base, 'hostile.csv'), { bytes, seed, hostile: true });
  await fs.promises.writeFile(manifest, JSON.stringify({ clean, hostile }, null, 2) + '\n');
  log(`  generated in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { clean, hostile };
}
