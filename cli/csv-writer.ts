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
    const b = this.buf;
    let p = this.pos;
    for (let k = s; k < e; k++) b[p++] = src[k];
    this.pos = p;
  }

  /** A whole number 0 ≤ n < 2^31 as digits. */
  private digits(n: number): void {
    this.room(10);
    this.pos = putDigits(this.buf, this.pos, n);
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
    this.room(18);
    const b = this.buf;
    let p = this.pos;
    let a = m;
    if (m < 0) {
      b[p++] = 45; // '-'
      a = -m;
    }
    const ip = Math.floor(a / 1e6); // exact: a < 1e15 and its last 6 digits keep a/1e6 off integers
    const fp = a - ip * 1e6;
    p = putDigits(b, p, ip);
    if (fp !== 0) {
      b[p] = 46; // '.'
      const hi = (fp / 10000) | 0;
      const rest = fp - hi * 10000;
      const mid = (rest / 100) | 0;
      const lo = rest - mid * 100;
      const h10 = (hi / 10) | 0;
      const m10 = (mid / 10) | 0;
      const l10 = (lo / 10) | 0;
      b[p + 1] = 48 + h10;
      b[p + 2] = 48 + hi - h10 * 10;
      b[p + 3] = 48 + m10;
      b[p + 4] = 48 + mid - m10 * 10;
      b[p + 5] = 48 + l10;
      b[p + 6] = 48 + lo - l10 * 10;
      p += 7;
      while (b[p - 1] === 48) p--; // trailing zeros (fp ≠ 0, so a non-zero digit stops this)
    }
    this.pos = p;
  }
}

/** Write 0 ≤ n < 2^31 as digits at b[p…]; returns the position after them. */
function putDigits(b: Buffer, p: number, n: number): number {
  const len = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
  let at = p + len;
  do {
    const q = (n / 10) | 0;
    b[--at] = 48 + n - q * 10;
    n = q;
  } while (n > 0);
  return p + len;
}
