import { describe, expect, it } from 'vitest';
import { assignValueTiers } from '../../../shared/clv/tiers.ts';
import { type ScoringConfig, parseScoringConfig } from '../../../shared/scoring/config.ts';
import { adHocValues } from '../../../shared/scoring/customer-value.ts';
import { type FitResult, fitNightlyModels } from '../../../shared/scoring/fit.ts';
import { type GatheredSummaries, gatherSummaries, mergeGathered } from '../../../shared/scoring/gathered-summaries.ts';
import type { ModelSummary } from '../../../shared/scoring/profile-summary.ts';
import { valueTierOf } from '../../../shared/scoring/value-tiers.ts';
import { agreesToSigFigs, loadCdnowSummary } from '../../clv/helpers.ts';

const config = (over: object = {}): ScoringConfig => {
  const r = parseScoringConfig(over);
  if (!r.ok) throw new Error(r.issues.join('; '));
  return r.config;
};

const cdnow = loadCdnowSummary();
const cdnowSummaries: ModelSummary[] = cdnow.id.map((_, i) => ({
  kind: 'adhoc',
  frequency: cdnow.frequency[i]!,
  recency: cdnow.recency[i]!,
  T: cdnow.T[i]!,
  monetary: cdnow.monetary[i]!,
}));

/** Fader & Hardie (2007) "Regular" cohort: % of 1,000 still active after 0..7 years. */
const regular = [100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1];
function regularCohort(): ModelSummary[] {
  const out: ModelSummary[] = [];
  const counts = regular.map((p) => Math.round(p * 10));
  for (let t = 1; t < counts.length; t++) {
    for (let k = 0; k < counts[t - 1]! - counts[t]!; k++) out.push({ kind: 'subscription', active: false, renewals: t - 1, tenure: { periods: t, churned: true }, monthlyValue: undefined });
  }
  const last = counts.length - 1;
  for (let k = 0; k < counts[last]!; k++) out.push({ kind: 'subscription', active: true, renewals: last, tenure: { periods: last, churned: false }, monthlyValue: 30 });
  return out;
}

const fit = (gathered: GatheredSummaries, over: object = {}, previous?: FitResult['model'], runId = 'run-2') =>
  fitNightlyModels({ runId, runDate: '1997-09-30', gathered, sampleShare: 1, previous, config: config(over) });

describe('nightly fit', () => {
  const both = mergeGathered(gatherSummaries(cdnowSummaries), gatherSummaries(regularCohort()));
  const result = fit(both);

  it('reproduces the published CDNOW BG/NBD and Gamma-Gamma parameters and the F&H 2007 sBG ones', () => {
    expect(result.status).toBe('fitted');
    expect(result.alarm).toBe(false);
    const { bgnbd, gammaGamma, sbg } = result.model;
    // Fader, Hardie & Lee (2005): r=0.243, α=4.414, a=0.793, b=2.426, LL=−9582.4
    expect(agreesToSigFigs(bgnbd!.params.r, 0.243)).toBe(true);
    expect(agreesToSigFigs(bgnbd!.params.alpha, 4.414, 4)).toBe(true);
    expect(agreesToSigFigs(bgnbd!.params.a, 0.793)).toBe(true);
    expect(agreesToSigFigs(bgnbd!.params.b, 2.426, 4)).toBe(true);
    expect(bgnbd!.logLikelihood).toBeCloseTo(-9582.4, 0);
    expect(bgnbd!.customers).toBe(2357);
    // Hardie note 025: p=6.25, q=3.74, γ=15.44 on the 946 repeat buyers
    expect(agreesToSigFigs(gammaGamma!.params.p, 6.25)).toBe(true);
    expect(agreesToSigFigs(gammaGamma!.params.q, 3.74)).toBe(true);
    expect(agreesToSigFigs(gammaGamma!.params.gamma, 15.44, 3)).toBe(true);
    // the dataset README's refit (lifetimes 0.11.3): γ = 15.447748
    expect(gammaGamma!.params.gamma).toBeCloseTo(15.447748, 3);
    expect(gammaGamma!.customers).toBe(946);
    // Fader & Hardie (2007), Regular: α=0.704, β=1.182
    expect(agreesToSigFigs(sbg!.params.alpha, 0.704)).toBe(true);
    expect(agreesToSigFigs(sbg!.params.beta, 1.182, 4)).toBe(true);
    expect(sbg!.customers).toBe(1000);
  });

  it('records the run, the sample and which run fitted each model', () => {
    expect(result.model).toMatchObject({
      modelId: 'run-2',
      runId: 'run-2',
      runDate: '1997-09-30',
      periods: { adHoc: 'week', subscription: 'month' },
      sample: { adHocCustomers: 2357, subscribers: 1000, withoutHistory: 0, share: 1 },
    });
    expect(result.model.bgnbd).toMatchObject({ fittedInRun: 'run-2', fittedOn: '1997-09-30', converged: true });
    expect(result.components).toEqual({ bgnbd: { source: 'tonight' }, gammaGamma: { source: 'tonight' }, sbg: { source: 'tonight' }, tierCuts: { source: 'tonight' } });
  });

  it('tier cut points give each sampled customer the tier shared/clv assigns within the sample', () => {
    const onlyCdnow = fit(gatherSummaries(cdnowSummaries));
    const { bgnbd, gammaGamma, tierCuts } = onlyCdnow.model;
    const v = adHocValues(bgnbd!.params, gammaGamma!.params, cdnow, config().clv);
    const expected = assignValueTiers(v.clv, v.pAlive);
    const got = Array.from(v.clv, (c, i) => valueTierOf(c, v.pAlive[i]!, tierCuts!));
    expect(got).toEqual(expected);
    // 10 % are at or above the top cut
    const top = Array.from(v.clv).filter((c) => c >= tierCuts!.top).length;
    expect(top).toBeGreaterThanOrEqual(236);
    expect(top).toBeLessThanOrEqual(240);
  });

  it('a base without subscribers fits the ad-hoc models, has no sBG and raises no alarm', () => {
    const r = fit(gatherSummaries(cdnowSummaries));
    expect(r.status).toBe('fitted');
    expect(r.alarm).toBe(false);
    expect(r.model.sbg).toBeUndefined();
    expect(r.components.sbg).toEqual({ source: 'none', reason: 'no subscribers in the sample' });
  });
});

describe('a failed or degenerate fit keeps the previous model', () => {
  const previous = fit(mergeGathered(gatherSummaries(cdnowSummaries), gatherSummaries(regularCohort())), {}, undefined, 'run-1').model;

  it('too few customers: every model kept from the previous run, with the reason, and an alarm', () => {
    const few = gatherSummaries([...cdnowSummaries.slice(0, 50), ...regularCohort().slice(0, 20)]);
    const r = fit(few, {}, previous);
    expect(r.status).toBe('degraded');
    expect(r.alarm).toBe(true);
    expect(r.components.bgnbd).toEqual({ source: 'previous', reason: 'too few ad-hoc buyers (50, at least 500 needed)' });
    expect(r.components.gammaGamma.source).toBe('previous');
    expect(r.components.sbg).toEqual({ source: 'previous', reason: 'too few subscribers (20, at least 100 needed)' });
    expect(r.model.bgnbd).toEqual(previous.bgnbd);
    expect(r.model.bgnbd!.fittedInRun).toBe('run-1');
    expect(r.model.modelId).toBe('run-2');
    // tier cuts are recomputed from tonight's sample with the kept models
    expect(r.components.tierCuts).toEqual({ source: 'tonight' });
  });

  it('without a previous model the failed model is missing', () => {
    const few = gatherSummaries(cdnowSummaries.slice(0, 50));
    const r = fit(few);
    expect(r.model.bgnbd).toBeUndefined();
    expect(r.model.gammaGamma).toBeUndefined();
    expect(r.model.tierCuts).toBeUndefined();
    expect(r.components.bgnbd.source).toBe('none');
    expect(r.components.tierCuts).toEqual({ source: 'none', reason: 'no customer could be valued with the models in use' });
    expect(r.alarm).toBe(true);
  });

  it('a model the data cannot identify (nobody ever churned) keeps the previous sBG', () => {
    const loyal: ModelSummary[] = Array.from({ length: 300 }, (_, i) => ({ kind: 'subscription', active: true, renewals: i % 12, tenure: { periods: i % 12, churned: false }, monthlyValue: 10 }));
    const r = fit(mergeGathered(gatherSummaries(cdnowSummaries), gatherSummaries(loyal)), {}, previous);
    expect(r.components.sbg).toEqual({ source: 'previous', reason: 'sBG cannot be fitted: no customer churned' });
    expect(r.model.sbg).toEqual(previous.sbg);
    expect(r.components.bgnbd).toEqual({ source: 'tonight' });
    expect(r.alarm).toBe(true);
  });

  it('no repeat buyer ever comes back: BG/NBD does not converge to an interior optimum and is kept', () => {
    const oneTimers: ModelSummary[] = Array.from({ length: 1_000 }, (_, i) => ({ kind: 'adhoc', frequency: 0, recency: 0, T: 1 + (i % 52), monetary: 0 }));
    const r = fit(gatherSummaries(oneTimers), {}, previous);
    expect(r.components.bgnbd.source).toBe('previous');
    expect(r.components.gammaGamma).toEqual({ source: 'previous', reason: 'no repeat buyers with spend in the sample' });
    expect(r.model.bgnbd!.params).toEqual(previous.bgnbd!.params);
  });

  it('absurd parameters (outside the configured range) are refused', () => {
    const r = fit(gatherSummaries(cdnowSummaries), { fit: { parameterRange: { max: 4 } } }, previous);
    expect(r.components.bgnbd.source).toBe('previous');
    expect((r.components.bgnbd as { reason: string }).reason).toMatch(/^parameter alpha = 4\.41\d* is outside \[0\.0001, 4\]$/);
    // Gamma-Gamma p = 6.25 is out of range too
    expect((r.components.gammaGamma as { reason: string }).reason).toMatch(/^parameter p = 6\.2\d* is outside/);
  });

  it('a spend model with q ≤ 1 is refused (infinite mean spend)', () => {
    // heavy-tailed spend: most repeat buyers spend little, a few spend enormously
    const heavy: ModelSummary[] = Array.from({ length: 600 }, (_, i) => ({ kind: 'adhoc', frequency: 1 + (i % 3), recency: 10, T: 20, monetary: i % 50 === 0 ? 1e6 * (1 + i) : 1 + (i % 7) }));
    const r = fit(gatherSummaries(heavy), { fit: { parameterRange: { min: 1e-8, max: 1e8 } } }, previous);
    const gg = r.components.gammaGamma;
    expect(gg.source).toBe('previous');
    expect((gg as { reason: string }).reason).toMatch(/q = .* ≤ 1|not converge|outside/);
  });
});
