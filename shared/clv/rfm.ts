/**
 * Validation and compression of frequency / recency / age (x, t_x, T) data.
 * Identical (x, t_x, T) rows are merged with weights so that fitting and scoring
 * cost grows with the number of distinct histories, not customers.
 */
import { DataError } from './errors.ts';

export type NumArray = ArrayLike<number>;

/** Validated, compressed RFM data. `index[i]` is the compressed row of customer i. */
export interface RfmTable {
  /** number of customers */
  readonly n: number;
  /** number of distinct (x, t_x, T) rows */
  readonly rows: number;
  readonly x: Float64Array;
  readonly tx: Float64Array;
  readonly T: Float64Array;
  readonly weight: Float64Array;
  readonly index: Int32Array;
  /** distinct x values and each row's position in it */
  readonly xValues: Float64Array;
  readonly xIndex: Int32Array;
  /** distinct T values / t_x values, each row's position in them (t_x ones are empty for continuous-time data) */
  readonly TValues: Float64Array;
  readonly TIndex: Int32Array;
  readonly txValues: Float64Array;
  readonly txIndex: Int32Array;
  /** distinct (x, T) pairs: each row's pair, and per pair its x index and T index */
  readonly pairIndex: Int32Array;
  readonly pairX: Int32Array;
  readonly pairT: Int32Array;
}

const REL_TOL = 1e-9;

/** Throws DataError describing the first invalid record. Recency slightly above T (rounding, ≤1e-9 relative) is clamped. */
export function validateRfmRecord(x: number, tx: number, T: number, i?: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new DataError(`frequency is not a finite number (${String(x)})`, i);
  if (typeof tx !== 'number' || !Number.isFinite(tx)) throw new DataError(`recency is not a finite number (${String(tx)})`, i);
  if (typeof T !== 'number' || !Number.isFinite(T)) throw new DataError(`T is not a finite number (${String(T)})`, i);
  if (x < 0) throw new DataError(`frequency is negative (${x})`, i);
  if (!Number.isInteger(x)) throw new DataError(`frequency must be a whole number of repeat purchases (${x})`, i);
  if (tx < 0) throw new DataError(`recency is negative (${tx})`, i);
  if (T < 0) throw new DataError(`T is negative (${T})`, i);
  if (tx > T * (1 + REL_TOL) + 1e-12) throw new DataError(`recency (${tx}) is greater than T (${T})`, i);
  if (x > 0 && tx === 0) throw new DataError(`frequency is ${x} but recency is 0 (repeat purchases need a positive recency)`, i);
  if (x === 0 && tx !== 0) throw new DataError(`frequency is 0 but recency is ${tx} (recency must be 0 without repeat purchases)`, i);
}

/**
 * Distinct values of v (in order of first appearance) and each element's position among
 * them, with an open-addressing hash table on the bit pattern (typed arrays only, O(n)).
 */
function uniqueValues(v: NumArray): { values: Float64Array; index: Int32Array } {
  const n = v.length;
  let cap = 16;
  while (cap < n * 2) cap <<= 1;
  const mask = cap - 1;
  const slots = new Int32Array(cap).fill(-1);
  const vals = new Float64Array(n);
  const index = new Int32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const key = v[i];
    let h = mix(0x2545f491, key) & mask;
    for (;;) {
      const s = slots[h];
      if (s === -1) {
        slots[h] = m;
        vals[m] = key;
        index[i] = m++;
        break;
      }
      if (vals[s] === key) {
        index[i] = s;
        break;
      }
      h = (h + 1) & mask;
    }
  }
  return { values: m === n ? vals : vals.slice(0, m), index };
}

/** uniqueValues for whole numbers ≥ 0 (frequencies) via a direct lookup table when they are small. */
function uniqueIntegers(v: Float64Array): { values: Float64Array; index: Int32Array } {
  let max = 0;
  for (let i = 0; i < v.length; i++) if (v[i] > max) max = v[i];
  if (max > 4 * v.length + 1024) return uniqueValues(v);
  const seen = new Int32Array(max + 1);
  for (let i = 0; i < v.length; i++) seen[v[i]] = 1;
  let m = 0;
  for (let k = 0; k <= max; k++) if (seen[k]) seen[k] = ++m;
  const values = new Float64Array(m);
  for (let k = 0; k <= max; k++) if (seen[k]) values[seen[k] - 1] = k;
  const index = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) index[i] = seen[v[i]] - 1;
  return { values, index };
}

/** Hash of three doubles via their bit patterns. */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
function mix(h: number, v: number): number {
  f64[0] = v === 0 ? 0 : v; // normalise -0
  h = Math.imul(h ^ u32[0], 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ u32[1], 0x85ebca77);
  return h ^ (h >>> 13);
}

/** Validate and compress (x, t_x, T). Throws DataError on bad data. */
export function prepareRfm(frequency: NumArray, recency: NumArray, T: NumArray): RfmTable {
  const n = frequency.length;
  if (recency.length !== n || T.length !== n) throw new DataError(`frequency, recency and T must have the same length (${n}, ${recency.length}, ${T.length})`);
  if (n === 0) throw new DataError('no customers');
  for (let i = 0; i < n; i++) validateRfmRecord(frequency[i], recency[i], T[i], i);
  // Continuous times: every customer has her own T, so no two rows can be merged. Detect this
  // with one hash pass over T and build the table without hashing whole rows (the row index,
  // T index, pair index and pair-T index are then all the identity).
  const Tu = uniqueValues(T);
  if (Tu.values.length === n) return distinctTable(frequency, recency, Tu.values);
  let cap = 1;
  while (cap < n * 2) cap <<= 1;
  const mask = cap - 1;
  const slots = new Int32Array(cap).fill(-1);
  const index = new Int32Array(n);
  let ux = new Float64Array(Math.min(n, 1024));
  let ut = new Float64Array(ux.length);
  let uT = new Float64Array(ux.length);
  let uw = new Float64Array(ux.length);
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const xi = frequency[i];
    let ti = recency[i];
    const Ti = T[i];
    if (ti > Ti) ti = Ti;
    let h = mix(mix(mix(0x12345, xi), ti), Ti) & mask;
    for (;;) {
      const s = slots[h];
      if (s === -1) {
        if (rows === ux.length) {
          const grow = (a: Float64Array) => {
            const b = new Float64Array(Math.min(n, a.length * 2));
            b.set(a);
            return b;
          };
          ux = grow(ux); ut = grow(ut); uT = grow(uT); uw = grow(uw);
        }
        slots[h] = rows;
        ux[rows] = xi; ut[rows] = ti; uT[rows] = Ti; uw[rows] = 1;
        index[i] = rows++;
        break;
      }
      if (ux[s] === xi && ut[s] === ti && uT[s] === Ti) {
        uw[s] += 1;
        index[i] = s;
        break;
      }
      h = (h + 1) & mask;
    }
  }
  const x = ux.slice(0, rows);
  const tx = ut.slice(0, rows);
  const TT = uT.slice(0, rows);
  const weight = uw.slice(0, rows);
  const xs = uniqueIntegers(x);
  const Ts = uniqueValues(TT);
  // continuous times: nearly every row has its own T and t_x, so a per-value index of t_x would
  // not save any work; leave it empty (consumers then use the row values directly)
  const txs = Ts.values.length > rows / 2 ? { values: new Float64Array(0), index: new Int32Array(0) } : uniqueValues(tx);
  // (x, T) pairs, keyed by xIndex·nT + TIndex (exact integers)
  const nT = Ts.values.length;
  const keys = new Float64Array(rows);
  for (let k = 0; k < rows; k++) keys[k] = xs.index[k] * nT + Ts.index[k];
  const pairs = uniqueValues(keys);
  const pairIndex = pairs.index;
  const np = pairs.values.length;
  const px = new Int32Array(np);
  const pT = new Int32Array(np);
  for (let p = 0; p < np; p++) {
    const key = pairs.values[p];
    px[p] = Math.floor(key / nT);
    pT[p] = key - px[p] * nT;
  }
  return {
    n, rows, x, tx, T: TT, weight, index,
    xValues: xs.values, xIndex: xs.index,
    TValues: Ts.values, TIndex: Ts.index,
    txValues: txs.values, txIndex: txs.index,
    pairIndex, pairX: px, pairT: pT,
  };
}

/** Table for data in which every customer's (x, t_x, T) is distinct (all T differ); inputs already validated. */
function distinctTable(frequency: NumArray, recency: NumArray, TT: Float64Array): RfmTable {
  const n = TT.length;
  const x = Float64Array.from(frequency);
  const tx = new Float64Array(n);
  for (let i = 0; i < n; i++) tx[i] = Math.min(recency[i], TT[i]);
  const weight = new Float64Array(n).fill(1);
  const identity = new Int32Array(n);
  for (let i = 0; i < n; i++) identity[i] = i;
  const xs = uniqueIntegers(x);
  return {
    n, rows: n, x, tx, T: TT, weight, index: identity,
    xValues: xs.values, xIndex: xs.index,
    TValues: TT, TIndex: identity,
    txValues: new Float64Array(0), txIndex: new Int32Array(0),
    pairIndex: identity, pairX: xs.index, pairT: identity,
  };
}

/** Expand per-row values to per-customer values. */
export function expandRows(table: RfmTable, perRow: Float64Array): Float64Array {
  const out = new Float64Array(table.n);
  const idx = table.index;
  for (let i = 0; i < out.length; i++) out[i] = perRow[idx[i]];
  return out;
}
