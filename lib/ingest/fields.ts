import { parse, type Options } from 'csv-parse/sync';
import type { Piece } from './splitter';

/**
 * csv-parse options that read a framed record exactly as the framer (splitter.ts) delimited it: records end at
 * LF only (the framer already dropped a CR before it), a quote inside an unquoted field is data, and records
 * may have any number of fields (the column check counts them later, with a reason).
 */
const CSV_OPTIONS: Options = {
  delimiter: ',',
  quote: '"',
  escape: '"',
  record_delimiter: '\n',
  relax_quotes: true,
  relax_column_count: true,
  skip_empty_lines: false,
  bom: false,
};

type RecordPiece = Extract<Piece, { kind: 'record' }>;

function parseOne(p: RecordPiece): string[] | string {
  try {
    const rows = parse(p.raw + '\n', CSV_OPTIONS) as string[][];
    if (rows.length !== 1) return `csv-parse read ${rows.length} records where the framer found one`;
    if (rows[0]!.length !== p.fieldCount) return `csv-parse read ${rows[0]!.length} fields where the framer counted ${p.fieldCount}`;
    return rows[0]!;
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).message;
  }
}

/** One record csv-parse cannot read becomes a reject on its own lines; its neighbours are parsed alone. */
function parseEach(pieces: Piece[], at: number[]): void {
  for (const i of at) {
    const p = pieces[i] as RecordPiece;
    const fields = parseOne(p);
    if (typeof fields !== 'string') {
      p.fields = fields;
      continue;
    }
    const lines = p.raw.split('\n').length - 1;
    const firstLine = p.line - lines;
    const span = lines === 0 ? `line ${p.line}` : `lines ${firstLine}-${p.line}`;
    pieces[i] = { kind: 'reject', firstLine, line: p.line, reason: `unparsable: ${fields}, ${span}`, raw: p.raw.slice(0, 200) };
  }
}

/**
 * Fills `fields` of every framed record in `pieces` with csv-parse, in one call for the whole batch: a chunk's
 * records cost one parser setup, not one each. If the batch does not parse into exactly one row per record,
 * with the framer's field counts, each record is parsed alone so the fault stays with its own record.
 */
export function parseFields(pieces: Piece[]): void {
  const at: number[] = [];
  let text = '';
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    if (p.kind !== 'record') continue;
    at.push(i);
    text += p.raw + '\n';
  }
  if (at.length === 0) return;
  const rows = parseBatch(text);
  const fits = rows !== undefined && rows.length === at.length && at.every((i, n) => rows[n]!.length === (pieces[i] as RecordPiece).fieldCount);
  if (!fits) return parseEach(pieces, at);
  for (let n = 0; n < at.length; n++) (pieces[at[n]!] as RecordPiece).fields = rows[n]!;
}

function parseBatch(text: string): string[][] | undefined {
  try {
    return parse(text, CSV_OPTIONS) as string[][];
  } catch {
    return undefined;
  }
}
