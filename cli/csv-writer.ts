/**
 * Buffered CSV output for the clm CLI: fields are written as bytes into one 1 MB buffer that
 * is handed to `sink` when full and then reused, so a million-row file takes about fifty
 * writes, no string per row and no garbage. Numbers are formatted by hand where that is exactly what String() gives.
 */
import type { TextColumn } from '../shared/csv.ts';

export class CsvWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly sink: (chunk: Buffer) => void;

  /** `sink` receives each full chunk and must be done with it when it returns (write it or copy it). */
  constructor(sink: (chunk: Buffer) => void, size = 1 << 20) {
    this.sink = sink;
    this.buf = Buffer.allocUnsafe(size);
  }

  private room(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    }
  }

  flush(): void {
    if (this.pos === 0) return;
    const full = this.buf.subarray(0, this.pos);
    this.pos = 0;
    this.sink(full);
  }

  /** Text as is (UTF-8). */
  raw(s: string): void {
    this.room(Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Bytes as is (e.g. a pre-encoded label). */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }

  /** String i of a TextColumn as one CSV field (quoted if it holds a quote, comma or line break). */
  field(col: TextColumn, i: number): void {
    const src = col.bytes;
    const s = col.start(i);
    const e = col.ends[i];
    let special = false;
    for (let k = s; k < e; k++) {
      const c = src[k];
      if (c === 34 || c === 44 || c === 10 || c === 13) {
        special = true;
        break;
      }
    }
    if (special) {
      this.raw(`"${col.get(i).replace(/"/g, '""')}"`);
      return;
    }
    this.room(e - s);
    src.copy(this.buf, this.pos, s, e);
    this.pos += e - s;
  }

  /** A whole number 0 ≤ n < 2^31 as digits. */
  private digits(n: number): void {
    let len = 1;
    for (let t = n; t >= 10; t = (t / 10) | 0) len++;
    this.room(len);
    const b = this.buf;
    let at = this.pos + len;
    this.pos = at;
    do {
      const q = (n / 10) | 0;
      b[--at] = 48 + n - q * 10;
      n = q;
    } while (n > 0);
  }

  /** A number exactly as String(x) prints it. */
  number(x: number): void {
    if (x >= 0 && x < 2147483648 && Math.floor(x) === x && !Object.is(x, -0)) this.digits(x);
    else this.raw(String(x));
  }

  /**
   * x rounded to 6 decimals, exactly as String(Math.round(x * 1e6) / 1e6) prints it; nothing
   * for a non-finite x. For |y| < 1e9 (y the rounded value) the digits of the integer
   * m = round(x·1e6) with the point 6 places from the right are what String gives: that
   * decimal is the one nearest to y and, as the doubles near y are less than 1e-6 apart, no
   * shorter decimal rounds to y.
   */
  decimal6(x: number): void {
    if (!Number.isFinite(x)) return;
    const m = Math.round(x * 1e6);
    const y = m / 1e6;
    if (!(Math.abs(y) < 1e9)) {
      this.raw(String(y));
      return;
    }
    let a = m;
    if (m < 0) {
      this.byte(45); // '-'
      a = -m;
    }
    const ip = Math.floor(a / 1e6);
    let fp = a - ip * 1e6;
    this.digits(ip);
    if (fp === 0) return;
    let len = 6;
    while (fp % 10 === 0) {
      fp /= 10;
      len--;
    }
    this.room(len + 1);
    const b = this.buf;
    b[this.pos] = 46; // '.'
    let at = this.pos + 1 + len;
    this.pos = at;
    for (let k = 0; k < len; k++) {
      const q = (fp / 10) | 0;
      b[--at] = 48 + fp - q * 10;
      fp = q;
    }
  }
}
