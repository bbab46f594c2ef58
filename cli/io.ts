/** CSV input for the clm CLI: transaction logs and customer summaries. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CsvParser, type CsvRecord, CsvSyntaxError, TextColumn } from '../shared/csv.ts';
import type { Tenure } from '../shared/clv/index.ts';
import { parseDay } from '../shared/clv/summary.ts';
import type { Progress } from './progress.ts';

export class CliError extends Error {
  override name = 'CliError';
}

/**
 * Stream a CSV file through the shared parser (shared/csv.ts) in 1 MB chunks. The first
 * record is the header (trimmed, lower-cased); `onHeader` returns the handler for the
 * records after it. `readFraction()` tells how much of the file has been parsed so far.
 */
function eachRecord(path: string, onHeader: (header: string[], readFraction: () => number) => (r: CsvRecord) => void): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const size = Math.max(1, fstatSync(fd).size);
    const readFraction = () => Math.min(1, parser.consumed / size);
    let row: ((r: CsvRecord) => void) | undefined;
    const parser = new CsvParser((r) => {
      if (row) row(r);
      else row = onHeader(r.texts().map(headerName), readFraction);
    });
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
      }
      if (n === 0) break;
      parser.push(chunk.subarray(0, n));
    }
    parser.end();
    if (!row) throw new CliError(`${path}: empty file (expected a CSV header)`);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** A header field trimmed and lower-cased; quotes after leading spaces (` "T"`) are removed too. */
function headerName(h: string): string {
  const t = h.trim();
  return (t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"').trim() : t).toLowerCase();
}

/** Capacity for a growing column: at least 1.25×, else the row count the file size suggests. */
function grownCapacity(n: number, readFraction: number): number {
  return Math.max(Math.ceil(n * 1.25), Math.ceil((n / Math.max(readFraction, 1e-6)) * 1.02) + 1024);
}

function growF64(a: Float64Array, cap: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(cap);
  b.set(a);
  return b;
}

function column(header: string[], names: string[], path: string, required = true): number {
  for (const n of names) {
    const i = header.indexOf(n.toLowerCase());
    if (i >= 0) return i;
  }
  if (required) throw new CliError(`${path}: missing column ${names[0]} (header: ${header.join(',')})`);
  return -1;
}

export interface BadRows {
  skipped: number;
  first: string[];
}

/** A bad row: fail with its message, or (skipBad) count it and keep the first five messages. */
function badRow(bad: BadRows, skipBad: boolean, msg: string): void {
  if (!skipBad) throw new CliError(`${msg} (use --skip-bad-rows to skip and count bad rows)`);
  bad.skipped++;
  if (bad.first.length < 5) bad.first.push(msg);
}

/**
 * Read a transaction CSV with header customer_id,date,amount (extra columns ignored).
 * A bad row throws CliError with its line number, or is counted when skipBad is set.
 */
export function readTransactions(path: string, skipBad: boolean, progress?: Progress): { customerId: string[]; day: Int32Array; amount: Float64Array; bad: BadRows } {
  const ids: string[] = [];
  let day = new Int32Array(1 << 16);
  let amount = new Float64Array(1 << 16);
  let n = 0;
  const bad: BadRows = { skipped: 0, first: [] };
  // dates repeat a lot: parse each distinct string once
  const dayCache = new Map<string, number>();
  eachRecord(path, (header) => {
    const ci = column(header, ['customer_id'], path);
    const di = column(header, ['date'], path);
    const ai = column(header, ['amount'], path);
    return (rec) => {
      let problem = '';
      const id = rec.text(ci).trim();
      let d = 0;
      const a = rec.number(ai);
      if (id === '') problem = 'customer_id is empty';
      else {
        const ds = rec.text(di);
        const cached = dayCache.get(ds);
        if (cached !== undefined) d = cached;
        else {
          try {
            d = parseDay(ds);
            if (dayCache.size < 100_000) dayCache.set(ds, d);
          } catch (e) {
            problem = (e as Error).message;
          }
        }
      }
      if (!problem) {
        if (!Number.isFinite(a)) problem = `amount "${rec.text(ai)}" is not a number`;
        else if (a < 0) problem = `amount ${a} is negative`;
      }
      if (problem) {
        badRow(bad, skipBad, `${path}:${rec.line}: ${problem}`);
        return;
      }
      if (n === day.length) {
        const d2 = new Int32Array(n * 2);
        d2.set(day);
        day = d2;
        amount = growF64(amount, n * 2);
      }
      ids.push(id);
      day[n] = d;
      amount[n] = a;
      n++;
      if (progress && n % 1_000_000 === 0) progress.note(`read ${n.toLocaleString('en-US')} transactions`);
    };
  });
  return { customerId: ids, day: day.slice(0, n), amount: amount.slice(0, n), bad };
}

export interface SummaryRows {
  /** customer ids as UTF-8 bytes (no string per customer) */
  customerId: TextColumn;
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  monetary: Float64Array | undefined;
  bad: BadRows;
}

/**
 * Read a summary CSV with header customer_id,frequency,recency,T,monetary_value (time in
 * periods). Aliases: id/ID, x, t_x, zbar/monetary. monetary_value may be absent. Streamed:
 * numbers are parsed from the bytes into typed arrays and ids kept as bytes.
 */
export function readSummary(path: string, skipBad: boolean): SummaryRows {
  const ids = new TextColumn(1 << 16);
  let cap = 1 << 16;
  let fr = new Float64Array(cap);
  let rc = new Float64Array(cap);
  let tt = new Float64Array(cap);
  let mv = new Float64Array(cap);
  let n = 0;
  let hasMonetary = false;
  const bad: BadRows = { skipped: 0, first: [] };
  eachRecord(path, (header, readFraction) => {
    const ci = column(header, ['customer_id', 'id'], path);
    const fi = column(header, ['frequency', 'x'], path);
    const ri = column(header, ['recency', 't_x'], path);
    const ti = column(header, ['t'], path);
    const mi = column(header, ['monetary_value', 'monetary', 'zbar'], path, false);
    hasMonetary = mi >= 0;
    return (rec) => {
      const idLength = rec.appendTrimmed(ci, ids);
      const x = rec.number(fi);
      const r = rec.number(ri);
      const T = rec.number(ti);
      const m = mi >= 0 ? rec.number(mi) : 0;
      let problem = '';
      if (idLength === 0) problem = 'customer_id is empty';
      else if (!Number.isFinite(x)) problem = `frequency "${rec.text(fi)}" is not a number`;
      else if (!Number.isFinite(r)) problem = `recency "${rec.text(ri)}" is not a number`;
      else if (!Number.isFinite(T)) problem = `T "${rec.text(ti)}" is not a number`;
      else if (!Number.isFinite(m)) problem = `monetary_value "${rec.text(mi)}" is not a number`;
      else if (x < 0 || !Number.isInteger(x)) problem = `frequency ${x} must be a whole number ≥ 0`;
      else if (r < 0) problem = `recency ${r} is negative`;
      else if (T < 0) problem = `T ${T} is negative`;
      else if (r > T + 1e-9 * Math.max(1, T)) problem = `recency ${r} is greater than T ${T}`;
      else if (x > 0 && r === 0) problem = `frequency ${x} > 0 but recency is 0`;
      else if (x === 0 && r !== 0) problem = `frequency is 0 but recency is ${r}`;
      else if (m < 0) problem = `monetary_value ${m} is negative`;
      else if (mi >= 0 && x > 0 && m === 0) problem = 'monetary_value is 0 for a repeat buyer';
      if (problem) {
        ids.length--; // drop the id just appended
        badRow(bad, skipBad, `${path}:${rec.line}: ${problem}`);
        return;
      }
      if (n === cap) {
        cap = grownCapacity(n, readFraction());
        fr = growF64(fr, cap);
        rc = growF64(rc, cap);
        tt = growF64(tt, cap);
        if (hasMonetary) mv = growF64(mv, cap);
      }
      fr[n] = x;
      rc[n] = Math.min(r, T);
      tt[n] = T;
      if (hasMonetary) mv[n] = m;
      n++;
    };
  });
  return {
    customerId: ids,
    frequency: fr.subarray(0, n),
    recency: rc.subarray(0, n),
    T: tt.subarray(0, n),
    monetary: hasMonetary ? mv.subarray(0, n) : undefined,
    bad,
  };
}

/** Read a tenures CSV with header customer_id,periods,churned (churned: 1/0 or true/false). */
export function readTenures(path: string, skipBad: boolean): { tenures: Tenure[]; bad: BadRows } {
  const tenures: Tenure[] = [];
  const bad: BadRows = { skipped: 0, first: [] };
  eachRecord(path, (header) => {
    const pi = header.indexOf('periods');
    const ci = header.indexOf('churned');
    if (pi < 0 || ci < 0) throw new CliError(`${path}: header must contain periods and churned (got ${header.join(',')})`);
    return (rec) => {
      const p = rec.number(pi);
      const c = rec.text(ci).trim().toLowerCase();
      let problem = '';
      if (!Number.isInteger(p) || p < 0) problem = `periods "${rec.text(pi)}" must be a whole number ≥ 0`;
      else if (!['1', '0', 'true', 'false'].includes(c)) problem = `churned "${rec.text(ci)}" must be 1/0 or true/false`;
      else if ((c === '1' || c === 'true') && p < 1) problem = 'a churned customer needs periods ≥ 1';
      if (problem) {
        badRow(bad, skipBad, `${path}:${rec.line}: ${problem}`);
        return;
      }
      tenures.push({ periods: p, churned: c === '1' || c === 'true' });
    };
  });
  return { tenures, bad };
}

/** Comma-separated numbers, e.g. "1000,631,468". */
export function parseNumberList(s: string, what: string): number[] {
  const parts = s.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const out = parts.map(Number);
  out.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new CliError(`${what}: "${parts[i]}" is not a number`);
  });
  return out;
}
