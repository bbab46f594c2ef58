import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyProfile } from '../../../shared/customers/profile.ts';
import { gatherSummaries, gatheredCustomers, mergeGathered } from '../../../shared/scoring/gathered-summaries.ts';
import { type ModelSummary, fitSampleShare, inFitSample, summarizeProfile, wholeMonthsBetween } from '../../../shared/scoring/profile-summary.ts';
import { loadCdnowSummary } from '../../clv/helpers.ts';
import { cdnowProfiles } from './helpers.ts';

const stamp = <T>(value: T, at = '2026-01-01T00:00:00.000Z') => ({ value, at, by: 'e' });

describe('summary from a stored profile', () => {
  it('reproduces the published CDNOW calibration summary (weeks, as of 1997-09-30) for all 2,357 customers', () => {
    const profiles = cdnowProfiles();
    const ref = loadCdnowSummary();
    expect(profiles.size).toBe(2357);
    for (let i = 0; i < ref.id.length; i++) {
      const s = summarizeProfile(profiles.get(String(ref.id[i]))!, '1997-09-30');
      expect(s.kind).toBe('adhoc');
      if (s.kind !== 'adhoc') continue;
      expect(s.frequency).toBe(ref.frequency[i]);
      // the file is rounded to 2 decimals
      expect(Math.abs(s.recency - ref.recency[i]!)).toBeLessThanOrEqual(0.005);
      expect(Math.abs(s.T - ref.T[i]!)).toBeLessThanOrEqual(0.005);
      expect(Math.abs(s.monetary - ref.monetary[i]!)).toBeLessThanOrEqual(0.0051);
    }
  });

  it('counts one purchase per day, leaves the first day out of the mean spend and ignores days after the as-of day', () => {
    const p = emptyProfile('c');
    p.purchaseDays = { '2026-01-01': 10, '2026-01-08': 30, '2026-01-22': 50, '2026-03-01': 999 };
    expect(summarizeProfile(p, '2026-01-29')).toEqual({ kind: 'adhoc', frequency: 2, recency: 3, T: 4, monetary: 40 });
    // the as-of day itself counts
    expect(summarizeProfile(p, '2026-01-22')).toMatchObject({ frequency: 2, recency: 3, T: 3 });
    expect(summarizeProfile(p, '2025-12-31')).toEqual({ kind: 'none' });
  });

  it('a one-time buyer has x = 0, recency 0 and monetary 0', () => {
    const p = emptyProfile('c');
    p.purchaseDays = { '2026-01-01': 25 };
    expect(summarizeProfile(p, '2026-01-15')).toEqual({ kind: 'adhoc', frequency: 0, recency: 0, T: 2, monetary: 0 });
  });

  it('subscribers: whole months since the spell started; churned at renewal decision months+1', () => {
    const p = emptyProfile('s');
    p.customerType = stamp('subscription' as const);
    p.subscriptions.a = { subscriptionId: 'a', startedAt: '2025-01-15T10:00:00.000Z', lastStartedAt: '2025-01-15T10:00:00.000Z', monthlyPrice: stamp(20) };
    p.subscriptions.b = { subscriptionId: 'b', startedAt: '2025-06-01T10:00:00.000Z', lastStartedAt: '2025-06-01T10:00:00.000Z', monthlyPrice: stamp(5) };
    // Jan 15 → Apr 14 is 2 whole months, Apr 15 is 3
    expect(summarizeProfile(p, '2025-04-14')).toEqual({ kind: 'subscription', active: true, renewals: 2, tenure: { periods: 2, churned: false }, monthlyValue: 20 });
    expect(summarizeProfile(p, '2025-06-15')).toEqual({ kind: 'subscription', active: true, renewals: 5, tenure: { periods: 5, churned: false }, monthlyValue: 25 });
    p.subscriptions.a.cancellation = { value: { reason: 'price', allowWinbackContact: true }, at: '2025-08-20T00:00:00.000Z', by: 'x' };
    p.subscriptions.b.cancellation = { value: { reason: 'price', allowWinbackContact: true }, at: '2025-09-02T00:00:00.000Z', by: 'y' };
    // on 2025-08-25, b is still active (3 months since June 1)
    expect(summarizeProfile(p, '2025-08-25')).toMatchObject({ active: true, renewals: 2, monthlyValue: 5 });
    // later both ended; b ended last: June 1 → Sep 2 is 3 renewals, churned at the 4th decision
    expect(summarizeProfile(p, '2025-10-01')).toEqual({ kind: 'subscription', active: false, renewals: 3, tenure: { periods: 4, churned: true }, monthlyValue: undefined });
    // a restart after the cancellation opens a new spell
    p.subscriptions.b.lastStartedAt = '2025-11-10T00:00:00.000Z';
    expect(summarizeProfile(p, '2026-01-10')).toMatchObject({ active: true, renewals: 2 });
  });

  it('a profile with subscriptions and no declared type is a subscription customer; none at all is ad-hoc with no history', () => {
    const p = emptyProfile('s');
    p.subscriptions.a = { subscriptionId: 'a', startedAt: '2025-01-15T10:00:00.000Z', lastStartedAt: '2025-01-15T10:00:00.000Z' };
    expect(summarizeProfile(p, '2025-01-20')).toMatchObject({ kind: 'subscription', renewals: 0, monthlyValue: undefined });
    expect(summarizeProfile(p, '2025-01-01')).toEqual({ kind: 'none' });
    expect(summarizeProfile(emptyProfile('n'), '2025-01-01')).toEqual({ kind: 'none' });
  });

  it('whole months count a month at its day-of-month anniversary', () => {
    expect(wholeMonthsBetween('2025-01-31T00:00:00Z', '2025-02-28T00:00:00Z')).toBe(0);
    expect(wholeMonthsBetween('2025-01-31T00:00:00Z', '2025-03-31T00:00:00Z')).toBe(2);
    expect(wholeMonthsBetween('2024-12-10T00:00:00Z', '2025-12-10T00:00:00Z')).toBe(12);
  });
});

describe('fit sample', () => {
  const ids = Array.from({ length: 20_000 }, (_, i) => `C-${i}`);

  it('takes everybody up to the configured size, then a share', () => {
    expect(fitSampleShare(5_000, 10_000)).toBe(1);
    expect(fitSampleShare(40_000, 10_000)).toBe(0.25);
    expect(() => fitSampleShare(10, 0)).toThrow(RangeError);
  });

  it('the sample has about the requested size (within 5 standard deviations) and is stable for a salt', () => {
    const picked = ids.filter((id) => inFitSample(id, 'v1', 0.25));
    const sd = Math.sqrt(ids.length * 0.25 * 0.75);
    expect(Math.abs(picked.length - 5_000)).toBeLessThan(5 * sd);
    expect(ids.filter((id) => inFitSample(id, 'v1', 0.25))).toEqual(picked);
    const other = ids.filter((id) => inFitSample(id, 'v2', 0.25));
    const overlap = other.filter((id) => picked.includes(id)).length;
    // independent salts: overlap ≈ 20,000 × 0.25 × 0.25 = 1,250
    expect(Math.abs(overlap - 1_250)).toBeLessThan(5 * Math.sqrt(20_000 * 0.0625 * 0.9375));
  });

  it('a smaller share is a subset of a larger one (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (id, s1, s2) => {
        const [lo, hi] = s1 < s2 ? [s1, s2] : [s2, s1];
        if (inFitSample(id, 'v1', lo)) expect(inFitSample(id, 'v1', hi)).toBe(true);
      }),
    );
  });
});

describe('gathered summaries', () => {
  const summary = fc.oneof(
    fc.record({ kind: fc.constant('adhoc' as const), frequency: fc.integer({ min: 0, max: 3 }), recency: fc.integer({ min: 0, max: 3 }), T: fc.constant(5), monetary: fc.constantFrom(0, 10, 12.5) }),
    fc.record({ kind: fc.constant('subscription' as const), active: fc.boolean(), renewals: fc.constant(0), monthlyValue: fc.constantFrom(undefined, 9), tenure: fc.record({ periods: fc.integer({ min: 1, max: 4 }), churned: fc.boolean() }) }),
    fc.constant({ kind: 'none' as const }),
  ) as fc.Arbitrary<ModelSummary>;

  it('compresses equal rows with counts', () => {
    const g = gatherSummaries([
      { kind: 'adhoc', frequency: 1, recency: 2, T: 5, monetary: 10 },
      { kind: 'adhoc', frequency: 1, recency: 2, T: 5, monetary: 10 },
      { kind: 'adhoc', frequency: 0, recency: 0, T: 5, monetary: 0 },
      { kind: 'subscription', active: true, renewals: 3, tenure: { periods: 3, churned: false }, monthlyValue: 9 },
      { kind: 'none' },
    ]);
    expect(g.adHoc).toEqual([
      { frequency: 0, recency: 0, T: 5, monetary: 0, count: 1 },
      { frequency: 1, recency: 2, T: 5, monetary: 10, count: 2 },
    ]);
    expect(g.tenures).toEqual([{ periods: 3, churned: false, monthlyValue: 9, count: 1 }]);
    expect(g.withoutHistory).toBe(1);
    expect(gatheredCustomers(g)).toEqual({ adHoc: 3, subscription: 1 });
  });

  it('gathering in parts and merging in any grouping equals gathering everything at once (property)', () => {
    fc.assert(
      fc.property(fc.array(summary, { maxLength: 40 }), fc.array(summary, { maxLength: 40 }), fc.array(summary, { maxLength: 40 }), (a, b, c) => {
        const [ga, gb, gc] = [a, b, c].map(gatherSummaries);
        const whole = gatherSummaries([...a, ...b, ...c]);
        expect(mergeGathered(mergeGathered(ga!, gb!), gc!)).toEqual(whole);
        expect(mergeGathered(ga!, mergeGathered(gc!, gb!))).toEqual(whole);
      }),
    );
  });
});
