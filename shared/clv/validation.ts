/**
 * Holdout validation (FHL 2005, figure 4 / "conditional expectations"): fit on the
 * calibration period, predict each customer's repeat purchases in the holdout, and compare
 * with what happened — in total and per calibration-frequency bucket.
 */
import { type BgNbdParams, expectedPurchasesRows } from './bgnbd.ts';
import { DataError } from './errors.ts';
import { type NumArray, prepareRfm } from './rfm.ts';

export interface HoldoutBucket {
  /** "0", "1", …, or e.g. "7+" */
  bucket: string;
  customers: number;
  actualMean: number;
  predictedMean: number;
  actualTotal: number;
  predictedTotal: number;
}

export interface HoldoutReport {
  holdoutLength: number;
  customers: number;
  actualTotal: number;
  predictedTotal: number;
  /** (predicted − actual)/actual */
  relativeError: number;
  /** mean absolute error per customer */
  meanAbsoluteError: number;
  buckets: HoldoutBucket[];
  /** per customer predictions */
  predicted: Float64Array;
}

export function holdoutComparison(
  params: BgNbdParams,
  data: { frequency: NumArray; recency: NumArray; T: NumArray; holdoutFrequency: NumArray },
  holdoutLength: number,
  options: { maxBucket?: number } = {},
): HoldoutReport {
  if (!(holdoutLength > 0)) throw new DataError(`holdout length must be > 0 (${holdoutLength})`);
  const n = data.frequency.length;
  if (data.holdoutFrequency.length !== n) throw new DataError('holdout frequency must have one value per customer');
  const table = prepareRfm(data.frequency, data.recency, data.T);
  const rows = expectedPurchasesRows(params, table, holdoutLength);
  const predicted = new Float64Array(n);
  const maxB = options.maxBucket ?? 7;
  const cnt = new Float64Array(maxB + 1);
  const act = new Float64Array(maxB + 1);
  const pred = new Float64Array(maxB + 1);
  let at = 0, pt = 0, mae = 0;
  for (let i = 0; i < n; i++) {
    const p = rows[table.index[i]];
    const a = data.holdoutFrequency[i];
    if (!(a >= 0) || !Number.isFinite(a)) throw new DataError(`holdout frequency must be ≥ 0 (${a})`, i);
    predicted[i] = p;
    const b = Math.min(maxB, data.frequency[i]);
    cnt[b]++;
    act[b] += a;
    pred[b] += p;
    at += a;
    pt += p;
    mae += Math.abs(p - a);
  }
  const buckets: HoldoutBucket[] = [];
  for (let b = 0; b <= maxB; b++) {
    if (cnt[b] === 0) continue;
    buckets.push({
      bucket: b === maxB ? `${maxB}+` : String(b),
      customers: cnt[b],
      actualMean: act[b] / cnt[b],
      predictedMean: pred[b] / cnt[b],
      actualTotal: act[b],
      predictedTotal: pred[b],
    });
  }
  return { holdoutLength, customers: n, actualTotal: at, predictedTotal: pt, relativeError: at > 0 ? (pt - at) / at : NaN, meanAbsoluteError: mae / n, buckets, predicted };
}

/** Plain-text table of a holdout report. */
export function formatHoldoutTable(r: HoldoutReport): string {
  const lines = [
    `holdout length: ${r.holdoutLength.toFixed(2)} periods, customers: ${r.customers}`,
    'calib. freq | customers | actual mean | predicted mean | actual total | predicted total',
    '------------|-----------|-------------|----------------|--------------|----------------',
  ];
  for (const b of r.buckets) {
    lines.push(
      `${b.bucket.padStart(11)} | ${String(b.customers).padStart(9)} | ${b.actualMean.toFixed(3).padStart(11)} | ${b.predictedMean.toFixed(3).padStart(14)} | ${b.actualTotal.toFixed(0).padStart(12)} | ${b.predictedTotal.toFixed(1).padStart(15)}`,
    );
  }
  lines.push(
    `${'total'.padStart(11)} | ${String(r.customers).padStart(9)} | ${(r.actualTotal / r.customers).toFixed(3).padStart(11)} | ${(r.predictedTotal / r.customers).toFixed(3).padStart(14)} | ${r.actualTotal.toFixed(0).padStart(12)} | ${r.predictedTotal.toFixed(1).padStart(15)}`,
  );
  lines.push(`relative error of total: ${(100 * r.relativeError).toFixed(2)}%, mean absolute error per customer: ${r.meanAbsoluteError.toFixed(3)}`);
  return lines.join('\n');
}
