/**
 * Customer summaries (x, t_x, T, mean repeat spend, holdout purchases) from a raw
 * transaction log, counting at most one transaction per customer per day (amounts on the
 * same day are summed), as in the BG/NBD and Gamma-Gamma literature.
 */
import { DataError } from './errors.ts';

export type Period = 'day' | 'week';
export const PERIOD_DAYS: Record<Period, number> = { day: 1, week: 7 };

const MS_PER_DAY = 86_400_000;

/**
 * Parse an ISO date `YYYY-MM-DD` or compact `YYYYMMDD` (a time part after `T` or a space
 * is ignored) into a day number (days since 1970-01-01, UTC). Throws DataError if invalid.
 */
export function parseDay(text: string): number {
  const s = text.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(s);
  if (!m) m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (!m) throw new DataError(`invalid date "${text}" (expected YYYY-MM-DD or YYYYMMDD)`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    throw new DataError(`invalid calendar date "${text}"`);
  }
  return Math.round(ms / MS_PER_DAY);
}

/** Format a day number as YYYY-MM-DD. */
export function formatDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

export interface Transactions {
  customerId: readonly string[];
  /** day numbers (see parseDay) */
  day: ArrayLike<number>;
  amount: ArrayLike<number>;
}

export interface SummaryOptions {
  /** last day (inclusive) of the calibration period, as a day number */
  calibrationEnd: number;
  period: Period;
  /** optional last day (inclusive) of the holdout period */
  holdoutEnd?: number;
}

export interface CustomerSummary {
  customerId: string[];
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  /** mean value of the repeat purchase-days in calibration (0 when frequency = 0) */
  monetary: Float64Array;
  /** repeat purchase-days in the holdout (only when holdoutEnd was given) */
  holdoutFrequency?: Float64Array;
  /** holdout length in periods */
  holdoutLength?: number;
  /** customers whose first purchase is after the calibration end (not summarised) */
  customersAfterCalibration: number;
  /** transactions counted, after merging same-day purchases */
  purchaseDays: number;
}

/** Build per-customer summaries. Validates amounts (finite, ≥ 0) and days (integers). */
export function summarizeTransactions(tx: Transactions, options: SummaryOptions): CustomerSummary {
  const n = tx.customerId.length;
  if (tx.day.length !== n || tx.amount.length !== n) throw new DataError('customerId, day and amount must have the same length');
  const { calibrationEnd, period, holdoutEnd } = options;
  if (!Number.isInteger(calibrationEnd)) throw new DataError('calibration end must be a day number');
  if (holdoutEnd !== undefined && !(Number.isInteger(holdoutEnd) && holdoutEnd > calibrationEnd)) throw new DataError('holdout end must be after the calibration end');
  const len = PERIOD_DAYS[period];
  if (!len) throw new DataError(`unknown period "${String(period)}" (use day or week)`);
  // customer index
  const ids = new Map<string, number>();
  const idList: string[] = [];
  const cust = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const id = tx.customerId[i];
    if (typeof id !== 'string' || id === '') throw new DataError('customer id is empty', i);
    const d = tx.day[i];
    if (!Number.isInteger(d)) throw new DataError(`day is not a whole day number (${String(d)})`, i);
    const a = tx.amount[i];
    if (typeof a !== 'number' || !Number.isFinite(a)) throw new DataError(`amount is not a finite number (${String(a)})`, i);
    if (a < 0) throw new DataError(`amount is negative (${a}); remove refunds or net them out first`, i);
    let k = ids.get(id);
    if (k === undefined) {
      k = idList.length;
      idList.push(id);
      ids.set(id, k);
    }
    cust[i] = k;
  }
  // order by (customer, day): counting sort by customer, then sort each customer's days
  const m = idList.length;
  const start = new Int32Array(m + 1);
  for (let i = 0; i < n; i++) start[cust[i] + 1]++;
  for (let c = 0; c < m; c++) start[c + 1] += start[c];
  const fillPos = start.slice(0, m);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[fillPos[cust[i]]++] = i;
  const days = tx.day;
  for (let c = 0; c < m; c++) {
    const lo = start[c];
    const hi = start[c + 1];
    if (hi - lo <= 32) {
      // insertion sort (stable) for the usual short histories
      for (let k = lo + 1; k < hi; k++) {
        const v = order[k];
        const dv = days[v];
        let j = k - 1;
        while (j >= lo && days[order[j]] > dv) {
          order[j + 1] = order[j];
          j--;
        }
        order[j + 1] = v;
      }
    } else {
      const seg = Array.from(order.subarray(lo, hi)).sort((a, b) => days[a] - days[b] || a - b);
      order.set(seg, lo);
    }
  }
  const first = new Float64Array(m).fill(NaN);
  const lastCal = new Float64Array(m);
  const xCal = new Float64Array(m);
  const spend = new Float64Array(m);
  const xHold = new Float64Array(m);
  let purchaseDays = 0;
  let i = 0;
  while (i < n) {
    const c = cust[order[i]];
    const d = tx.day[order[i]];
    let amt = 0;
    while (i < n && cust[order[i]] === c && tx.day[order[i]] === d) {
      amt += tx.amount[order[i]];
      i++;
    }
    purchaseDays++;
    if (Number.isNaN(first[c])) {
      first[c] = d;
      lastCal[c] = d;
      continue;
    }
    if (d <= calibrationEnd) {
      xCal[c]++;
      lastCal[c] = d;
      spend[c] += amt;
    } else if (holdoutEnd !== undefined && d <= holdoutEnd) {
      xHold[c]++;
    }
  }
  // keep customers whose first purchase is within calibration
  let keep = 0;
  for (let c = 0; c < m; c++) if (first[c] <= calibrationEnd) keep++;
  const out: CustomerSummary = {
    customerId: new Array<string>(keep),
    frequency: new Float64Array(keep),
    recency: new Float64Array(keep),
    T: new Float64Array(keep),
    monetary: new Float64Array(keep),
    customersAfterCalibration: m - keep,
    purchaseDays,
  };
  if (holdoutEnd !== undefined) {
    out.holdoutFrequency = new Float64Array(keep);
    out.holdoutLength = (holdoutEnd - calibrationEnd) / len;
  }
  let j = 0;
  for (let c = 0; c < m; c++) {
    if (!(first[c] <= calibrationEnd)) continue;
    out.customerId[j] = idList[c];
    out.frequency[j] = xCal[c];
    out.recency[j] = (lastCal[c] - first[c]) / len;
    out.T[j] = (calibrationEnd - first[c]) / len;
    out.monetary[j] = xCal[c] > 0 ? spend[c] / xCal[c] : 0;
    if (out.holdoutFrequency) out.holdoutFrequency[j] = xHold[c];
    j++;
  }
  return out;
}
