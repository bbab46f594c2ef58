/** CSV input for the clm CLI: transaction logs and customer summaries. */
import { readFileSync } from 'node:fs';
import { parseDay } from '../shared/clv/summary.ts';
import type { Progress } from './progress.ts';

export class CliError extends Error {
  override name = 'CliError';
}

/** Split one CSV line (RFC 4180 quotes; no embedded newlines). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (q) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else q = false;
      } else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

interface Lines {
  header: string[];
  /** [lineNumber (1-based), text] */
  each(fn: (line: string, lineNo: number) => void): void;
}

function lines(path: string): Lines {
  const text = readText(path).replace(/^\uFEFF/, '');
  let pos = text.indexOf('\n');
  const headerLine = (pos < 0 ? text : text.slice(0, pos)).replace(/\r$/, '');
  if (headerLine.trim() === '') throw new CliError(`${path}: empty file (expected a CSV header)`);
  const header = splitCsvLine(headerLine).map((h) => h.trim().toLowerCase());
  return {
    header,
    each(fn) {
      let lineNo = 1;
      let start = pos < 0 ? text.length : pos + 1;
      while (start < text.length) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        lineNo++;
        let line = text.slice(start, end);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line.trim() !== '') fn(line, lineNo);
        start = end + 1;
      }
      pos = -1;
    },
  };
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

function numberField(s: string | undefined): number {
  if (s === undefined) return NaN;
  const t = s.trim();
  if (t === '') return NaN;
  return Number(t);
}

/**
 * Read a transaction CSV with header customer_id,date,amount (extra columns ignored).
 * A bad row throws CliError with its line number, or is counted when skipBad is set.
 */
export function readTransactions(path: string, skipBad: boolean, progress?: Progress): { customerId: string[]; day: Int32Array; amount: Float64Array; bad: BadRows } {
  const L = lines(path);
  const ci = column(L.header, ['customer_id'], path);
  const di = column(L.header, ['date'], path);
  const ai = column(L.header, ['amount'], path);
  const ids: string[] = [];
  let day = new Int32Array(1 << 16);
  let amount = new Float64Array(1 << 16);
  let n = 0;
  const bad: BadRows = { skipped: 0, first: [] };
  // dates repeat a lot: parse each distinct string once
  const dayCache = new Map<string, number>();
  L.each((line, lineNo) => {
    const f = splitCsvLine(line);
    let problem = '';
    const id = (f[ci] ?? '').trim();
    let d = 0;
    const a = numberField(f[ai]);
    if (id === '') problem = 'customer_id is empty';
    else {
      const ds = f[di] ?? '';
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
      if (!Number.isFinite(a)) problem = `amount "${f[ai] ?? ''}" is not a number`;
      else if (a < 0) problem = `amount ${a} is negative`;
    }
    if (problem) {
      const msg = `${path}:${lineNo}: ${problem}`;
      if (!skipBad) throw new CliError(`${msg} (use --skip-bad-rows to skip and count bad rows)`);
      bad.skipped++;
      if (bad.first.length < 5) bad.first.push(msg);
      return;
    }
    if (n === day.length) {
      const d2 = new Int32Array(n * 2);
      d2.set(day);
      day = d2;
      const a2 = new Float64Array(n * 2);
      a2.set(amount);
      amount = a2;
    }
    ids.push(id);
    day[n] = d;
    amount[n] = a;
    n++;
    if (progress && n % 1_000_000 === 0) progress.note(`read ${n.toLocaleString('en-US')} transactions`);
  });
  return { customerId: ids, day: day.slice(0, n), amount: amount.slice(0, n), bad };
}

export interface SummaryRows {
  customerId: string[];
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  monetary: Float64Array | undefined;
  bad: BadRows;
}

/**
 * Read a summary CSV with header customer_id,frequency,recency,T,monetary_value (time in
 * periods). Aliases: id/ID, x, t_x, zbar/monetary. monetary_value may be absent.
 */
export function readSummary(path: string, skipBad: boolean): SummaryRows {
  const L = lines(path);
  const ci = column(L.header, ['customer_id', 'id'], path);
  const fi = column(L.header, ['frequency', 'x'], path);
  const ri = column(L.header, ['recency', 't_x'], path);
  const ti = column(L.header, ['t'], path);
  const mi = column(L.header, ['monetary_value', 'monetary', 'zbar'], path, false);
  const ids: string[] = [];
  const fr: number[] = [];
  const rc: number[] = [];
  const tt: number[] = [];
  const mv: number[] = [];
  const bad: BadRows = { skipped: 0, first: [] };
  L.each((line, lineNo) => {
    const f = splitCsvLine(line);
    const id = (f[ci] ?? '').trim();
    const x = numberField(f[fi]);
    const r = numberField(f[ri]);
    const T = numberField(f[ti]);
    const m = mi >= 0 ? numberField(f[mi]) : 0;
    let problem = '';
    if (id === '') problem = 'customer_id is empty';
    else if (!Number.isFinite(x)) problem = `frequency "${f[fi] ?? ''}" is not a number`;
    else if (!Number.isFinite(r)) problem = `recency "${f[ri] ?? ''}" is not a number`;
    else if (!Number.isFinite(T)) problem = `T "${f[ti] ?? ''}" is not a number`;
    else if (!Number.isFinite(m)) problem = `monetary_value "${f[mi] ?? ''}" is not a number`;
    else if (x < 0 || !Number.isInteger(x)) problem = `frequency ${x} must be a whole number ≥ 0`;
    else if (r < 0) problem = `recency ${r} is negative`;
    else if (T < 0) problem = `T ${T} is negative`;
    else if (r > T + 1e-9 * Math.max(1, T)) problem = `recency ${r} is greater than T ${T}`;
    else if (x > 0 && r === 0) problem = `frequency ${x} > 0 but recency is 0`;
    else if (x === 0 && r !== 0) problem = `frequency is 0 but recency is ${r}`;
    else if (m < 0) problem = `monetary_value ${m} is negative`;
    else if (mi >= 0 && x > 0 && m === 0) problem = 'monetary_value is 0 for a repeat buyer';
    if (problem) {
      const msg = `${path}:${lineNo}: ${problem}`;
      if (!skipBad) throw new CliError(`${msg} (use --skip-bad-rows to skip and count bad rows)`);
      bad.skipped++;
      if (bad.first.length < 5) bad.first.push(msg);
      return;
    }
    ids.push(id);
    fr.push(x);
    rc.push(Math.min(r, T));
    tt.push(T);
    mv.push(m);
  });
  return {
    customerId: ids,
    frequency: Float64Array.from(fr),
    recency: Float64Array.from(rc),
    T: Float64Array.from(tt),
    monetary: mi >= 0 ? Float64Array.from(mv) : undefined,
    bad,
  };
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

/** Quote a CSV field if needed. */
export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
