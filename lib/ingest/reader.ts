import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { CsvBytesParser, type CsvRecord } from './csv';
import { ApplicationFailure } from '@temporalio/common';

/** A parsed record: `line` is the physical line the record ends on (1 = header). */
export interface RawRecord {
  line: number;
  fields: Buffer[];
  raw?: Buffer;
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

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Streams a CSV (optionally gzipped) record by record with bounded memory: fields stay raw bytes so the
 * caller can validate the encoding. Tolerates BOM, CRLF or LF, quoted fields with separators, quotes and
 * newlines, blank lines and a missing final newline; an unparsable tail is reported, not thrown.
 */
export async function* readCsvRecords(file: string): AsyncGenerator<RawRecord> {
  const source = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const input: AsyncIterable<Buffer> = /\.gz$/i.test(file) ? source.pipe(zlib.createGunzip()) : source;
  if (input !== source) source.on('error', (err) => (input as zlib.Gunzip).destroy(err));
  const parser = new CsvBytesParser();
  const out: CsvRecord[] = [];
  let first = true;
  try {
    for await (let chunk of input) {
      if (first) {
        first = false;
        if (chunk.length >= 3 && chunk.subarray(0, 3).equals(BOM)) chunk = chunk.subarray(3);
      }
      parser.push(chunk, out);
      for (const rec of out) yield rec;
      out.length = 0;
    }
    parser.end(out);
    for (const rec of out) yield rec;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' || e.code === 'EACCES' || e.code === 'EISDIR') {
      throw ApplicationFailure.nonRetryable(`tracking file unreadable: ${file}: ${e.message}`, 'FileUnreadable');
    }
    throw e;
  } finally {
    source.destroy();
  }
}
