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
import { addResponses, emptyResponsePart } from '../../shared/report/response.ts';
import type { SendRecord } from '../../shared/ports.ts';
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

describe('the scoring view keeps what the campaign response reads', () => {
  it('counts opens, clicks and purchases in the window as on the full profile (a view without the responses would count none)', () => {
    const full = emptyProfile('c-resp');
    full.purchaseDays = { '2026-11-03': 40, '2026-11-20': 15 };
    full.emailResponses = {
      'ses-1': { messageId: 'ses-1', sendId: 'cross-sell#t1', campaign: 'cross-sell', opens: 3, clicks: 1, firstOpenAt: '2026-11-02T10:00:00.000Z', firstClickAt: '2026-11-02T10:05:00.000Z' },
      'ses-2': { messageId: 'ses-2', opens: 1, clicks: 0, firstOpenAt: '2026-11-19T08:00:00.000Z' },
    };
    const sends: SendRecord[] = [
      { sendId: 'cross-sell#t1', customerId: 'c-resp', campaign: 'cross-sell', status: 'sent', at: '2026-11-02T09:00:00.000Z', messageId: 'ses-1' },
      { sendId: 'up-sell#t2', customerId: 'c-resp', campaign: 'up-sell', status: 'sent', at: '2026-11-18T09:00:00.000Z', messageId: 'ses-2' },
    ];
    const context = { runDate: '2026-11-30', window: { attributionDays: 7, decisionDays: 28 } };
    const onFull = emptyResponsePart();
    addResponses(onFull, { profile: full, kind: 'adhoc', tier: 'high', sends }, context);
    const onView = emptyResponsePart();
    const view = JSON.parse(JSON.stringify(scoringViewOf(full))) as ReturnType<typeof scoringViewOf>;
    addResponses(onView, { profile: profileOfScoringView(emptyProfile('c-resp'), view), kind: 'adhoc', tier: 'high', sends }, context);
    expect(onView).toEqual(onFull);
    // by hand: the cross-sell opened, clicked and bought within 7 days; the up-sell opened and bought
    expect(onFull.cells['cross-sell']!['sent|adhoc|high']).toMatchObject({ decisions: 1, opened: 1, clicked: 1, purchased: 1 });
    expect(onFull.cells['up-sell']!['sent|adhoc|high']).toMatchObject({ decisions: 1, opened: 1, clicked: 0, purchased: 1 });
  });
});
