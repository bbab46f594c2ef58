/**
 * The domain pieces composed as the nightly run will compose them (without AWS): four
 * workers summarise their customers, the fit step merges their parts and fits, the workers
 * score, diff against the stored scores, keep their outreach top-N and summaries, and the
 * final step merges and plans. Run on the CDNOW sample as stored profiles, two nights in a row
 * with no new events between them.
 */
import { describe, expect, it } from 'vitest';
import type { CustomerProfile } from '../../../shared/customers/profile.ts';
import {
  type CustomerScore,
  type ModelRecord,
  type OutreachAssignment,
  type RunSummaryPart,
  TopN,
  countCustomer,
  defaultScoringConfig as config,
  diffScore,
  emptyGathered,
  emptyRunSummary,
  fitNightlyModels,
  gatherSummaries,
  mergeGathered,
  mergeRunSummaries,
  mergeTopN,
  nightlyQuota,
  outreachCandidate,
  planOutreach,
  scoreCustomer,
  scoreCustomerBatch,
  summarizeProfile,
} from '../../../shared/scoring/index.ts';
import { cdnowProfiles } from './helpers.ts';

type Night = { model: ModelRecord; summary: RunSummaryPart; plan: ReturnType<typeof planOutreach> };

function runNight(workers: CustomerProfile[][], runDate: string, stored: Map<string, CustomerScore>, previous: ModelRecord | undefined, existing: OutreachAssignment[]): Night {
  const gathered = workers.map((w) => gatherSummaries(w.map((p) => summarizeProfile(p, runDate)))).reduce(mergeGathered, emptyGathered());
  const fit = fitNightlyModels({ runId: `run-${runDate}`, runDate, gathered, sampleShare: 1, previous, config });
  const { quota } = nightlyQuota(runDate, config.outreach.customersPerMonth, existing.length);
  const keep = quota + existing.length;
  const parts = workers.map((w) => {
    let summary = emptyRunSummary();
    const top = new TopN(keep);
    // in batches of 100, as BatchGetItem returns the profiles
    const outcomes = [];
    for (let s = 0; s < w.length; s += 100) outcomes.push(...scoreCustomerBatch(w.slice(s, s + 100).map((profile) => ({ profile, triggers: [], stored: stored.get(profile.customerId) })), { model: fit.model, runDate, config }));
    for (const [k, profile] of w.entries()) {
      const o = outcomes[k]!;
      if (o.status !== 'scored') {
        summary = countCustomer(summary, { status: 'skipped', reason: o.status });
        continue;
      }
      const change = diffScore(stored.get(profile.customerId), o.score, config.writeThresholds);
      if (change.write) stored.set(profile.customerId, o.score);
      summary = countCustomer(summary, change.write ? { status: 'written', emitted: change.emit } : { status: 'unchanged' });
      const c = outreachCandidate(o.score, config.outreach);
      if (c) top.offer(c);
    }
    return { summary, top: top.toArray() };
  });
  const summary = parts.map((p) => p.summary).reduce(mergeRunSummaries, emptyRunSummary());
  const ranked = mergeTopN(keep, parts.map((p) => p.top));
  const plan = planOutreach({ ranked, existing, runDate, runId: `run-${runDate}`, config: config.outreach });
  return { model: fit.model, summary, plan };
}

describe('two nights on the CDNOW sample', () => {
  const profiles = [...cdnowProfiles('1997-09-30').values()];
  const workers = [0, 1, 2, 3].map((k) => profiles.filter((_, i) => i % 4 === k));
  const stored = new Map<string, CustomerScore>();
  const first = runNight(workers, '1997-09-30', stored, undefined, []);
  const second = runNight(workers, '1997-10-01', stored, first.model, first.plan.created);

  it('the first night writes and emits every customer', () => {
    expect(first.summary).toMatchObject({ customersRead: 2357, written: 2357, emitted: 2357, unchanged: 0, skipped: 0, failed: 0 });
  });

  it('a second night with no new events writes under 1 % of the customers', () => {
    expect(second.summary.customersRead).toBe(2357);
    expect(second.summary.written).toBeGreaterThan(0);
    expect(second.summary.written).toBeLessThan(2357 * 0.01);
    expect(second.summary.emitted).toBeLessThanOrEqual(second.summary.written);
  });

  it('the outreach plan is the top of the whole base by CLV among those at risk, split into two groups', () => {
    // 200 a month, September has 30 nights: floor(200 × 30/30) = 200 by the 30th
    expect(first.plan.quota).toBe(200);
    expect(first.plan.created).toHaveLength(200);
    const atRisk = profiles
      .map((profile) => scoreCustomer({ profile, triggers: [], model: first.model, runDate: '1997-09-30', config }))
      .flatMap((o) => (o.status === 'scored' && o.score.churnRisk > config.outreach.riskAbove ? [o.score] : []))
      .sort((a, b) => b.clv - a.clv || (a.customerId < b.customerId ? -1 : 1));
    expect(first.plan.created.map((a) => a.customerId)).toEqual(atRisk.slice(0, 200).map((s) => s.customerId));
    const treated = first.plan.created.filter((a) => a.group === 'treatment').length;
    expect(treated).toBeGreaterThan(60);
    expect(treated).toBeLessThan(140);
    // October: a new month, 200/31 → 6 on the 1st, none of them planned again in October before
    expect(second.plan.period).toBe('1997-10');
    expect(second.plan.created).toHaveLength(6);
  });
});
