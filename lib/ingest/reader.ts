import crypto from 'node:crypto';
import fs from 'node:fs';
import { Transform, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { parse } from 'csv-parse';
import { ApplicationFailure } from '@temporalio/common';

/** A parsed record: `line` is the physical line the record ends on (1 = header). */
export interface RawRecord {
  line: number;
  fields: Buffer[];
  /** Set when the parser could not make a record out of these lines (e.g. an unclosed quote at EOF). */
  parseError?: string;
}

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

/**
 * The BOM is removed here rather than by csv-parse: csv-parse switches to string decoding when it sees a
 * BOM, and decoded strings can no longer tell invalid UTF-8 bytes from a genuine U+FFFD.
 */
function stripBom(): Transform {
  let first = true;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (first) {
        first = false;
        if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
          cb(null, chunk.subarray(3));
          return;
        }
      }
      cb(null, chunk);
    },
  });
}

/**
 * Streams a CSV (optionally gzipped) record by record with bounded memory: fields stay raw bytes so the
 * caller can validate the encoding. Tolerates BOM, CRLF or LF, quoted fields with separators, quotes and
 * newlines, blank lines and a missing final newline; an unparsable tail is reported, not thrown.
 */
export async function* readCsvRecords(file: string): AsyncGenerator<RawRecord> {
  const source = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  // The typings omit `encoding: null` (documented: fields come back as Buffers).
  const parser = parse({
    encoding: null as unknown as undefined,
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    record_delimiter: ['\r\n', '\n'],
    info: true,
  });
  const skipped: RawRecord[] = [];
  parser.on('skip', (err: Error & { lines?: number }) => {
    skipped.push({ line: err.lines ?? 0, fields: [], parseError: err.message });
  });
  let streamError: Error | undefined;
  const stages: NodeJS.ReadWriteStream[] = [];
  if (/\.gz$/i.test(file)) stages.push(zlib.createGunzip());
  stages.push(stripBom());
  const connect = pipeline as unknown as (streams: unknown[], cb: (err: Error | null) => void) => void;
  connect([source, ...stages, parser], (err) => {
    if (err) streamError = err;
  });
  try {
    for await (const item of parser as AsyncIterable<{ record: Buffer[]; info: { lines: number } }>) {
      while (skipped.length) yield skipped.shift()!;
      yield { line: item.info.lines, fields: item.record };
    }
  } catch (err) {
    const e = (streamError ?? err) as NodeJS.ErrnoException;
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' || e.code === 'EACCES' || e.code === 'EISDIR') {
      throw ApplicationFailure.nonRetryable(`tracking file unreadable: ${file}: ${e.message}`, 'FileUnreadable');
    }
    throw e;
  } finally {
    source.destroy();
  }
  while (skipped.length) yield skipped.shift()!;
  if (streamError) throw streamError;
}
