import crypto from 'node:crypto';
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { parseFields } from './fields';
import { FileChanged, FileNotFound, FileTooLarge, FileUnreadable, TrackflowError } from '../domain/errors';
import { RecordSplitter, type Piece, type SplitLimits } from './splitter';

/** A parsed record: `line` is the physical line the record ends on (1 = header). */
export interface RawRecord {
  line: number;
  /** Decoded as UTF-8; an invalid byte sequence becomes U+FFFD here and is reported in `invalidUtf8Column`. */
  fields: string[];
  /** The record's text without its line terminator, for the quarantine. */
  raw: string;
  /** First column holding bytes that are not valid UTF-8. */
  invalidUtf8Column?: number;
  /**
   * Set when these lines are no record: the reason, starting with its kind (record_too_large or unparsable)
   * and ending with the line span, e.g. `unparsable: quote not closed, lines 5-9`.
   */
  parseError?: string;
}

/** Default size limit of one record; a larger one is quarantined as record_too_large without being buffered. */
export const MAX_RECORD_BYTES = 1 << 20;

export async function statOrFail(file: string): Promise<fs.Stats> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new FileNotFound(`tracking file not found: ${file}`);
    }
    throw new FileUnreadable(`tracking file unreadable: ${file}: ${(err as Error).message}`);
  }
  if (!st.isFile()) throw new FileUnreadable(`tracking file is not a regular file: ${file}`);
  try {
    await fs.promises.access(file, fs.constants.R_OK);
  } catch (err) {
    throw new FileUnreadable(`tracking file unreadable: ${file}: ${(err as Error).message}`);
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

/** Limits of one file's read; each is configurable (lib/config.ts, `ingest`). */
export interface ReadLimits extends SplitLimits {
  /** Bytes after decompression: a small .gz must not expand without bound. */
  maxDecompressedBytes: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  maxRecordBytes: MAX_RECORD_BYTES,
  maxRecordFields: 1000,
  maxDecompressedBytes: 64 * 1024 ** 3,
};

export interface ReadOptions {
  limits?: ReadLimits;
  /**
   * The file as hashed: only its first `size` bytes are read, and their sha256 must be `hash`. Rows appended
   * meanwhile belong to the next version of the file, and an unterminated last record of a file that grew is
   * a reject (the writer was still on that line), not a row.
   */
  snapshot?: { size: number; hash: string };
}

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

function toRawRecord(p: Piece): RawRecord {
  if (p.kind === 'reject') {
    return { line: p.line, fields: [], raw: Buffer.from(p.raw, 'latin1').toString('utf8'), parseError: p.reason };
  }
  const dec = toUtf8(p.fields, p.raw);
  return dec.invalidUtf8Column === undefined
    ? { line: p.line, fields: p.fields, raw: dec.raw }
    : { line: p.line, fields: p.fields, raw: dec.raw, invalidUtf8Column: dec.invalidUtf8Column };
}

function unreadable(file: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' || e.code === 'EACCES' || e.code === 'EISDIR' || e.code === 'EIO') {
    return new FileUnreadable(`tracking file unreadable: ${file}: ${e.message}`);
  }
  return e;
}

/** The file's bytes (gunzipped for .gz) with the BOM dropped; the raw bytes are hashed on the way. */
async function* decodedBytes(file: string, hash: crypto.Hash, limits: ReadLimits, size?: number): AsyncGenerator<Buffer> {
  const source = fs.createReadStream(file, { highWaterMark: 64 << 10, ...(size === undefined ? {} : { end: Math.max(0, size - 1) }) });
  const hashed = async function* (): AsyncGenerator<Buffer> {
    if (size === 0) return;
    for await (const chunk of source) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  };
  const gz = /\.gz$/i.test(file);
  let total = 0;
  let head = true;
  try {
    const stream = gz ? Readable.from(hashed()).pipe(zlib.createGunzip({ chunkSize: 64 << 10 })) : hashed();
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limits.maxDecompressedBytes) {
        throw new FileTooLarge(
          `tracking file too large: ${file}: more than ${limits.maxDecompressedBytes} bytes${gz ? ' after decompression' : ''}`,
        );
      }
      if (head && chunk.length >= BOM.length) {
        head = false;
        yield chunk.subarray(0, 3).equals(BOM) ? chunk.subarray(3) : chunk;
      } else if (head) {
        // Too short to tell; a BOM split over chunks is vanishingly rare and would be kept as data.
        head = false;
        yield chunk;
      } else yield chunk;
    }
  } catch (err) {
    if (err instanceof TrackflowError) throw err;
    throw unreadable(file, err);
  } finally {
    source.destroy();
  }
}

/**
 * Streams a CSV (optionally gzipped) record by record with bounded memory: splitter.ts frames each record and
 * checks its size, csv-parse reads its fields (fields.ts). Tolerates BOM, CRLF or
 * LF, quoted fields with separators, quotes and newlines, blank lines and a missing final newline. A record over
 * the byte or field limit, or an unparsable span, comes as a record with `parseError` (its reason) and reading
 * goes on after it.
 */
export async function* readCsvRecords(file: string, opts: ReadOptions = {}): AsyncGenerator<RawRecord> {
  const limits = opts.limits ?? DEFAULT_READ_LIMITS;
  const splitter = new RecordSplitter(limits);
  const hash = crypto.createHash('sha256');
  const pieces: Piece[] = [];
  const drain = function* (): Generator<RawRecord> {
    parseFields(pieces);
    for (const p of pieces) yield toRawRecord(p);
    pieces.length = 0;
  };
  for await (const chunk of decodedBytes(file, hash, limits, opts.snapshot?.size)) {
    splitter.push(chunk.toString('latin1'), pieces);
    yield* drain();
  }
  splitter.end(pieces);
  if (opts.snapshot) {
    if (hash.digest('hex') !== opts.snapshot.hash) {
      throw new FileChanged(`tracking file changed while it was read: ${file}: its first bytes differ from the ones hashed`);
    }
    await markIncompleteTail(file, pieces, opts.snapshot.size);
  }
  yield* drain();
}

/** The last record has no line terminator and the file has grown since it was hashed: the writer was mid-line. */
async function markIncompleteTail(file: string, pieces: Piece[], size: number): Promise<void> {
  const last = pieces[pieces.length - 1];
  if (!last || last.kind !== 'record' || /\.gz$/i.test(file)) return;
  const tail = Buffer.alloc(1);
  const fh = await fs.promises.open(file, 'r');
  try {
    const st = await fh.stat();
    if (st.size <= size || size === 0) return;
    await fh.read(tail, 0, 1, size - 1);
  } finally {
    await fh.close();
  }
  if (tail[0] === 0x0a) return;
  pieces[pieces.length - 1] = {
    kind: 'reject',
    firstLine: last.line,
    line: last.line,
    reason: `unparsable: incomplete last line (the file grew while it was read), line ${last.line}`,
    raw: last.raw.slice(0, 200),
  };
}
