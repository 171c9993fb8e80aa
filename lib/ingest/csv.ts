/**
 * A byte-level RFC 4180 reader for the tracking export's hot path. csv-parse with the options this input
 * needs (raw bytes, relaxed quotes and column counts, line info) measured 15-27k rows/s on the 2-core
 * target, which left no CPU for Cassandra; this reader slices fields out of the read buffer with indexOf
 * and plain byte loops instead. csv-parse still reads the small job export.
 *
 * Accepted: LF or CRLF (also mixed), quoted fields holding separators, doubled quotes and line breaks,
 * blank lines, a missing final newline, a stray quote inside an unquoted field (kept literally).
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** A record that has not ended within this many bytes is reported as unparsable (an unclosed quote). */
export const MAX_RECORD_BYTES = 1 << 20;

export interface CsvRecord {
  /** Physical line the record ends on, 1-based. */
  line: number;
  fields: Buffer[];
  /** The record's bytes without its line terminator. */
  raw: Buffer;
  parseError?: string;
}

function countLf(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let i = buf.indexOf(LF, start);
  while (i !== -1 && i < end) {
    n++;
    i = buf.indexOf(LF, i + 1);
  }
  return n;
}

function unescapeQuotes(field: Buffer): Buffer {
  const out = Buffer.allocUnsafe(field.length);
  let o = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    out[o++] = c;
    if (c === QUOTE && field[i + 1] === QUOTE) i++;
  }
  return out.subarray(0, o);
}

/** Incremental parser: feed chunks, collect complete records; `end()` flushes the last one. */
export class CsvBytesParser {
  private pending: Buffer = Buffer.alloc(0);
  private line = 0;

  push(chunk: Buffer, out: CsvRecord[]): void {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const consumed = this.parse(buf, false, out);
    this.pending = consumed < buf.length ? Buffer.from(buf.subarray(consumed)) : Buffer.alloc(0);
  }

  end(out: CsvRecord[]): void {
    if (this.pending.length) this.parse(this.pending, true, out);
    this.pending = Buffer.alloc(0);
  }

  /** Returns how many bytes were consumed by complete records. */
  private parse(buf: Buffer, eof: boolean, out: CsvRecord[]): number {
    const len = buf.length;
    let start = 0;
    while (start < len) {
      const res = this.record(buf, start, eof);
      if (res === undefined) {
        if (len - start > MAX_RECORD_BYTES) {
          // Give up on this record: resynchronise on the line after its first line break.
          const nl = buf.indexOf(LF, start);
          const stop = nl === -1 ? len : nl + 1;
          this.line++;
          out.push({
            line: this.line,
            fields: [],
            raw: buf.subarray(start, Math.min(stop, start + 200)),
            parseError: `record longer than ${MAX_RECORD_BYTES} bytes (unclosed quote?)`,
          });
          start = stop;
          continue;
        }
        return start;
      }
      const { next, fields, lines, rawEnd, error } = res;
      this.line += lines;
      const raw = buf.subarray(start, rawEnd);
      const blank = fields.length === 1 && fields[0]!.length === 0 && rawEnd - start === 0;
      if (!blank) out.push(error ? { line: this.line, fields: [], raw, parseError: error } : { line: this.line, fields, raw });
      start = next;
    }
    return start;
  }

  /** Parses one record at `start`; undefined when it is not complete in `buf` (and not at EOF). */
  private record(
    buf: Buffer,
    start: number,
    eof: boolean,
  ): { next: number; fields: Buffer[]; lines: number; rawEnd: number; error?: string } | undefined {
    const len = buf.length;
    const fields: Buffer[] = [];
    let p = start;
    let lines = 1;
    for (;;) {
      if (p < len && buf[p] === QUOTE) {
        let q = p + 1;
        let escaped = false;
        for (;;) {
          const at = buf.indexOf(QUOTE, q);
          if (at === -1) {
            if (!eof) return undefined;
            return { next: len, fields, lines: lines + countLf(buf, p, len), rawEnd: len, error: 'quote not closed at end of file' };
          }
          if (at + 1 >= len && !eof) return undefined;
          if (buf[at + 1] === QUOTE) {
            escaped = true;
            q = at + 2;
            continue;
          }
          q = at;
          break;
        }
        let field = buf.subarray(p + 1, q);
        lines += countLf(buf, p + 1, q);
        let i = q + 1;
        if (i < len && buf[i] !== COMMA && buf[i] !== LF && !(buf[i] === CR && buf[i + 1] === LF)) {
          // Text after a closing quote: keep it, as csv-parse's relax_quotes would.
          let j = i;
          while (j < len && buf[j] !== COMMA && buf[j] !== LF) j++;
          if (j === len && !eof) return undefined;
          const tailEnd = j > i && buf[j - 1] === CR && buf[j] === LF ? j - 1 : j;
          field = Buffer.concat([field, buf.subarray(i, tailEnd)]);
          i = j;
        }
        fields.push(escaped ? unescapeQuotes(field) : field);
        if (i >= len) {
          if (!eof) return undefined;
          return { next: len, fields, lines, rawEnd: len };
        }
        if (buf[i] === COMMA) {
          p = i + 1;
          continue;
        }
        if (buf[i] === CR) i++;
        return { next: i + 1, fields, lines, rawEnd: buf[i - 1] === CR ? i - 1 : i };
      }
      let i = p;
      while (i < len) {
        const c = buf[i]!;
        if (c === COMMA || c === LF) break;
        i++;
      }
      if (i >= len) {
        if (!eof) return undefined;
        const end = len > p && buf[len - 1] === CR ? len - 1 : len;
        fields.push(buf.subarray(p, end));
        return { next: len, fields, lines, rawEnd: end };
      }
      if (buf[i] === COMMA) {
        fields.push(buf.subarray(p, i));
        p = i + 1;
        continue;
      }
      const end = i > p && buf[i - 1] === CR ? i - 1 : i;
      fields.push(buf.subarray(p, end));
      return { next: i + 1, fields, lines, rawEnd: end };
    }
  }
}
