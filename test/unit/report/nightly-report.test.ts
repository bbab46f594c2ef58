/**
 * The report's aggregate inside the nightly run (in-memory ports, CDNOW sample as profiles):
 * every scoring worker adds its customers to a part carried through JSON between invocations,
 * the finish step merges the parts and stores the night's part, and the next night's workers
 * follow the outreach assignments planned the night before.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { InMemoryCustomerStore, InMemoryEventPublisher, InMemoryReportStore, InMemoryScoringStore } from '../../../shared/pipeline/in-memory-ports.ts';
import type { StoredReportPart } from '../../../shared/ports.ts';
import { reportPartSchema } from '../../../shared/report/part-schema.ts';
import { followedAssignments, reportPeriodCount, reportPeriods } from '../../../shared/report/nightly.ts';
import { reportFigures } from '../../../shared/report/figures.ts';
import { defaultScoringConfig as config, type NightlyDeps } from '../../../shared/scoring/index.ts';
import { runNight } from '../../support/nightly.ts';
import { cdnowProfiles } from '../scoring/helpers.ts';

describe('the nightly run keeps the report aggregate', () => {
  const customers = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
  for (const p of cdnowProfiles('1997-10-01').values()) customers.loadProfile(p);
  const store = new InMemoryScoringStore(customers);
  const reports = new InMemoryReportStore();
  let t = Date.parse('1997-10-01T02:00:00Z');
  const deps: NightlyDeps = { store, publisher: new InMemoryEventPublisher(), config, now: () => new Date((t += 7)), reports };
  let first: StoredReportPart;
  let second: StoredReportPart;
  let planned: { treated: number; planned: number };
  beforeAll(async () => {
    const n1 = await runNight(deps, { runId: 'run-1997-09-30', runDate: '1997-09-30' }, { pageSize: 25, pagesPerInvocation: 2 });
    planned = { treated: n1.outreach.treated, planned: n1.outreach.planned };
    first = (await reports.latestReportPart())!;
    await runNight(deps, { runId: 'run-1997-10-01', runDate: '1997-10-01' });
    second = (await reports.latestReportPart())!;
  });

  it('stores one merged part a night, counting every scored customer once', () => {
    expect(first).toMatchObject({ runId: 'run-1997-09-30', runDate: '1997-09-30' });
    expect(second).toMatchObject({ runId: 'run-1997-10-01', runDate: '1997-10-01' });
    for (const s of [first, second]) {
      expect(reportPartSchema.safeParse(s.part).success).toBe(true);
      expect(s.part.customers).toBe(2357);
      expect(s.part.best.top.customers + s.part.best.rest.customers).toBe(2357);
      const survived = Object.values(s.part.survival.all!).reduce((n, [e, c]) => n + e + c, 0);
      expect(survived).toBe(2357);
    }
    // the top value tier is the top CLV decile of the fit sample (everybody here)
    expect(second.part.best.top.customers / 2357).toBeCloseTo(0.1, 1);
  });

  it('follows the assignments planned on an earlier night', () => {
    expect(first.part.outreach).toEqual({});
    const sept = second.part.outreach['1997-09']!;
    expect(sept.treatment!.assigned).toBe(planned.treated);
    expect(sept.treatment!.assigned + sept.control!.assigned).toBe(planned.planned);
    // ad-hoc buyers: the outcome is known only after the churn horizon
    expect(sept.treatment!.observed + sept.control!.observed).toBe(0);
    const f = reportFigures(second.part, { runId: second.runId, runDate: second.runDate, generatedAt: new Date(0) });
    expect(f.outreach.verdict).toMatch(/^Outreach to the top \d+ at-risk customers a month: no outcome is known yet \(0 of 200 observed\), at a cost of €[\d,]+ a month: not yet measurable\.$/);
  });

  it('follows the churn horizon + 2 months up to the run date (an ad-hoc outcome is known after the horizon)', () => {
    expect(reportPeriods('1997-10-01', reportPeriodCount(3))).toEqual(['1997-06', '1997-07', '1997-08', '1997-09', '1997-10']);
    expect(reportPeriods('2027-01-31', 3)).toEqual(['2026-11', '2026-12', '2027-01']);
  });
});

describe('the nightly run counts campaign response from the send ledgers', () => {
  // CDNOW's customers 1–4 get hand-made September purchases and ledger entries; the night of
  // 1997-10-01 counts the decisions of 1997-09-03 … 1997-09-24 (W = 7 days, 22 decision days).
  const customers = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
  const profiles = cdnowProfiles('1997-08-31');
  const days: Record<string, Record<string, number>> = { '1': { '1997-09-12': 10 }, '2': { '1997-09-20': 5 }, '3': { '1997-09-16': 7 } };
  for (const p of profiles.values()) {
    const own = days[p.customerId];
    customers.loadProfile({
      ...p,
      purchaseDays: { ...p.purchaseDays, ...own },
      ...(p.customerId === '1' && { emailResponses: { m1: { messageId: 'm1', opens: 1, clicks: 0, firstOpenAt: '1997-09-10T12:00:00.000Z' } } }),
    });
  }
  const store = new InMemoryScoringStore(customers);
  const reports = new InMemoryReportStore();
  let t = Date.parse('1997-10-01T02:00:00Z');
  const responseConfig = { ...config, campaignResponse: { attributionDays: 7, decisionDays: 22 } };
  const deps: NightlyDeps = { store, publisher: new InMemoryEventPublisher(), config: responseConfig, now: () => new Date((t += 7)), reports };
  let stored: StoredReportPart;
  beforeAll(async () => {
    const entry = (customerId: string, sendId: string, status: 'sent' | 'control' | 'skipped', at: string, reason?: string) =>
      customers.completeSend({ sendId, customerId, campaign: 'cross-sell', status, at, ...(reason && { reason }), ...(status === 'sent' && { messageId: `m${customerId}` }) });
    await entry('1', 'cross-sell#t1', 'sent', '1997-09-10T10:00:00.000Z');
    await entry('2', 'cross-sell#t2', 'control', '1997-09-10T10:00:00.000Z', 'control group (10%)'); // bought on D + 10: outside
    await entry('3', 'cross-sell#t3', 'control', '1997-09-15T10:00:00.000Z', 'global holdout (5%)');
    await entry('4', 'cross-sell#t4', 'sent', '1997-09-30T10:00:00.000Z'); // its window is still open
    await entry('4', 'cross-sell#t5', 'skipped', '1997-09-10T10:00:00.000Z', 'frequency-cap');
    await entry('5', 'cross-sell#t6', 'sent', '1997-09-02T10:00:00.000Z'); // before the first decision day
    await runNight(deps, { runId: 'run-1997-10-01', runDate: '1997-10-01' }, { pageSize: 25, pagesPerInvocation: 2 });
    stored = (await reports.latestReportPart())!;
  });

  it('adds each decision whose window has closed to the merged part, once', () => {
    const r = stored.part.response;
    expect(r).toMatchObject({ attributionDays: 7, decidedFrom: '1997-09-03', decidedTo: '1997-09-24' });
    const byGroup = (group: string) =>
      Object.entries(r.cells['cross-sell']!)
        .filter(([k]) => k.startsWith(`${group}|`))
        .map(([, c]) => c);
    expect(byGroup('sent')).toEqual([{ decisions: 1, opened: 1, clicked: 0, purchased: 1, spend: { n: 1, sum: 10, sumSq: 100 } }]);
    expect(byGroup('control')).toEqual([{ decisions: 1, opened: 0, clicked: 0, purchased: 0, spend: { n: 1, sum: 0, sumSq: 0 } }]);
    expect(byGroup('holdout')).toEqual([{ decisions: 1, opened: 0, clicked: 0, purchased: 1, spend: { n: 1, sum: 7, sumSq: 49 } }]);
    expect(reportPartSchema.safeParse(stored.part).success).toBe(true);
    const f = reportFigures(stored.part, { runId: stored.runId, runDate: stored.runDate, generatedAt: new Date(0) });
    expect(f.campaignResponse.status).toBe('recorded');
    expect(f.campaignResponse.rows[0]).toMatchObject({ campaign: 'cross-sell', slice: 'all', sent: { decisions: 1 }, heldBack: { decisions: 2, holdout: 1, control: 1 } });
  });
});

describe('followedAssignments', () => {
  const a = (customerId: string, period: string, plannedOn: string) => ({ planId: `op-${customerId}`, experimentId: 'x', period, customerId, group: 'control' as const, rank: 1, rankBy: 'clv' as const, clv: 1, churnRisk: 0.9, plannedOn, runId: 'r' });
  it('reads the followed periods once per night and store, without the assignments planned on the run date or later', async () => {
    const calls: string[] = [];
    const store = {
      outreachAssignments: async (_: string, period: string) => {
        calls.push(period);
        return period === '2026-11' ? [a('C1', '2026-11', '2026-11-20'), a('C2', '2026-11', '2026-11-30')] : period === '2026-09' ? [a('C1', '2026-09', '2026-09-30')] : [];
      },
    };
    const first = await followedAssignments(store, 'x', '2026-11-30', 3);
    expect([...first.keys()]).toEqual(['C1']);
    expect(first.get('C1')!.map((x) => x.period)).toEqual(['2026-09', '2026-11']);
    expect(calls).toEqual(['2026-07', '2026-08', '2026-09', '2026-10', '2026-11']);
    expect(await followedAssignments(store, 'x', '2026-11-30', 3)).toBe(first);
    expect(calls).toHaveLength(5);
    await followedAssignments(store, 'x', '2026-12-01', 3);
    expect(calls).toHaveLength(10);
  });
});
