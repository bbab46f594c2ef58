/**
 * The scoring view (shared/scoring/scoring-view.ts) holds everything the nightly run reads of a
 * profile: over the synthetic base (fixed seed, replayed through the in-memory ingest), scoring
 * and the report aggregate give exactly the same results on the profile built back from the view
 * (through JSON, as the table keeps it) as on the full profile, at several run dates and with
 * outreach assignments; the view is a fraction of the profile's size and carries no email or name.
 */
import { describe, expect, it } from 'vitest';
import { generate } from '../../local/synthetic/generate.ts';
import { busEnvelope, createPipeline } from '../../shared/pipeline/run-pipeline.ts';
import { InMemoryCustomerStore } from '../../shared/pipeline/in-memory-ports.ts';
import { emptyProfile } from '../../shared/customers/profile.ts';
import { addCustomer, emptyReportPart, finishPart } from '../../shared/report/aggregate.ts';
import { defaultScoringConfig, fitNightlyModels, gatherSummaries, scoreCustomerBatch, summarizeProfile } from '../../shared/scoring/index.ts';
import { isScoringView, profileOfScoringView, scoringViewOf } from '../../shared/scoring/scoring-view.ts';
import type { OutreachAssignment } from '../../shared/scoring/outreach.ts';

const now = new Date('2026-12-01T00:00:00Z');

describe('the scoring view scores and reports as the full profile', async () => {
  const data = await generate({ customers: 1500, seed: 7, now, malformed: false });
  const pipeline = createPipeline({ now: () => now });
  await pipeline.run(data.entries.flatMap((e, i) => busEnvelope(e, `v-${i}`) ?? []));
  const store = pipeline.store as InMemoryCustomerStore;
  const full = await Promise.all(store.customerIds().map(async (id) => (await store.getProfile(id))!));
  const viewed = full.map((p) => {
    const stored = JSON.parse(JSON.stringify(scoringViewOf(p))) as unknown;
    expect(isScoringView(stored)).toBe(true);
    return profileOfScoringView(emptyProfile(p.customerId), stored as never);
  });

  for (const runDate of ['2026-11-30', '2026-06-15']) {
    it(`scores and report parts are equal as of ${runDate}`, () => {
      const model = fitNightlyModels({ runId: 'v', runDate, gathered: gatherSummaries(full.map((p) => summarizeProfile(p, runDate))), sampleShare: 1, config: defaultScoringConfig }).model;
      const triggers = [{ rule: 'payment-failed', action: 'retention-save' as const, churnRiskBoost: 0.3, firedAt: `${runDate}T10:00:00.000Z` }];
      const inputs = (ps: typeof full) => ps.map((profile, i) => ({ profile, triggers: i % 7 === 0 ? triggers : [] }));
      const context = { model, runDate, config: defaultScoringConfig };
      const a = scoreCustomerBatch(inputs(full), context);
      const b = scoreCustomerBatch(inputs(viewed), context);
      expect(b).toEqual(a);
      expect(a.filter((o) => o.status === 'scored').length).toBeGreaterThan(1000);
      const assignment = (customerId: string, i: number): OutreachAssignment[] =>
        i % 5 === 0 ? [{ experimentId: 'x', period: '2026-03', customerId, group: i % 2 ? 'treatment' : 'control', rank: i, clv: 10, churnRisk: 0.5, plannedOn: '2026-03-10', runId: 'r', planId: 'p' } as never] : [];
      const report = (ps: typeof full) => {
        const part = emptyReportPart();
        ps.forEach((profile, i) => {
          const o = a[i]!;
          if (o.status === 'scored') addCustomer(part, { profile, score: o.score, assignments: assignment(profile.customerId, i) }, { runDate, horizonMonths: defaultScoringConfig.churn.horizonMonths });
        });
        return finishPart(part);
      };
      expect(report(viewed)).toEqual(report(full));
    });
  }

  it('is a fraction of the profile and holds nothing personal', () => {
    const size = (xs: unknown[]) => xs.reduce((s: number, x) => s + JSON.stringify(x).length, 0) / xs.length;
    const views = full.map(scoringViewOf);
    expect(size(views)).toBeLessThan(size(full) / 3);
    const text = JSON.stringify(views);
    for (const p of full.slice(0, 200)) {
      if (p.email) expect(text).not.toContain(p.email.value);
      if (p.firstName) expect(text).not.toContain(`"${p.firstName.value}"`);
    }
  });
});
