/**
 * The nightly fit: BG/NBD and Gamma-Gamma for ad-hoc buyers and sBG for subscribers, from
 * the gathered summaries (unique rows with counts, possibly a hash sample), and the value
 * tier cut points from the sample's CLVs under the models in use.
 *
 * Each model is fitted and checked on its own. A fit that throws (too little data, no
 * optimum: shared/clv's DataError / ConvergenceError), has too few customers, or gives a
 * non-finite log-likelihood or a parameter outside the configured range keeps the previous
 * run's parameters for that model (or none, if there were none) and says why; the result
 * raises an alarm unless the only reason is that the base has no customers of that kind.
 * Expected failures are values; anything else (a bug) throws.
 */
import { type BgNbdParams, fitBgNbd } from '../clv/bgnbd.ts';
import { ConvergenceError, DataError } from '../clv/errors.ts';
import { type GammaGammaParams, fitGammaGamma } from '../clv/gamma-gamma.ts';
import { type SbgParams, type Tenure, fitSbgTenures } from '../clv/sbg.ts';
import type { ScoringConfig } from './config.ts';
import { adHocValues, subscriberClv } from './customer-value.ts';
import { type GatheredSummaries, gatheredCustomers } from './gathered-summaries.ts';
import { type TierCuts, tierCutPoints } from './value-tiers.ts';

export type ModelName = 'bgnbd' | 'gammaGamma' | 'sbg';

export type ComponentFit<P> = {
  params: P;
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  hessianPositiveDefinite: boolean;
  /** customers the model was fitted on (repeat buyers for Gamma-Gamma) */
  customers: number;
  /** the run that fitted these parameters (a kept model names an earlier run) */
  fittedInRun: string;
  fittedOn: string;
};

/** The model item: every score names the `modelId` that made it. */
export type ModelRecord = {
  modelId: string;
  runId: string;
  runDate: string;
  /** model period units: weeks for ad-hoc buyers, monthly renewals for subscribers */
  periods: { adHoc: 'week'; subscription: 'month' };
  sample: { adHocCustomers: number; subscribers: number; withoutHistory: number; share: number };
  bgnbd?: ComponentFit<BgNbdParams>;
  gammaGamma?: ComponentFit<GammaGammaParams>;
  sbg?: ComponentFit<SbgParams>;
  tierCuts?: TierCuts;
  /** the CLV settings the tier cut points were computed with */
  clv: ScoringConfig['clv'];
  /**
   * How tonight's fit went: which models were kept or are missing and why, and the alarm, so a
   * rerun that finds this item reports the same (absent on items stored before it was kept).
   */
  fit?: FitOutcome;
};

export type FitOutcome = Pick<FitResult, 'status' | 'components' | 'alarm'>;

export type ComponentOutcome =
  | { source: 'tonight' }
  | { source: 'previous'; reason: string }
  | { source: 'none'; reason: string };

export type FitResult = {
  /** 'fitted': every model with data was fitted tonight; 'degraded': some model is kept or missing */
  status: 'fitted' | 'degraded';
  model: ModelRecord;
  components: Record<ModelName, ComponentOutcome> & { tierCuts: ComponentOutcome };
  /** true when a fit failed for a reason other than having no customers of that kind */
  alarm: boolean;
};

export type FitInput = {
  runId: string;
  /** YYYY-MM-DD: the as-of day of the summaries */
  runDate: string;
  gathered: GatheredSummaries;
  /** the share of the base in the sample (1 = everybody) */
  sampleShare: number;
  previous?: ModelRecord;
  config: ScoringConfig;
};

type Attempt<P> = { ok: true; fit: ComponentFit<P> } | { ok: false; reason: string; noData: boolean };

function attempt<P extends object>(
  customers: number,
  min: number,
  kind: string,
  fit: () => { params: P; logLikelihood: number; iterations: number; hessianPositiveDefinite: boolean },
  check: (p: P) => string | undefined,
  meta: { runId: string; runDate: string },
): Attempt<P> {
  if (customers === 0) return { ok: false, reason: `no ${kind} in the sample`, noData: true };
  if (customers < min) return { ok: false, reason: `too few ${kind} (${customers}, at least ${min} needed)`, noData: false };
  let f: ReturnType<typeof fit>;
  try {
    f = fit();
  } catch (err) {
    if (err instanceof DataError || err instanceof ConvergenceError) return { ok: false, reason: err.message, noData: false };
    throw err;
  }
  if (!Number.isFinite(f.logLikelihood)) return { ok: false, reason: `log-likelihood is not finite (${f.logLikelihood})`, noData: false };
  const bad = check(f.params);
  if (bad) return { ok: false, reason: bad, noData: false };
  return { ok: true, fit: { ...f, converged: true, customers, fittedInRun: meta.runId, fittedOn: meta.runDate } };
}

function inRange<P extends object>(params: P, names: readonly (keyof P & string)[], range: { min: number; max: number }): string | undefined {
  for (const k of names) {
    const v = params[k] as number;
    if (!Number.isFinite(v) || v < range.min || v > range.max) return `parameter ${k} = ${v} is outside [${range.min}, ${range.max}]`;
  }
  return undefined;
}

function expandAdHoc(g: GatheredSummaries) {
  const n = gatheredCustomers(g).adHoc;
  const frequency = new Float64Array(n);
  const recency = new Float64Array(n);
  const T = new Float64Array(n);
  const monetary = new Float64Array(n);
  let i = 0;
  for (const r of g.adHoc) {
    for (let c = 0; c < r.count; c++, i++) {
      frequency[i] = r.frequency;
      recency[i] = r.recency;
      T[i] = r.T;
      monetary[i] = r.monetary;
    }
  }
  return { frequency, recency, T, monetary };
}

/** Fits tonight's models; see the file header for what happens when a fit fails. */
export function fitNightlyModels(input: FitInput): FitResult {
  const { runId, runDate, gathered, previous, config } = input;
  const meta = { runId, runDate };
  const range = config.fit.parameterRange;
  const counts = gatheredCustomers(gathered);
  const adHoc = expandAdHoc(gathered);

  const bg = attempt<BgNbdParams>(counts.adHoc, config.fit.minAdHocCustomers, 'ad-hoc buyers', () => {
    const f = fitBgNbd(adHoc);
    return { params: { r: f.r, alpha: f.alpha, a: f.a, b: f.b }, logLikelihood: f.logLikelihood, iterations: f.diagnostics.iterations, hessianPositiveDefinite: f.diagnostics.hessianPositiveDefinite };
  }, (p) => inRange(p, ['r', 'alpha', 'a', 'b'], range), meta);

  // Gamma-Gamma: repeat buyers with a positive mean spend (free repeat purchases carry no spend information)
  const repeat = { frequency: [] as number[], monetary: [] as number[] };
  for (let i = 0; i < adHoc.frequency.length; i++) {
    if (adHoc.frequency[i]! > 0 && adHoc.monetary[i]! > 0) {
      repeat.frequency.push(adHoc.frequency[i]!);
      repeat.monetary.push(adHoc.monetary[i]!);
    }
  }
  const gg = attempt<GammaGammaParams>(repeat.frequency.length, config.fit.minRepeatBuyers, 'repeat buyers with spend', () => {
    const f = fitGammaGamma(repeat.frequency, repeat.monetary);
    return { params: { p: f.p, q: f.q, gamma: f.gamma }, logLikelihood: f.logLikelihood, iterations: f.diagnostics.iterations, hessianPositiveDefinite: f.diagnostics.hessianPositiveDefinite };
  }, (p) => {
    const bad = inRange(p, ['p', 'q'], range);
    if (bad) return bad;
    if (!(p.q > 1)) return `q = ${p.q} ≤ 1: the population mean spend is infinite`;
    if (!(p.gamma > 0 && p.gamma <= config.fit.maxSpendScale)) return `parameter gamma = ${p.gamma} is outside (0, ${config.fit.maxSpendScale}]`;
    return undefined;
  }, meta);

  const tenures: Tenure[] = [];
  for (const r of gathered.tenures) for (let c = 0; c < r.count; c++) tenures.push({ periods: r.periods, churned: r.churned });
  const sb = attempt<SbgParams>(counts.subscription, config.fit.minSubscribers, 'subscribers', () => {
    const f = fitSbgTenures(tenures);
    return { params: { alpha: f.alpha, beta: f.beta }, logLikelihood: f.logLikelihood, iterations: f.diagnostics.iterations, hessianPositiveDefinite: f.diagnostics.hessianPositiveDefinite };
  }, (p) => inRange(p, ['alpha', 'beta'], range), meta);

  let alarm = false;
  const choose = <P>(a: Attempt<P>, prev: ComponentFit<P> | undefined): [ComponentFit<P> | undefined, ComponentOutcome] => {
    if (a.ok) return [a.fit, { source: 'tonight' }];
    if (!a.noData) alarm = true;
    return prev ? [prev, { source: 'previous', reason: a.reason }] : [undefined, { source: 'none', reason: a.reason }];
  };
  const [bgnbd, bgOutcome] = choose(bg, previous?.bgnbd);
  const [gammaGamma, ggOutcome] = choose(gg, previous?.gammaGamma);
  const [sbg, sbOutcome] = choose(sb, previous?.sbg);

  // tier cut points: CLV of every sampled customer whose models are in use
  const values: number[] = [];
  if (bgnbd && gammaGamma && adHoc.frequency.length > 0) {
    for (const v of adHocValues(bgnbd.params, gammaGamma.params, adHoc, config.clv).clv) values.push(v);
  }
  if (sbg) {
    for (const r of gathered.tenures) {
      const v = r.churned ? 0 : subscriberClv(sbg.params, r.periods, r.monthlyValue, config.clv);
      for (let c = 0; c < r.count; c++) values.push(v);
    }
  }
  const cuts = tierCutPoints(values, config.tiers.shares, config.tiers.lapsedBelow);
  let tierCuts: TierCuts | undefined = cuts;
  let cutsOutcome: ComponentOutcome = { source: 'tonight' };
  if (!cuts) {
    const reason = 'no customer could be valued with the models in use';
    tierCuts = previous?.tierCuts;
    cutsOutcome = tierCuts ? { source: 'previous', reason } : { source: 'none', reason };
  }

  const components = { bgnbd: bgOutcome, gammaGamma: ggOutcome, sbg: sbOutcome, tierCuts: cutsOutcome };
  const fitted = [bg, gg, sb].every((a) => a.ok || a.noData) && cutsOutcome.source === 'tonight';
  const status = fitted ? 'fitted' : 'degraded';
  const model: ModelRecord = {
    modelId: runId,
    runId,
    runDate,
    periods: { adHoc: 'week', subscription: 'month' },
    sample: { adHocCustomers: counts.adHoc, subscribers: counts.subscription, withoutHistory: gathered.withoutHistory, share: input.sampleShare },
    ...(bgnbd && { bgnbd }),
    ...(gammaGamma && { gammaGamma }),
    ...(sbg && { sbg }),
    ...(tierCuts && { tierCuts }),
    clv: config.clv,
    fit: { status, components, alarm },
  };
  return { status, model, components, alarm };
}
