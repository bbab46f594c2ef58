/**
 * The synthetic base scores: generated for a fixed seed and clock, replayed through the real
 * ingest in memory (validation, de-duplication, the profile fold), summarised as of the day
 * before the history ends and fitted by the nightly fit step, all three models converge and
 * recover the parameters the generator draws from (local/synthetic/generate.ts,
 * SYNTHETIC_MODELS). No Java: the in-memory pipeline of shared/pipeline/.
 */
import { describe, expect, it } from 'vitest';
import { SYNTHETIC_MODELS, generate } from '../../local/synthetic/generate.ts';
import { busEnvelope, createPipeline } from '../../shared/pipeline/run-pipeline.ts';
import { InMemoryCustomerStore } from '../../shared/pipeline/in-memory-ports.ts';
import { defaultScoringConfig, fitNightlyModels, gatherSummaries, summarizeProfile } from '../../shared/scoring/index.ts';

const now = new Date('2026-12-01T00:00:00Z');
const runDate = '2026-11-30';

/** Within a factor `f` of `truth` (either side). */
const near = (value: number, truth: number, f: number) => {
  expect(value, `${value} vs ${truth}`).toBeGreaterThan(truth / f);
  expect(value, `${value} vs ${truth}`).toBeLessThan(truth * f);
};

describe('the synthetic base fits the models it is drawn from', async () => {
  const data = await generate({ customers: 3000, seed: 42, now, malformed: false });
  const pipeline = createPipeline({ now: () => now });
  await pipeline.run(data.entries.flatMap((e, i) => busEnvelope(e, `s-${i}`) ?? []));
  const store = pipeline.store as InMemoryCustomerStore;
  const summaries = await Promise.all(store.customerIds().map(async (id) => summarizeProfile((await store.getProfile(id))!, runDate)));
  const fit = fitNightlyModels({ runId: 'synthetic', runDate, gathered: gatherSummaries(summaries), sampleShare: 1, config: defaultScoringConfig });

  it('fits BG/NBD, Gamma-Gamma and sBG tonight: the night is not degraded', () => {
    expect(fit.components).toEqual({ bgnbd: { source: 'tonight' }, gammaGamma: { source: 'tonight' }, sbg: { source: 'tonight' }, tierCuts: { source: 'tonight' } });
    expect(fit.status).toBe('fitted');
    expect(fit.alarm).toBe(false);
    expect(fit.model.sample.adHocCustomers + fit.model.sample.subscribers).toBe(3000);
    for (const m of [fit.model.bgnbd!, fit.model.gammaGamma!, fit.model.sbg!]) expect(m.hessianPositiveDefinite).toBe(true);
  });

  // The bounds are sampling error, not slack for a wrong generator: with ~1,800 ad-hoc buyers
  // (~1,100 repeat buyers) and ~1,200 subscribers, 18 months observed, the models' own
  // simulators (shared/clv/simulate.ts) at these sizes and censoring give fits whose shape
  // parameters wander by tens of percent across seeds, along ridges (r with α, a with b, p
  // with γ, α with β), while the means those pairs make are pinned much more tightly. So the
  // means are checked closely and each parameter within a factor (seeds 1–4, 7 and 42 all pass,
  // the closest at 1.16 of the 1.25 for the sBG mean churn). Before this generator drew
  // spend and churn from the models, Gamma-Gamma and sBG ran to a boundary (q, α, β → 10⁵–10⁷).

  it('BG/NBD: the weekly purchase rate and the dropout probability of the generator', () => {
    const { r, alpha, a, b } = fit.model.bgnbd!.params;
    const t = SYNTHETIC_MODELS.bgnbdPerMonth;
    const weeklyAlpha = (t.alpha * 30.44) / 7; // λ per month ~ Gamma(r, rate α) → per week: rate α·30.44/7
    near(r / alpha, t.r / weeklyAlpha, 1.2); // mean purchases per week
    near(a / (a + b), t.a / (t.a + t.b), 1.4); // mean dropout chance after a repeat purchase
    near(r, t.r, 1.5);
    near(alpha, weeklyAlpha, 1.5);
    near(a, t.a, 2);
    near(b, t.b, 2);
  });

  it('Gamma-Gamma: the mean spend per order and the heterogeneity between buyers', () => {
    const { p, q, gamma } = fit.model.gammaGamma!.params;
    const t = SYNTHETIC_MODELS.gammaGamma;
    near((p * gamma) / (q - 1), (t.p * t.gamma) / (t.q - 1), 1.1); // mean spend per order (≈ €106)
    near(p, t.p, 1.6);
    near(q, t.q, 1.6);
    near(gamma, t.gamma, 1.6);
  });

  it('sBG: the mean monthly churn probability and its spread between subscribers', () => {
    const { alpha, beta } = fit.model.sbg!.params;
    const t = SYNTHETIC_MODELS.sbg;
    near(alpha / (alpha + beta), t.alpha / (t.alpha + t.beta), 1.25);
    near(alpha, t.alpha, 2);
    near(beta, t.beta, 2);
  });
});
