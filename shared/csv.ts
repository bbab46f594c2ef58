/**
 * The project's one CSV reader, used by the clm command line (cli/io.ts) and the local
 * importer (local/import/import-csv.ts).
 *
 * Syntax (RFC 4180 plus what spreadsheets write): fields are separated by commas; a record
 * ends at LF, CRLF or a lone CR; a field that starts with a double quote is quoted and may
 * hold commas, line breaks and doubled quotes ("" → "); text after the closing quote is kept
 * as is; a quote inside an unquoted field is an ordinary character. A UTF-8 byte-order mark
 * at the start is ignored. Blank records (a single field that is only white space) are
 * skipped. Every record knows the line on which it starts (1-based). An unterminated quoted
 * field is a CsvSyntaxError.
 *
 * Input is UTF-8 bytes fed in chunks of any size (`push`, then `end`), so a file of any size
 * is read in bounded memory. Records are handed to a callback one at a time through one
 * reused CsvRecord: fields are byte ranges in the parser's buffer, turned into a string only
 * when asked (`text`), parsed as a number straight from the bytes (`number`), or copied as
 * bytes into a TextColumn (`appendTrimmed`). No objects are made per record.
 */

export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError';
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.line = line;
  }
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/** Node's Buffer has latin1Slice (what toString('latin1') calls, without its argument checks). */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

/** Exact powers of ten 10^0 … 10^22 (every one is a double). */
const POW10 = Float64Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** Remove the quotes of a quoted field's raw text (which starts with a quote). */
function unquote(raw: string): string {
  let out = '';
  let quoted = true;
  for (let k = 1; k < raw.length; k++) {
    const ch = raw[k];
    if (quoted && ch === '"') {
      if (raw[k + 1] === '"') {
        out += '"';
        k++;
      } else quoted = false;
    } else out += ch;
  }
  return out;
}

/**
 * Strings stored one after another as UTF-8 bytes (e.g. a million customer ids without a
 * million string objects). `get(i)` makes the string when one is needed.
 */
export class TextColumn {
  bytes: Buffer;
  /** ends[i] = byte offset just past string i; string i starts at ends[i - 1] (0 for i = 0) */
  ends: Int32Array;
  length = 0;
  constructor(rows = 1024, bytes = rows * 16) {
    this.bytes = Buffer.allocUnsafe(Math.max(16, bytes));
    this.ends = new Int32Array(Math.max(16, rows));
  }
  start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1];
  }
  get(i: number): string {
    return this.bytes.toString('utf8', this.start(i), this.ends[i]);
  }
  /** Make room for one more string of up to `n` bytes. */
  reserve(n: number): void {
    if (this.length === this.ends.length) {
      const e = new Int32Array(this.ends.length * 2);
      e.set(this.ends);
      this.ends = e;
    }
    const used = this.start(this.length);
    if (used + n > this.bytes.length) {
      const b = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, used + n));
      this.bytes.copy(b, 0, 0, used);
      this.bytes = b;
    }
  }
  /** Append bytes src[s, e). */
  pushBytes(src: Uint8Array, s: number, e: number): void {
    this.reserve(e - s);
    const at = this.start(this.length);
    const b = this.bytes;
    for (let k = s; k < e; k++) b[at + k - s] = src[k];
    this.ends[this.length++] = at + e - s;
  }
  push(s: string): void {
    this.reserve(Buffer.byteLength(s));
    const at = this.start(this.length);
    this.ends[this.length++] = at + this.bytes.write(s, at, 'utf8');
  }
  static from(strings: readonly string[]): TextColumn {
    const c = new TextColumn(strings.length);
    for (const s of strings) c.push(s);
    return c;
  }
}

/** The record being handed to the callback (reused for every record). */
export class CsvRecord {
  /** line (1-based) on which the record starts */
  line = 0;
  /** number of fields */
  length = 0;
  buf: Buffer = Buffer.alloc(0);
  starts = new Int32Array(16);
  ends = new Int32Array(16);
  /** 1 if the field is quoted (its byte range includes the quotes) */
  quoted = new Uint8Array(16);

  /** Field i as text (quotes removed); '' for a field the record does not have. */
  text(i: number): string {
    if (i >= this.length) return '';
    const raw = this.buf.toString('utf8', this.starts[i], this.ends[i]);
    return this.quoted[i] === 0 ? raw : unquote(raw);
  }

  /** All fields as text. */
  texts(): string[] {
    const out: string[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.text(i);
    return out;
  }

  /**
   * Number(field i with surrounding white space removed); NaN for an empty or missing field.
   * Plain decimals (optional sign, digits, optional fraction, at most 2^53 - 1 as an integer
   * of all their digits) are parsed straight from the bytes: m / 10^k for an integer m < 2^53
   * and k ≤ 22 is one correctly rounded division, so the result is exactly Number's. Anything
   * else (exponents, 17 significant digits, Infinity, hex …) goes through Number.
   */
  number(i: number): number {
    if (i >= this.length) return NaN;
    if (this.quoted[i] === 0) {
      const b = this.buf;
      let s = this.starts[i];
      let e = this.ends[i];
      while (s < e && (b[s] === 32 || b[s] === 9)) s++;
      while (e > s && (b[e - 1] === 32 || b[e - 1] === 9)) e--;
      let k = s;
      let neg = false;
      if (k < e && (b[k] === 45 || b[k] === 43)) neg = b[k++] === 45;
      let m = 0;
      let digits = 0;
      let frac = 0;
      let dot = false;
      for (; k < e; k++) {
        const d = b[k] - 48;
        if (d >= 0 && d <= 9) {
          m = m * 10 + d;
          digits++;
          if (dot) frac++;
        } else if (d === -2 && !dot) dot = true; // '.'
        else break;
      }
      if (k === e && digits > 0 && m <= 9007199254740991 && frac <= 22) {
        const v = frac === 0 ? m : m / POW10[frac];
        return neg ? -v : v;
      }
      // other ASCII text (17 digits, exponents …): no UTF-8 decoding needed
      let high = 0;
      for (k = s; k < e; k++) high |= b[k];
      if (high < 0x80) {
        const t = (b as Latin1Buffer).latin1Slice(s, e).trim();
        return t === '' ? NaN : Number(t);
      }
    }
    const t = this.text(i).trim();
    return t === '' ? NaN : Number(t);
  }

  /**
   * Append field i, white space trimmed as String.prototype.trim does, to a TextColumn and
   * return its length in bytes (0: the field is empty). ASCII fields are copied as bytes;
   * others go through a string, so invalid UTF-8 becomes U+FFFD as in `text`.
   */
  appendTrimmed(i: number, col: TextColumn): number {
    if (i < this.length && this.quoted[i] === 0) {
      const b = this.buf;
      let s = this.starts[i];
      let e = this.ends[i];
      while (s < e && (b[s] === 32 || b[s] === 9 || b[s] === 11 || b[s] === 12)) s++;
      while (e > s && (b[e - 1] === 32 || b[e - 1] === 9 || b[e - 1] === 11 || b[e - 1] === 12)) e--;
      let high = 0;
      for (let k = s; k < e; k++) high |= b[k];
      if (high < 0x80) {
        col.pushBytes(b, s, e);
        return e - s;
      }
    }
    const t = this.text(i).trim();
    col.push(t);
    return t.length;
  }
}

/**
 * Streaming CSV parser: `push` byte chunks, then `end`; `onRecord` is called for every
 * non-blank record, in order, with the same CsvRecord object.
 */
export class CsvParser {
  private buf: Buffer = Buffer.allocUnsafe(1 << 16);
  private pos = 0;
  private len = 0;
  private line = 1;
  private shifted = 0;
  private started = false;
  private readonly rec = new CsvRecord();
  private readonly onRecord: (r: CsvRecord) => void;

  constructor(onRecord: (r: CsvRecord) => void) {
    this.onRecord = onRecord;
  }

  push(chunk: Uint8Array): void {
    if (this.pos > 0) {
      this.shifted += this.pos;
      this.buf.copy(this.buf, 0, this.pos, this.len);
      this.len -= this.pos;
      this.pos = 0;
    }
    if (this.len + chunk.length > this.buf.length) {
      const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + chunk.length));
      this.buf.copy(b, 0, 0, this.len);
      this.buf = b;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    this.scan(false);
  }

  /** Bytes of input taken by the records parsed so far. */
  get consumed(): number {
    return this.shifted + this.pos;
  }

  /** The input is complete: parse the last record (which may lack a line break). */
  end(): void {
    this.scan(true);
  }

  private scan(final: boolean): void {
    const b = this.buf;
    const end = this.len;
    let p = this.pos;
    if (!this.started) {
      if (end - p < 3 && !final) return;
      if (b[p] === 0xef && b[p + 1] === 0xbb && b[p + 2] === 0xbf) p += 3;
      this.started = true;
    }
    const rec = this.rec;
    rec.buf = b;
    for (;;) {
      if (p >= end) break;
      // one record from p; if it is incomplete and more input may come, stop and keep it
      let i = p;
      let nf = 0;
      let fs = i;
      let q = 0;
      let breaks = 0; // line breaks inside quoted fields
      let next = -1; // where the following record starts
      for (;;) {
        if (i >= end) {
          if (!final) break; // incomplete: wait for more input
          // end of input without a line break closes the last field
          if (nf === rec.starts.length) this.growFields();
          rec.starts[nf] = fs;
          rec.ends[nf] = end;
          rec.quoted[nf] = q;
          nf++;
          next = end;
          break;
        }
        const c = b[i];
        if (c > COMMA) {
          // most bytes (digits, letters, '.', '-'): nothing to do
          i++;
          continue;
        }
        if (c === QUOTE && i === fs) {
          q = 1;
          i++;
          for (;;) {
            if (i >= end) {
              if (!final) break;
              throw new CsvSyntaxError(`unterminated quoted field starting on line ${this.line}`, this.line);
            }
            const d = b[i];
            if (d === QUOTE) {
              if (i + 1 >= end && !final) {
                i = end;
                break;
              }
              if (i + 1 < end && b[i + 1] === QUOTE) {
                i += 2;
                continue;
              }
              i++;
              break;
            }
            if (d === LF) breaks++;
            i++;
          }
          if (i >= end && !final) break;
          continue;
        }
        if (c === COMMA || c === LF || c === CR) {
          if (nf === rec.starts.length) this.growFields();
          rec.starts[nf] = fs;
          rec.ends[nf] = i;
          rec.quoted[nf] = q;
          nf++;
          if (c === COMMA) {
            i++;
            fs = i;
            q = 0;
            continue;
          }
          if (c === CR) {
            if (i + 1 >= end && !final) break;
            next = i + 1 < end && b[i + 1] === LF ? i + 2 : i + 1;
          } else next = i + 1;
          break;
        }
        i++;
      }
      if (next < 0) break; // incomplete: wait for more input
      rec.length = nf;
      rec.line = this.line;
      this.line += 1 + breaks;
      p = next;
      this.pos = p;
      if (nf > 1 || rec.text(0).trim() !== '') this.onRecord(rec);
    }
    this.pos = p;
  }

  private growFields(): void {
    const r = this.rec;
    const n = r.starts.length * 2;
    const s = new Int32Array(n);
    s.set(r.starts);
    r.starts = s;
    const e = new Int32Array(n);
    e.set(r.ends);
    r.ends = e;
    const q = new Uint8Array(n);
    q.set(r.quoted);
    r.quoted = q;
  }
}

/** Parse a whole CSV text: every non-blank record with its starting line and its fields. */
export function parseCsv(text: string | Uint8Array): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  const p = new CsvParser((r) => rows.push({ line: r.line, cells: r.texts() }));
  p.push(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  p.end();
  return rows;
}
