/**
 * Churn risk in [0, 1] over a stated coming period.
 *
 * Ad-hoc buyers (BG/NBD): the probability that the customer makes no purchase in the next
 * `horizon` periods, P(X(T, T+h) = 0 | x, t_x, T) = (1 − P(alive)) + P(alive)·(α+T)^(r+x)/(α+T+h)^(r+x).
 * It combines 1 − P(alive) with the expected purchase rate of a customer who is still alive.
 *
 * Subscribers (sBG): the probability of churning at one of the next `periods` renewal
 * decisions given the tenure (renewals made so far).
 *
 * Triggers from other signals (complaints, failed payments, ...) can only raise the risk:
 * `raiseChurnRisk` combines independent signals as a noisy-OR.
 */
import { type BgNbdParams, probabilityAlive, probabilityAliveRows } from './bgnbd.ts';
import { DataError } from './errors.ts';
import type { RfmTable } from './rfm.ts';
import { type SbgParams, sbgChurnProbability } from './sbg.ts';

function checkHorizon(h: number): void {
  if (!(h > 0) || !Number.isFinite(h)) throw new DataError(`churn horizon must be > 0 periods (${h})`);
}

/** Churn risk of one ad-hoc buyer over the next `horizon` periods. */
export function adHocChurnRisk(params: BgNbdParams, horizon: number, x: number, tx: number, T: number): number {
  checkHorizon(horizon);
  const pa = probabilityAlive(params, x, tx, T);
  const p0 = Math.pow((params.alpha + T) / (params.alpha + T + horizon), params.r + x);
  return clamp01(1 - pa * (1 - p0));
}

/** Ad-hoc churn risk per distinct row of a prepared table. */
export function adHocChurnRiskRows(params: BgNbdParams, table: RfmTable, horizon: number, pAliveRows?: Float64Array): Float64Array {
  checkHorizon(horizon);
  const pa = pAliveRows ?? probabilityAliveRows(params, table);
  const out = new Float64Array(table.rows);
  const { alpha, r } = params;
  for (let i = 0; i < table.rows; i++) {
    const T = table.T[i];
    const p0 = Math.exp((r + table.x[i]) * Math.log((alpha + T) / (alpha + T + horizon)));
    out[i] = clamp01(1 - pa[i] * (1 - p0));
  }
  return out;
}

/** Churn risk of a subscriber who has made `tenure` renewals, over the next `periods` renewal decisions. */
export function subscriptionChurnRisk(params: SbgParams, tenure: number, periods = 1): number {
  return sbgChurnProbability(params, tenure, periods);
}

/**
 * Raise a model churn risk with trigger signals, each a probability in [0, 1]:
 * 1 − (1 − base)·Π(1 − sᵢ). Never lowers the base risk; stays in [0, 1].
 */
export function raiseChurnRisk(base: number, ...signals: number[]): number {
  if (!(base >= 0 && base <= 1)) throw new DataError(`base churn risk must be in [0, 1] (${base})`);
  let keep = 1 - base;
  for (const s of signals) {
    if (!(s >= 0 && s <= 1)) throw new DataError(`churn signal must be in [0, 1] (${s})`);
    keep *= 1 - s;
  }
  return clamp01(1 - keep);
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
