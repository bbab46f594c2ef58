/**
 * The truth check of issue 12: the synthetic world simulates a known effect of outreach
 * (local/synthetic/outreach-effect.ts, default: a fifth fewer of the contacted churn), and
 * over many seeds the report's 95 % intervals for the churn reduction cover the simulated truth
 * at about their nominal rate.
 *
 * Each seed, in memory (no local stack): 1,000 at-risk subscribers with drawn CLVs and churn
 * risks; four workers keep their outreach top N and the real planner (shared/scoring/outreach.ts)
 * plans 400 of them into treated and control by the experiments' hash; each planned customer
 * churns or not by the follow-up's draw; the four workers add their customers to report parts
 * (shared/report/aggregate.ts), the parts are merged, and the report's figures
 * (shared/report/figures.ts) give the pooled churn reduction with its Wald and bootstrap
 * intervals. The truth is the simulated reduction × the planned customers' mean churn risk.
 *
 * Seeds 1–200. Observed (2026-12-01): the Wald interval covers the truth in 191 of
 * 200 seeds and the bootstrap interval in 190 (nominal 190 of 200; ± 3 standard
 * errors of a binomial coverage count is 181–199).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../shared/clv/simulate.ts';
import { type CustomerProfile, emptyProfile } from '../../../shared/customers/profile.ts';
import { type ReportPart, addCustomer, emptyReportPart, mergeReportParts } from '../../../shared/report/aggregate.ts';
import { reportFigures } from '../../../shared/report/figures.ts';
import { defaultScoringConfig } from '../../../shared/scoring/config.ts';
import { TopN, mergeTopN, outreachCandidate, planOutreach, type OutreachAssignment } from '../../../shared/scoring/outreach.ts';
import type { CustomerScore } from '../../../shared/scoring/score-customer.ts';
import { churnsAfterPlan, defaultOutreachEffect, trueChurnReduction } from '../../../local/synthetic/outreach-effect.ts';

const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);
const COVERED_WALD = 191;
const COVERED_BOOTSTRAP = 190;
const PLAN_DAY = '2026-11-30';
const MEASURED_ON = '2027-03-15';

function subscriber(customerId: string, cancelledOn?: string): CustomerProfile {
  const p = emptyProfile(customerId);
  const stamp = (value: never) => ({ value, at: '2025-01-01T10:00:00Z', by: `ev-${customerId}` });
  p.customerType = stamp('subscription' as never);
  p.firstSeenAt = '2025-01-01T10:00:00Z';
  p.subscriptions = {
    s1: {
      subscriptionId: 's1',
      productId: stamp('broadband' as never),
      monthlyPrice: stamp(39 as never),
      startedAt: '2025-01-01T10:00:00Z',
      lastStartedAt: '2025-01-01T10:00:00Z',
      ...(cancelledOn && { cancellation: { value: { reason: 'moving', allowWinbackContact: false }, at: `${cancelledOn}T09:00:00Z`, by: `ev-c-${customerId}` } }),
    },
  };
  return p;
}

const score = (customerId: string, clv: number, churnRisk: number): CustomerScore => ({
  customerId,
  kind: 'subscription',
  modelId: 'm',
  scoredOn: MEASURED_ON,
  clv,
  pAlive: 1 - churnRisk,
  modelChurnRisk: churnRisk,
  churnRisk,
  riskBand: 'high',
  valueTier: 'medium',
  nextBestAction: 'none',
  nextBestActionRule: 'none',
  activeTriggerRules: [],
});

function oneSeed(seed: number): { truth: number; wald: { low: number; high: number }; bootstrap: { low: number; high: number } } {
  const rng = new Rng(seed);
  const config = { ...defaultScoringConfig.outreach, experimentId: `truth-${seed}`, customersPerMonth: 400 };
  const customers = Array.from({ length: 1000 }, (_, i) => ({ customerId: `C${seed}-${i}`, clv: 100 + rng.gamma(2) * 400, churnRisk: 0.51 + 0.44 * rng.uniform() }));
  const workers = [0, 1, 2, 3].map(() => new TopN(config.customersPerMonth));
  customers.forEach((c, i) => {
    const cand = outreachCandidate(c, config);
    if (cand) workers[i % 4]!.offer(cand);
  });
  const plan = planOutreach({ ranked: mergeTopN(config.customersPerMonth, workers.map((w) => w.toArray())), existing: [], runDate: PLAN_DAY, runId: 'r', config });
  const byCustomer = new Map<string, OutreachAssignment>(plan.created.map((a) => [a.customerId, a]));
  const parts: ReportPart[] = [0, 1, 2, 3].map(() => emptyReportPart());
  customers.forEach((c, i) => {
    const a = byCustomer.get(c.customerId);
    const churned = a !== undefined && churnsAfterPlan(a, seed);
    const profile = subscriber(c.customerId, churned ? '2026-12-20' : undefined);
    parts[i % 4] = addCustomer(parts[i % 4]!, { profile, score: score(c.customerId, c.clv, c.churnRisk), ...(a && { assignments: [a] }) }, { runDate: MEASURED_ON, horizonMonths: 3 });
  });
  const merged = mergeReportParts(mergeReportParts(parts[0]!, parts[1]!), mergeReportParts(parts[2]!, parts[3]!));
  const f = reportFigures(merged, { runId: 'r', runDate: MEASURED_ON, generatedAt: new Date(0), settings: { bootstrap: { replicates: 1000, seed } } });
  const r = f.outreach.pooled!.churnReduction!;
  return { truth: trueChurnReduction(plan.created, defaultOutreachEffect), wald: r, bootstrap: r.bootstrap };
}

describe('truth check: the report recovers the simulated effect of outreach', () => {
  it(`95 % intervals cover the truth at about their nominal rate over seeds ${SEEDS[0]}–${SEEDS.at(-1)}`, () => {
    const runs = SEEDS.map(oneSeed);
    const covers = (i: { low: number; high: number }, t: number) => i.low <= t && t <= i.high;
    const wald = runs.filter((r) => covers(r.wald, r.truth)).length;
    const bootstrap = runs.filter((r) => covers(r.bootstrap, r.truth)).length;
    // The simulated truth is modest: a fifth of the mean churn risk (~0.73) of those planned.
    const meanTruth = runs.reduce((s, r) => s + r.truth, 0) / runs.length;
    expect(meanTruth).toBeGreaterThan(0.13);
    expect(meanTruth).toBeLessThan(0.16);
    expect({ wald, bootstrap }).toEqual({ wald: COVERED_WALD, bootstrap: COVERED_BOOTSTRAP });
    for (const covered of [wald, bootstrap]) {
      expect(covered).toBeGreaterThanOrEqual(181);
      expect(covered).toBeLessThanOrEqual(199);
    }
  });
});
