import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emittedSchemas } from '../../../shared/events/catalog.ts';
import { defaultScoringConfig } from '../../../shared/scoring/config.ts';
import {
  type OutreachAssignment,
  type OutreachCandidate,
  TopN,
  compareCandidates,
  mergeTopN,
  nightlyQuota,
  outreachCandidate,
  outreachGroup,
  outreachPlannedDetail,
  planOutreach,
} from '../../../shared/scoring/outreach.ts';

const cfg = defaultScoringConfig.outreach;
const cand = (customerId: string, rankValue: number): OutreachCandidate => ({ customerId, clv: rankValue, churnRisk: 0.9, rankValue });
const topOf = (n: number, items: readonly OutreachCandidate[]) => {
  const t = new TopN(n);
  for (const c of items) t.offer(c);
  return t.toArray();
};

/** Candidates with distinct ids; values from a small set so ties happen. */
const candidates = fc.uniqueArray(fc.record({ customerId: fc.string({ minLength: 1, maxLength: 6 }), rankValue: fc.constantFrom(0, 1, 2.5, 10, 10, 99) }), {
  selector: (c) => c.customerId,
  maxLength: 120,
}).map((cs) => cs.map((c) => cand(c.customerId, c.rankValue)));

describe('candidates', () => {
  it('only customers whose risk is above the threshold; ranked by CLV or by value at risk', () => {
    expect(outreachCandidate({ customerId: 'a', clv: 100, churnRisk: 0.5 }, { riskAbove: 0.5, rankBy: 'clv' })).toBeUndefined();
    expect(outreachCandidate({ customerId: 'a', clv: 100, churnRisk: 0.6 }, { riskAbove: 0.5, rankBy: 'clv' })).toEqual({ customerId: 'a', clv: 100, churnRisk: 0.6, rankValue: 100 });
    expect(outreachCandidate({ customerId: 'a', clv: 100, churnRisk: 0.6 }, { riskAbove: 0.5, rankBy: 'value-at-risk' })!.rankValue).toBeCloseTo(60, 12);
  });

  it('higher value first, ties by customer id', () => {
    const sorted = [cand('b', 5), cand('a', 5), cand('c', 9)].sort(compareCandidates);
    expect(sorted.map((c) => c.customerId)).toEqual(['c', 'a', 'b']);
  });
});

describe('bounded top-N keeper', () => {
  it('keeps the best N', () => {
    const items = [3, 9, 1, 7, 5, 8, 2].map((v, i) => cand(`c${i}`, v));
    expect(topOf(3, items).map((c) => c.rankValue)).toEqual([9, 8, 7]);
    expect(topOf(0, items)).toEqual([]);
    expect(topOf(10, items)).toHaveLength(7);
  });

  it('equals sorting everything and taking the first N (property)', () => {
    fc.assert(
      fc.property(candidates, fc.nat(30), (all, n) => {
        expect(topOf(n, all)).toEqual([...all].sort(compareCandidates).slice(0, n));
      }),
    );
  });

  it('merging the workers\' top-N lists equals the top N of the whole base, however it is split (property)', () => {
    fc.assert(
      fc.property(candidates, fc.nat(30), fc.array(fc.nat(4), { maxLength: 120 }), (all, n, split) => {
        const parts: OutreachCandidate[][] = [[], [], [], [], []];
        all.forEach((c, i) => parts[split[i] ?? 0]!.push(c));
        const merged = mergeTopN(n, parts.map((p) => topOf(n, p)));
        expect(merged).toEqual(topOf(n, all));
      }),
    );
  });

  it('merging is associative and commutative (property)', () => {
    fc.assert(
      fc.property(candidates, fc.nat(20), (all, n) => {
        const [a, b, c] = [all.filter((_, i) => i % 3 === 0), all.filter((_, i) => i % 3 === 1), all.filter((_, i) => i % 3 === 2)].map((p) => topOf(n, p));
        const left = mergeTopN(n, [mergeTopN(n, [a!, b!]), c!]);
        const right = mergeTopN(n, [a!, mergeTopN(n, [c!, b!])]);
        expect(left).toEqual(right);
      }),
    );
  });

  it('a customer in two lists counts once, at her better rank', () => {
    expect(mergeTopN(5, [[cand('a', 5)], [cand('a', 7), cand('b', 6)]])).toEqual([cand('a', 7), cand('b', 6)]);
  });
});

describe('nightly quota', () => {
  it('200 a month spread over 30 nights: 6 by the 1st, 100 by the 15th, 200 by the 30th', () => {
    expect(nightlyQuota('2026-11-01', 200, 0)).toEqual({ period: '2026-11', target: 6, quota: 6 });
    expect(nightlyQuota('2026-11-15', 200, 93)).toEqual({ period: '2026-11', target: 100, quota: 7 });
    expect(nightlyQuota('2026-11-30', 200, 193)).toMatchObject({ target: 200, quota: 7 });
  });

  it('missed nights are caught up; the month never exceeds its capacity', () => {
    expect(nightlyQuota('2026-11-03', 200, 0).quota).toBe(20);
    expect(nightlyQuota('2026-11-03', 200, 25).quota).toBe(0);
    // 31-day month, February of a leap year
    expect(nightlyQuota('2026-12-31', 200, 0).target).toBe(200);
    expect(nightlyQuota('2028-02-29', 58, 0).target).toBe(58);
    expect(nightlyQuota('2028-02-01', 58, 0).target).toBe(2);
  });
});

describe('planning and assignment', () => {
  const ranked = Array.from({ length: 50 }, (_, i) => cand(`C-${String(i).padStart(3, '0')}`, 1000 - i));
  const config = { ...cfg, customersPerMonth: 300 };

  it('plans the quota from the top of the ranking with the assignment record', () => {
    // 300 a month, night 1 of 30: 10
    const plan = planOutreach({ ranked, existing: [], runDate: '2026-11-01', runId: 'run-a', config });
    expect(plan.quota).toBe(10);
    expect(plan.created.map((a) => a.customerId)).toEqual(ranked.slice(0, 10).map((c) => c.customerId));
    expect(plan.tonight).toEqual(plan.created);
    expect(plan.created[0]).toMatchObject({ experimentId: 'outreach-v1', period: '2026-11', customerId: 'C-000', rank: 1, rankBy: 'clv', clv: 1000, churnRisk: 0.9, plannedOn: '2026-11-01', runId: 'run-a' });
    expect(plan.created[0]!.planId).toMatch(/^op-[0-9a-f]{32}$/);
    expect(new Set(plan.created.map((a) => a.planId)).size).toBe(10);
  });

  it('a rerun of the night returns the same plan and creates nothing', () => {
    const first = planOutreach({ ranked, existing: [], runDate: '2026-11-01', runId: 'run-a', config });
    const again = planOutreach({ ranked, existing: first.created, runDate: '2026-11-01', runId: 'run-b', config });
    expect(again.created).toEqual([]);
    expect(again.tonight).toEqual(first.tonight);
    // even with a different ranking (new events between the runs) nothing is added or reassigned
    const reshuffled = [...ranked].reverse();
    const third = planOutreach({ ranked: reshuffled, existing: first.created, runDate: '2026-11-01', runId: 'run-c', config });
    expect(third.created).toEqual([]);
    expect(third.tonight).toEqual(first.tonight);
  });

  it('a rerun after a partial write completes the night without duplicates', () => {
    const first = planOutreach({ ranked, existing: [], runDate: '2026-11-01', runId: 'run-a', config });
    const partial = first.created.slice(0, 4);
    const resumed = planOutreach({ ranked, existing: partial, runDate: '2026-11-01', runId: 'run-b', config });
    expect(resumed.tonight.map((a) => a.customerId)).toEqual(first.tonight.map((a) => a.customerId));
    expect(resumed.created.map((a) => a.customerId)).toEqual(first.created.slice(4).map((a) => a.customerId));
    // groups do not depend on the run
    expect(resumed.created.map((a) => a.group)).toEqual(first.created.slice(4).map((a) => a.group));
  });

  it('never plans a customer twice in a month; plans again in the next month with fresh groups (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 40 }), { minLength: 1, maxLength: 30 }), (nights) => {
        let existing: OutreachAssignment[] = [];
        nights.forEach((ids, i) => {
          const r = [...new Set(ids)].map((k) => cand(`C-${k}`, 100 - k));
          const runDate = `2026-11-${String(i + 1).padStart(2, '0')}`;
          const plan = planOutreach({ ranked: r, existing, runDate, runId: `run-${i}`, config: { ...cfg, customersPerMonth: 60 } });
          existing = [...existing, ...plan.created];
          expect(existing.length).toBeLessThanOrEqual(nightlyQuota(runDate, 60, 0).target);
        });
        expect(new Set(existing.map((a) => a.customerId)).size).toBe(existing.length);
      }),
    );
    const nov = planOutreach({ ranked, existing: [], runDate: '2026-11-30', runId: 'a', config });
    const dec = planOutreach({ ranked, existing: nov.created, runDate: '2026-12-31', runId: 'b', config });
    expect(dec.created.length).toBe(50);
    expect(dec.created.every((a) => a.period === '2026-12')).toBe(true);
  });

  it('a rerun with the stored assignments returns the same night and assigns nothing, whatever was stored before (property)', () => {
    const night = fc.record({
      ranked: candidates,
      day: fc.integer({ min: 1, max: 30 }),
      capacity: fc.integer({ min: 0, max: 400 }),
      earlier: fc.array(fc.record({ k: fc.nat(40), day: fc.integer({ min: 1, max: 30 }) }), { maxLength: 30 }),
    });
    fc.assert(
      fc.property(night, ({ ranked: r, day, capacity, earlier }) => {
        const c = { ...cfg, customersPerMonth: capacity };
        const runDate = `2026-11-${String(day).padStart(2, '0')}`;
        // assignments stored by earlier nights of the month (each customer once)
        const seen = new Set<string>();
        const existing = earlier
          .filter((e) => e.day < day && !seen.has(`C-${e.k}`) && seen.add(`C-${e.k}`))
          .map((e) => planOutreach({ ranked: [cand(`C-${e.k}`, 1)], existing: [], runDate: `2026-11-${String(e.day).padStart(2, '0')}`, runId: 'old', config: { ...c, customersPerMonth: 1_000_000 } }).created[0]!);
        const sorted = [...r].sort(compareCandidates);
        const first = planOutreach({ ranked: sorted, existing, runDate, runId: 'run-1', config: c });
        const stored = [...existing, ...first.created];
        const again = planOutreach({ ranked: sorted, existing: stored, runDate, runId: 'run-2', config: c });
        expect(again.created).toEqual([]);
        expect(again.tonight).toEqual(first.tonight);
        for (const a of first.created) expect(existing.some((e) => e.customerId === a.customerId)).toBe(false);
        expect(existing.length + first.created.length).toBeLessThanOrEqual(Math.max(existing.length, nightlyQuota(runDate, capacity, 0).target));
      }),
    );
  });

  it('groups: a salted hash of experiment and month, about half treated, stable across runs', () => {
    const ids = Array.from({ length: 4_000 }, (_, i) => `C-${i}`);
    const groups = ids.map((id) => outreachGroup(id, 'outreach-v1', '2026-11', 50));
    const treated = groups.filter((g) => g === 'treatment').length;
    expect(Math.abs(treated - 2_000)).toBeLessThan(5 * Math.sqrt(4_000 * 0.25));
    expect(ids.map((id) => outreachGroup(id, 'outreach-v1', '2026-11', 50))).toEqual(groups);
    const otherMonth = ids.map((id) => outreachGroup(id, 'outreach-v1', '2026-12', 50));
    expect(otherMonth).not.toEqual(groups);
    expect(ids.every((id) => outreachGroup(id, 'x', '2026-11', 0) === 'control')).toBe(true);
    expect(ids.every((id) => outreachGroup(id, 'x', '2026-11', 100) === 'treatment')).toBe(true);
  });

  it('the OutreachPlanned event is valid under the catalog', () => {
    const [a] = planOutreach({ ranked, existing: [], runDate: '2026-11-01', runId: 'run-a', config }).created;
    const detail = outreachPlannedDetail({ ...a!, customerId: 'x'.repeat(128) }, new Date('2026-11-02T02:00:00Z'));
    expect(emittedSchemas.OutreachPlanned.parse(detail)).toEqual(detail);
  });
});
