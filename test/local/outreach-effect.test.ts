import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { validateInbound } from '../../shared/events/validate.ts';
import type { OutreachAssignment } from '../../shared/scoring/outreach.ts';
import { churnsAfterPlan, followUpChurnProbability, followUpEvents, trueChurnReduction } from '../../local/synthetic/outreach-effect.ts';

const assignment = (i: number, group: 'treatment' | 'control', churnRisk = 0.6): OutreachAssignment => ({
  planId: `op-${String(i).padStart(32, '0')}`,
  experimentId: 'x',
  period: '2026-11',
  customerId: `C${i}`,
  group,
  rank: i,
  rankBy: 'clv',
  clv: 500,
  churnRisk,
  plannedOn: '2026-11-30',
  runId: 'r',
});

describe('the synthetic effect of outreach', () => {
  it('lowers a treated customer\'s chance of churning by the relative reduction', () => {
    expect(followUpChurnProbability(assignment(1, 'control', 0.6))).toBeCloseTo(0.6, 12);
    expect(followUpChurnProbability(assignment(1, 'treatment', 0.6))).toBeCloseTo(0.48, 12);
    expect(followUpChurnProbability(assignment(1, 'treatment', 0.6), { relativeChurnReduction: 0.5 })).toBeCloseTo(0.3, 12);
    expect(trueChurnReduction([{ churnRisk: 0.6 }, { churnRisk: 0.8 }])).toBeCloseTo(0.14, 12);
  });

  it('draws outcomes at those rates, the same for the same seed', () => {
    const rate = (group: 'treatment' | 'control', seed: number) => Array.from({ length: 20_000 }, (_, i) => churnsAfterPlan(assignment(i, group), seed)).filter(Boolean).length / 20_000;
    // standard errors ≈ 0.0035
    expect(rate('control', 1)).toBeCloseTo(0.6, 1);
    expect(rate('treatment', 1)).toBeCloseTo(0.48, 1);
    expect(Math.abs(rate('treatment', 1) - 0.48)).toBeLessThan(0.015);
    expect(rate('control', 1)).toBe(rate('control', 1));
    expect(rate('control', 2)).not.toBe(rate('control', 1));
  });

  it('turns a churning subscriber into valid cancellations of her active subscriptions within the horizon', () => {
    let p = emptyProfile('C1');
    p = applyEvent(p, { type: 'SubscriptionStarted', source: 't', detail: { eventId: 'e1', customerId: 'C1', occurredAt: '2025-01-01T00:00:00Z', subscriptionId: 's1', productId: 'tv', plan: 'start', monthlyPrice: 15, currency: 'EUR' } } as never);
    const churning = Array.from({ length: 50 }, (_, i) => ({ ...assignment(i, 'control', 1), customerId: 'C1' }));
    for (const a of churning) {
      const events = followUpEvents(a, p, { seed: 3, horizonMonths: 3 });
      expect(events).toHaveLength(1);
      const e = events[0]!;
      const detail = JSON.parse(e.Detail);
      expect(detail).toMatchObject({ customerId: 'C1', subscriptionId: 's1', productId: 'tv' });
      expect(detail.occurredAt > '2026-12-01').toBe(true);
      expect(detail.occurredAt < '2027-03-02').toBe(true);
      expect(validateInbound({ source: e.Source, 'detail-type': e.DetailType, detail }, new Date('2027-03-02T00:00:00Z')).ok).toBe(true);
    }
    // nobody churns at risk 0, and a buyer without a subscription has nothing to cancel
    expect(followUpEvents(assignment(1, 'control', 0), p, { seed: 3, horizonMonths: 3 })).toEqual([]);
    expect(followUpEvents(assignment(1, 'control', 1), emptyProfile('C2'), { seed: 3, horizonMonths: 3 })).toEqual([]);
  });
});
