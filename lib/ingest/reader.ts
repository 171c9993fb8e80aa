import crypto from 'node:crypto';
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { Parser, type CsvError } from 'csv-parse';
import { ApplicationFailure } from '@temporalio/common';

/** A parsed record: `line` is the physical line the record ends on (1 = header). */
export interface RawRecord {
  line: number;
  /** Decoded as UTF-8; an invalid byte sequence becomes U+FFFD here and is reported in `invalidUtf8Column`. */
  fields: string[];
  /** The record's text without its line terminator, for the quarantine. */
  raw: string;
  /** First column holding bytes that are not valid UTF-8. */
  invalidUtf8Column?: number;
  /** Set when the parser could not make a record out of these lines (e.g. an unclosed quote at EOF). */
  parseError?: string;
}

/** A record still open after this many bytes is an unclosed quote: the file fails rather than buffering the rest of it. */
export const MAX_RECORD_BYTES = 1 << 20;

export async function statOrFail(file: string): Promise<fs.Stats> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw ApplicationFailure.nonRetryable(`tracking file not found: ${file}`, 'FileNotFound');
    }
    throw ApplicationFailure.nonRetryable(`tracking file unreadable: ${file}: ${(err as Error).message}`, 'FileUnreadable');
  }
  if (!st.isFile()) throw ApplicationFailure.nonRetryable(`tracking file is not a regular file: ${file}`, 'FileUnreadable');
  try {
    await fs.promises.access(file, fs.constants.R_OK);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`tracking file unreadable: ${file}: ${(err as Error).message}`, 'FileUnreadable');
  }
  return st;
}

/** sha256 of the file's bytes (compressed bytes for .gz: the file as delivered is what is deduplicated). */
export async function hashFile(file: string, onProgress?: () => void): Promise<{ hash: string; size: number }> {
  const h = crypto.createHash('sha256');
  let size = 0;
  let sinceTick = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    h.update(buf);
    size += buf.length;
    sinceTick += buf.length;
    if (onProgress && sinceTick > 256 << 20) {
      sinceTick = 0;
      onProgress();
    }
  }
  return { hash: h.digest('hex'), size };
}

export function batchIdFor(contentHash: string): string {
  return `b${contentHash.slice(0, 20)}`;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * csv-parse's own `bom` option re-decodes the rest of the file as UTF-8 once it sees a BOM, which would undo
 * the latin1 decoding below; the BOM is dropped from the byte stream instead.
 */
async function* stripBom(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const chunk of source) {
    if (head === undefined) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < BOM.length && BOM.subarray(0, head.length).equals(head)) continue;
    yield head.subarray(0, BOM.length).equals(BOM) ? head.subarray(BOM.length) : head;
    head = undefined;
  }
  if (head?.length) yield head;
}

/**
 * Options chosen for speed and for exact bytes. latin1 maps every byte to one char, so fields are exact copies
 * of the file's bytes: pure-ASCII records (nearly all) are used as they are, the others re-encoded and checked
 * as UTF-8. `encoding: null` would give buffers directly but parses at half the speed, and csv-parse 5.6 throws
 * (ERR_UNKNOWN_ENCODING, inside CsvError) on any relaxed column count once `raw` is on. `raw` gives the
 * quarantine text and, by its line breaks, the physical line numbers; `info` is not used: its `lines` counts
 * a CRLF inside a quoted field twice, and building it per record costs more than `raw`.
 */
const PARSE_OPTIONS = {
  encoding: 'latin1',
  raw: true,
  bom: false,
  record_delimiter: ['\r\n', '\n'],
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: false,
  skip_records_with_error: true,
  max_record_size: MAX_RECORD_BYTES,
} as const;

const NON_ASCII = /[\x80-\xff]/;

/** Turns latin1-decoded fields back into UTF-8 text; invalid UTF-8 is detected on the bytes, before any replacement. */
function toUtf8(fields: string[], raw: string): { raw: string; invalidUtf8Column?: number } {
  if (!NON_ASCII.test(raw)) return { raw };
  let invalid: number | undefined;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (!NON_ASCII.test(f)) continue;
    const bytes = Buffer.from(f, 'latin1');
    if (invalid === undefined && !isUtf8(bytes)) invalid = i;
    fields[i] = bytes.toString('utf8');
  }
  const text = Buffer.from(raw, 'latin1').toString('utf8');
  return invalid === undefined ? { raw: text } : { raw: text, invalidUtf8Column: invalid };
}

/** Line feeds in `raw` before `end`. */
function countLf(raw: string, end: number): number {
  let n = 0;
  for (let i = raw.indexOf('\n'); i !== -1 && i < end; i = raw.indexOf('\n', i + 1)) n++;
  return n;
}

interface Skipped {
  /** Records emitted before the failing one. */
  after: number;
  err: CsvError;
  raw: string;
}

/**
 * Streams a CSV (optionally gzipped) record by record through csv-parse with bounded memory. Tolerates BOM,
 * CRLF or LF, quoted fields with separators, quotes and newlines, blank lines and a missing final newline;
 * an unparsable tail is reported as a record with `parseError`, not thrown.
 */
export async function* readCsvRecords(file: string): AsyncGenerator<RawRecord> {
  const skipped: Skipped[] = [];
  let fatal: Error | undefined;
  const parser = new Parser({ ...PARSE_OPTIONS, record_delimiter: [...PARSE_OPTIONS.record_delimiter] });
  // Emitted synchronously while parsing, so `info.records` places the failed record among the emitted ones.
  parser.on('skip', (err: CsvError | undefined, raw: unknown) => {
    if (!err) return;
    if (err.code === 'CSV_MAX_RECORD_SIZE') {
      fatal = ApplicationFailure.nonRetryable(
        `tracking file unparsable: ${file}: a record is still open after ${MAX_RECORD_BYTES} bytes (unclosed quote?) ` +
          `at line ${String(err['lines'])}`,
        'FileUnparsable',
      );
      parser.destroy(fatal);
      return;
    }
    skipped.push({ after: parser.info.records, err, raw: typeof raw === 'string' ? raw : '' });
  });
  const source = fs.createReadStream(file, { highWaterMark: 256 << 10 });
  // Errors reach the loop below through the parser, which pipeline destroys with them.
  const done = (): void => undefined;
  if (/\.gz$/i.test(file)) pipeline(source, zlib.createGunzip(), stripBom, parser, done);
  else pipeline(source, stripBom, parser, done);

  let nextLine = 1;
  let emitted = 0;
  const fromSkip = (s: Skipped): RawRecord => {
    const line = nextLine + countLf(s.raw, s.raw.length);
    nextLine = line + 1;
    const reason = s.err.code === 'CSV_QUOTE_NOT_CLOSED' ? 'quote not closed at end of file' : s.err.message;
    return { line, fields: [], raw: Buffer.from(s.raw.slice(0, 200), 'latin1').toString('utf8'), parseError: reason };
  };
  try {
    for await (const chunk of parser) {
      while (skipped.length && skipped[0]!.after <= emitted) yield fromSkip(skipped.shift()!);
      emitted++;
      const { record, raw } = chunk as { record: string[]; raw: string };
      // raw holds the record and the first byte of its terminator (none at EOF without a final newline).
      const last = raw.charCodeAt(raw.length - 1);
      const body = last === 0x0a || last === 0x0d ? raw.length - 1 : raw.length;
      const line = nextLine + countLf(raw, body);
      nextLine = line + 1;
      if (body === 0 && record.length === 1) continue;
      const text = body === raw.length ? raw : raw.slice(0, body);
      const dec = toUtf8(record, text);
      yield dec.invalidUtf8Column === undefined
        ? { line, fields: record, raw: dec.raw }
        : { line, fields: record, raw: dec.raw, invalidUtf8Column: dec.invalidUtf8Column };
    }
    if (fatal) throw fatal;
    while (skipped.length) yield fromSkip(skipped.shift()!);
  } catch (err) {
    if (err === fatal) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' || e.code === 'EACCES' || e.code === 'EISDIR') {
      throw ApplicationFailure.nonRetryable(`tracking file unreadable: ${file}: ${e.message}`, 'FileUnreadable');
    }
    throw e;
  } finally {
    parser.destroy();
    source.destroy();
  }
}
