/**
 * Mutations of real export lines for the ingest fuzz: each returns the bytes of one or more lines that
 * replace a valid line. Seeded, so a failing run can be replayed with its seed. Shares no logic with lib/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../lib/domain/random';

/** The seeded generator of the mutations (the only thing taken from lib/: it decides nothing under test). */
export const rng = mulberry32;

const NUMERIC = ['bid', 'campaign_id', 'cd', 'ev', 'group_id', 'job_id', 'publisher_id', 'tz', 'v'];
const HOSTILE_NUMBERS = ['1e400', '-1e400', 'NaN', 'Infinity', '-Infinity', '1e-400', '0x10', '1_0', '', '-0', '12', '3.5e2'];
const HOSTILE_BIDS = ['1000001', '1e6', '1000000.0000001', '0.1234567', '12.5', '0.000001', '1e12', '999999.999999'];

/** Splits one unquoted-or-quoted CSV line into fields (the lines come from a known-good export). */
export function splitLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"' && cur === '') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function joinLine(fields: string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
}

/** Lines are latin1 strings (one char per byte), so a mutation can hold any bytes. */
export type Mutation = (line: string, header: string[], r: () => number) => string;

const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;

function setField(line: string, header: string[], col: string, value: string): string {
  const f = splitLine(line);
  const i = header.indexOf(col);
  if (i >= 0 && i < f.length) f[i] = value;
  return joinLine(f);
}

/** Each mutation is a kind of damage seen in real exports or in the hostile-input issue. */
export const MUTATIONS: Record<string, Mutation> = {
  truncate: (l, _h, r) => l.slice(0, Math.floor(r() * l.length)),
  strayQuote: (l, _h, r) => {
    const at = Math.floor(r() * l.length);
    return l.slice(0, at) + '"' + l.slice(at);
  },
  numberLiteral: (l, h, r) => setField(l, h, pick(NUMERIC, r), pick(HOSTILE_NUMBERS, r)),
  bid: (l, h, r) => setField(l, h, 'bid', pick(HOSTILE_BIDS, r)),
  hugeField: (l, h) => setField(l, h, 'ua', 'x'.repeat((1 << 20) + 100)),
  manyCommas: (l) => l + ','.repeat(1200),
  invalidUtf8: (l, _h, r) => {
    const at = Math.floor(r() * l.length);
    return `${l.slice(0, at)}\xc3\x28${l.slice(at)}`;
  },
  duplicate: (l) => `${l}\n${l}`,
  crlf: (l) => `${l}\r`,
  blankLines: (l) => `${l}\n\n\r\n`,
  badClosingQuote: (l, h) => {
    const f = splitLine(l);
    const i = h.indexOf('bn');
    return `${joinLine(f.slice(0, i))},"ab"c,${joinLine(f.slice(i + 1))}`;
  },
  nonUuidTime: (l, h) => setField(l, h, 'create_time', 'not-a-uuid'),
};

/** Real lines: the fixture's data rows, as latin1 strings. */
export function fixtureLines(dir: string): string[] {
  return fs.readFileSync(path.join(dir, 'tracking_sample.csv'), 'latin1').split(/\r?\n/).slice(1).filter((l) => l !== '');
}

/** A generator line (text or raw bytes) as a latin1 string. */
export function latin1(line: string | Buffer): string {
  return (typeof line === 'string' ? Buffer.from(line, 'utf8') : line).toString('latin1');
}

/**
 * A file of `lines` (header first) where about `rate` of the data lines are mutated. Returns the bytes and
 * how many of each mutation were applied. `hugeField` is rare (it is 1 MiB a time).
 */
export function mutateExport(lines: string[], rate: number, r: () => number): { bytes: Buffer; applied: Record<string, number> } {
  const header = splitLine(lines[0]!);
  const applied: Record<string, number> = {};
  const kinds = Object.keys(MUTATIONS);
  const parts: string[] = [lines[0]!];
  for (const line of lines.slice(1)) {
    if (r() >= rate) {
      parts.push(line);
      continue;
    }
    let kind = pick(kinds, r);
    if (kind === 'hugeField' && r() > 0.05) kind = 'numberLiteral';
    applied[kind] = (applied[kind] ?? 0) + 1;
    parts.push(MUTATIONS[kind]!(line, header, r));
  }
  return { bytes: Buffer.from(parts.join('\n') + '\n', 'latin1'), applied };
}

/** The same export with its columns in another order and one column the contract does not know. */
export function reshape(lines: string[], r: () => number): string[] {
  const header = splitLine(lines[0]!);
  const order = header.map((_, i) => i).sort(() => r() - 0.5);
  return lines.map((l, n) => {
    const f = splitLine(l);
    return joinLine([...order.map((i) => f[i] ?? ''), n === 0 ? 'tracker_version' : `v${n % 7}`]);
  });
}
