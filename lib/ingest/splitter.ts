/**
 * A byte-level CSV record framer with bounded memory: it finds where each record ends and counts its bytes and
 * fields, and builds no field. csv-parse then parses the fields of the records it accepts (fields.ts), so the
 * parser only ever sees well-formed records under the limits. Text is latin1-decoded (one char per byte), so
 * every length here is a byte count. A record is cut at an LF or CRLF outside quotes; a quote opens a quoted
 * field only at the field's start; `""` is a quote inside one.
 */

export interface SplitLimits {
  maxRecordBytes: number;
  maxRecordFields: number;
}

export type Piece =
  /** `fields` is empty until fields.ts parses `raw`; `fieldCount` is the framer's count. */
  | { kind: 'record'; line: number; fieldCount: number; fields: string[]; raw: string }
  /** `reason` starts with its kind: record_too_large or unparsable. */
  | { kind: 'reject'; firstLine: number; line: number; reason: string; raw: string };

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const RAW_SHOWN = 200;

interface Parsed {
  fieldCount: number;
  /** Index just past the record's terminator. */
  next: number;
  /** Index of the terminator (or of the end of text at EOF). */
  bodyEnd: number;
  badQuote: boolean;
  tooManyFields: boolean;
}

/** Position of the next comma or LF at or after `i`, or -1. */
function nextDelimiter(s: string, i: number): number {
  for (let n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === COMMA || c === LF) return i;
  }
  return -1;
}

/**
 * Parses one record starting at `pos`. Returns 'more' when the text ends inside the record (and `final` is
 * false), 'open' when it ends inside a quote at EOF.
 */
function parseAt(s: string, pos: number, final: boolean, maxFields: number): Parsed | 'more' | 'open' {
  let count = 0;
  let badQuote = false;
  let i = pos;
  for (;;) {
    let at: number; // index of the char after the field
    if (s.charCodeAt(i) === QUOTE) {
      let j = i + 1;
      let k: number;
      for (;;) {
        k = s.indexOf('"', j);
        if (k === -1) return final ? 'open' : 'more';
        if (k + 1 === s.length && !final) return 'more';
        if (s.charCodeAt(k + 1) !== QUOTE) break;
        j = k + 2;
      }
      at = k + 1;
      const c = s.charCodeAt(at);
      if (at < s.length && c !== COMMA && c !== LF && !(c === CR && s.charCodeAt(at + 1) === LF)) {
        if (c === CR && at + 1 === s.length && !final) return 'more';
        // A closing quote followed by data: the record is malformed; its end is the next delimiter.
        badQuote = true;
        const d = nextDelimiter(s, at);
        if (d === -1 && !final) return 'more';
        at = d === -1 ? s.length : d;
      }
    } else {
      const d = nextDelimiter(s, i);
      if (d === -1 && !final) return 'more';
      at = d === -1 ? s.length : d;
    }
    count++;
    const c = s.charCodeAt(at);
    if (c === COMMA) {
      i = at + 1;
      continue;
    }
    // LF, CR LF or end of text.
    let bodyEnd = at;
    if (at < s.length && at > pos && s.charCodeAt(at - 1) === CR) {
      bodyEnd = at - 1;
    } else if (c === CR) {
      bodyEnd = at;
      at += 1;
    }
    return { fieldCount: count, next: at < s.length ? at + 1 : at, bodyEnd, badQuote, tooManyFields: count > maxFields };
  }
}

function countLf(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i !== -1 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Quote state of a record being skipped because it is over the byte limit. */
interface Skip {
  firstLine: number;
  bytes: number;
  inQuote: boolean;
  fieldStart: boolean;
  /** A quote was the last char seen inside a quoted field: the next char decides escape or close. */
  quotePending: boolean;
  /** The text resumes at a line start inside the quote that has not been tried as a resync point yet. */
  checkAtStart: boolean;
  /** The last char seen outside quotes was a CR: a CR LF terminator is not part of the record. */
  prevCr: boolean;
  head: string;
}

export class RecordSplitter {
  private carry = '';
  /** Physical line of the carry's first char. */
  private line = 1;
  private skip: Skip | undefined;
  /** Field count of a well-formed record: the header's (the first record). Resynchronising looks for it. */
  expectedFields: number | undefined;

  constructor(private readonly limits: SplitLimits) {}

  push(chunk: string, out: Piece[]): void {
    let s = this.carry.length ? this.carry + chunk : chunk;
    this.carry = '';
    if (this.skip) {
      const resumeAt = this.skipThrough(s, out, false);
      if (resumeAt === -1) return;
      s = s.slice(resumeAt);
    }
    this.split(s, out, false);
  }

  end(out: Piece[]): void {
    let s = this.carry;
    this.carry = '';
    if (this.skip) {
      const resumeAt = this.skipThrough(s, out, true);
      if (resumeAt === -1) return;
      s = s.slice(resumeAt);
    }
    this.split(s, out, true);
  }

  private reject(out: Piece[], firstLine: number, line: number, reason: string, raw: string): void {
    const span = firstLine === line ? `line ${line}` : `lines ${firstLine}-${line}`;
    out.push({ kind: 'reject', firstLine, line, reason: `${reason}, ${span}`, raw: raw.slice(0, RAW_SHOWN) });
  }

  private split(s: string, out: Piece[], final: boolean): void {
    const { maxRecordBytes, maxRecordFields } = this.limits;
    let pos = 0;
    while (pos < s.length) {
      const r = parseAt(s, pos, final, maxRecordFields);
      if (r === 'more') {
        if (s.length - pos > maxRecordBytes) return this.startSkip(s, pos, out, final);
        this.carry = s.slice(pos);
        return;
      }
      if (r === 'open') {
        pos = this.openAtEof(s, pos, out);
        continue;
      }
      const first = this.line;
      const lines = countLf(s, pos, r.next);
      const endLine = first + countLf(s, pos, r.bodyEnd);
      this.line += lines;
      const bytes = r.bodyEnd - pos;
      if (bytes > maxRecordBytes || r.tooManyFields) {
        // Bytes first: a record over the byte limit that arrives across a read boundary is skipped before its
        // fields are counted, so the reason must not depend on where the chunks were cut.
        const what = bytes > maxRecordBytes ? `${bytes} bytes, over the ${maxRecordBytes}-byte limit` : `more than ${maxRecordFields} fields`;
        this.reject(out, first, endLine, `record_too_large: ${what}`, s.slice(pos, Math.min(r.bodyEnd, pos + RAW_SHOWN)));
      } else if (r.badQuote) {
        this.reject(out, first, endLine, 'unparsable: a closing quote is followed by data', s.slice(pos, r.bodyEnd));
      } else if (bytes > 0) {
        this.expectedFields ??= r.fieldCount;
        out.push({ kind: 'record', line: endLine, fieldCount: r.fieldCount, fields: [], raw: s.slice(pos, r.bodyEnd) });
      }
      pos = r.next;
    }
  }

  /**
   * A quote still open at EOF. The record is under the byte limit, so all of it is here: the span up to the
   * next line that starts a well-formed record is unparsable, and reading resumes there. Returns that position.
   */
  private openAtEof(s: string, pos: number, out: Piece[]): number {
    const first = this.line;
    for (let nl = s.indexOf('\n', pos); nl !== -1; nl = s.indexOf('\n', nl + 1)) {
      if (this.wellFormedAt(s, nl + 1, true)) {
        const last = first + countLf(s, pos, nl);
        this.reject(out, first, last, 'unparsable: quote not closed', s.slice(pos, nl));
        this.line = last + 1;
        return nl + 1;
      }
    }
    const last = first + countLf(s, pos, s.length);
    this.reject(out, first, last, 'unparsable: quote not closed at end of file', s.slice(pos));
    this.line = last;
    return s.length;
  }

  private wellFormedAt(s: string, at: number, final: boolean): boolean | 'more' {
    if (this.expectedFields === undefined || at >= s.length) return false;
    const r = parseAt(s, at, final, this.limits.maxRecordFields);
    if (r === 'more') return s.length - at > this.limits.maxRecordBytes ? false : 'more';
    if (r === 'open') return false;
    return !r.badQuote && !r.tooManyFields && r.fieldCount === this.expectedFields && r.bodyEnd - at <= this.limits.maxRecordBytes;
  }

  private startSkip(s: string, pos: number, out: Piece[], final: boolean): void {
    this.skip = { firstLine: this.line, bytes: 0, inQuote: false, fieldStart: true, quotePending: false, checkAtStart: false, prevCr: false, head: s.slice(pos, pos + RAW_SHOWN) };
    const resumeAt = this.skipThrough(s.slice(pos), out, final);
    if (resumeAt === -1) return;
    this.split(s.slice(pos).slice(resumeAt), out, final);
  }

  /**
   * Scans an oversized record without keeping it. It ends at an LF outside quotes (record_too_large), or,
   * inside a quote, just before the first line that starts a well-formed record (unparsable span). Returns
   * where reading resumes in `s`, or -1 when `s` is used up (the state carries to the next chunk).
   */
  private skipThrough(s: string, out: Piece[], final: boolean): number {
    const k = this.skip!;
    if (k.checkAtStart) {
      k.checkAtStart = false;
      const wf = this.wellFormedAt(s, 0, final);
      if (wf === 'more') {
        k.checkAtStart = true;
        this.carry = s;
        return -1;
      }
      if (wf) {
        this.endSkip(out, this.line - 1, `unparsable: quote still open after ${k.bytes} bytes`);
        return 0;
      }
    }
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (k.quotePending) {
        k.quotePending = false;
        if (c === QUOTE) continue;
        k.inQuote = false;
      }
      if (k.inQuote) {
        if (c === QUOTE) k.quotePending = true;
        else if (c === LF) {
          this.line++;
          const wf = this.wellFormedAt(s, i + 1, final);
          if (wf === 'more') {
            this.carry = s.slice(i + 1);
            k.bytes += i + 1;
            k.checkAtStart = true;
            return -1;
          }
          if (wf) {
            this.endSkip(out, this.line - 1, `unparsable: quote still open after ${k.bytes + i + 1} bytes`);
            return i + 1;
          }
        }
        continue;
      }
      const prevCr = k.prevCr;
      k.prevCr = c === CR;
      if (c === QUOTE && k.fieldStart) {
        k.inQuote = true;
        k.fieldStart = false;
      } else if (c === COMMA) k.fieldStart = true;
      else if (c === LF) {
        const bytes = k.bytes + i - (prevCr ? 1 : 0);
        this.endSkip(out, this.line, `record_too_large: ${bytes} bytes, over the ${this.limits.maxRecordBytes}-byte limit`);
        this.line++;
        return i + 1;
      } else k.fieldStart = false;
    }
    k.bytes += s.length;
    if (final) {
      const why = k.inQuote ? 'unparsable: quote not closed at end of file' : `record_too_large: ${k.bytes} bytes, over the ${this.limits.maxRecordBytes}-byte limit`;
      this.endSkip(out, this.line, why);
      return s.length;
    }
    return -1;
  }

  private endSkip(out: Piece[], line: number, reason: string): void {
    const k = this.skip!;
    this.skip = undefined;
    this.reject(out, k.firstLine, line, reason, k.head);
  }
}
