/**
 * One-call scoring of a customer base: BG/NBD + Gamma-Gamma fit, then per customer
 * P(alive), expected purchases, expected spend, CLV, churn risk and value tier.
 */
import { type BgNbdFit, type BgNbdParams, conditionalAliveExpectationPairs, fitBgNbd, probabilityAliveRows } from './bgnbd.ts';
import { adHocChurnRiskRows } from './churn.ts';
import { type ClvOptions, PERIODS_PER_MONTH, discountedPurchaseFactorPairs } from './clv.ts';
import { type GammaGammaFit, type GammaGammaParams, expectedAverageSpendBatch, fitGammaGamma } from './gamma-gamma.ts';
import { type NumArray, type RfmTable, prepareRfm } from './rfm.ts';
import { type TierOptions, type ValueTier, assignValueTiers } from './tiers.ts';

export interface ScoreOptions extends ClvOptions {
  /** horizon (periods) for expected purchases; default = CLV horizon in periods */
  purchaseHorizon?: number;
  /** horizon (periods) for churn risk; default 3 months in periods */
  churnHorizon?: number;
  tiers?: TierOptions;
}

export interface CustomerScores {
  pAlive: Float64Array;
  expectedPurchases: Float64Array;
  expectedSpend: Float64Array;
  clv: Float64Array;
  churnRisk: Float64Array;
  valueTier: ValueTier[];
  purchaseHorizon: number;
  churnHorizon: number;
}

export interface SummaryInput {
  frequency: NumArray;
  recency: NumArray;
  T: NumArray;
  monetary: NumArray;
  /** prepareRfm(frequency, recency, T) if the caller has it already (it is then not rebuilt) */
  table?: RfmTable;
}

/** Score every customer with given parameters. */
export function scoreCustomers(bgnbd: BgNbdParams, gammaGamma: GammaGammaParams, data: SummaryInput, options: ScoreOptions): CustomerScores {
  const table = data.table ?? prepareRfm(data.frequency, data.recency, data.T);
  const ppm = options.periodsPerMonth ?? PERIODS_PER_MONTH.week;
  const purchaseHorizon = options.purchaseHorizon ?? options.months * ppm;
  const churnHorizon = options.churnHorizon ?? 3 * ppm;
  const pa = probabilityAliveRows(bgnbd, table);
  const g = conditionalAliveExpectationPairs(bgnbd, table, [purchaseHorizon]);
  const fac = discountedPurchaseFactorPairs(bgnbd, table, options);
  const churnRows = adHocChurnRiskRows(bgnbd, table, churnHorizon, pa);
  const spend = expectedAverageSpendBatch(gammaGamma, data.frequency, data.monetary);
  const n = table.n;
  const pAlive = new Float64Array(n);
  const ex = new Float64Array(n);
  const clv = new Float64Array(n);
  const churnRisk = new Float64Array(n);
  const margin = options.margin ?? 1;
  for (let i = 0; i < n; i++) {
    const row = table.index[i];
    const pr = table.pairIndex[row];
    const p = pa[row];
    pAlive[i] = p;
    ex[i] = p * g[pr];
    clv[i] = margin * spend[i] * p * fac[pr];
    churnRisk[i] = churnRows[row];
  }
  const valueTier = assignValueTiers(clv, pAlive, options.tiers);
  return { pAlive, expectedPurchases: ex, expectedSpend: spend, clv, churnRisk, valueTier, purchaseHorizon, churnHorizon };
}

/** Fit both models and score. */
export function fitAndScore(data: SummaryInput, options: ScoreOptions): { bgnbd: BgNbdFit; gammaGamma: GammaGammaFit; scores: CustomerScores } {
  const bgnbd = fitBgNbd({ frequency: data.frequency, recency: data.recency, T: data.T });
  const gammaGamma = fitGammaGamma(data.frequency, data.monetary);
  return { bgnbd, gammaGamma, scores: scoreCustomers(bgnbd, gammaGamma, data, options) };
}
