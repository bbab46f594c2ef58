import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { validateInbound } from '../../shared/events/validate.ts';
import type { OutreachAssignment } from '../../shared/scoring/outreach.ts';
import { churnsAfterPlan, followUpChurnProbability, followUpEvents, trueChurnReduction } from '../../local/synthetic/outreach-effect.ts';
import { followUpDays, outreachFollowUp } from '../../local/outreach-follow-up.ts';
import { InMemoryCustomerStore, InMemoryScoringStore } from '../../shared/pipeline/in-memory-ports.ts';

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

describe('the local run\'s outreach follow-up (--outreach-effect)', () => {
  it('makes the customers planned that night churn or stay over the horizon: churning subscribers cancel, ad-hoc buyers who stay buy again', async () => {
    const customers = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
    const store = new InMemoryScoringStore(customers);
    const planned: OutreachAssignment[] = [];
    for (let i = 0; i < 400; i++) {
      const id = `C${i}`;
      const subscriber = i % 4 !== 0;
      let p = emptyProfile(id);
      if (subscriber) p = applyEvent(p, { type: 'SubscriptionStarted', source: 't', detail: { eventId: `e${i}`, customerId: id, occurredAt: '2025-01-01T00:00:00Z', subscriptionId: `s${i}`, productId: 'tv', plan: 'start', monthlyPrice: 15, currency: 'EUR' } } as never);
      else p = applyEvent(p, { type: 'OrderPlaced', source: 't', detail: { eventId: `e${i}`, customerId: id, occurredAt: '2026-10-01T00:00:00Z', orderId: `o${i}`, amount: 20, currency: 'EUR' } } as never);
      customers.loadProfile(p);
      const a = { ...assignment(i, i % 2 ? 'treatment' : 'control', 0.7), customerId: id, experimentId: 'outreach-v1', plannedOn: i < 300 ? '2026-11-24' : '2026-11-23' };
      await store.putOutreachAssignment(a);
      if (i < 300) planned.push(a);
    }
    const effect = { relativeChurnReduction: 0.5 };
    const f = await outreachFollowUp(store, { experimentId: 'outreach-v1', runDate: '2026-11-24', seed: 7, horizonMonths: 3, effect });
    // only tonight's plan, not the night before's
    expect(f.planned.map((a) => a.customerId).sort()).toEqual(planned.map((a) => a.customerId).sort());
    const churns = (a: OutreachAssignment) => churnsAfterPlan(a, 7, effect);
    expect(f.churning).toBe(planned.filter(churns).length);
    const subscriber = (a: OutreachAssignment) => Number(a.customerId.slice(1)) % 4 !== 0;
    const of = (type: string) => f.entries.filter((e) => e.DetailType === type).map((e) => JSON.parse(e.Detail) as { customerId: string; occurredAt: string; amount?: number });
    expect(of('SubscriptionCancelled').map((c) => c.customerId).sort()).toEqual(planned.filter((a) => subscriber(a) && churns(a)).map((a) => a.customerId).sort());
    expect(of('OrderPlaced').map((c) => c.customerId).sort()).toEqual(planned.filter((a) => !subscriber(a) && !churns(a)).map((a) => a.customerId).sort());
    for (const o of of('OrderPlaced')) expect(o.amount).toBe(20);
    for (const e of f.entries) expect(validateInbound({ source: e.Source, 'detail-type': e.DetailType, detail: JSON.parse(e.Detail) }, new Date('2027-02-24T11:00:00Z')).ok).toBe(true);
    // dated in the horizon after the plan: from the next day to the day the next night scores (92 days on)
    expect(followUpDays(3)).toBe(92);
    for (const e of f.entries) {
      const at = JSON.parse(e.Detail).occurredAt as string;
      expect(at >= '2026-11-25T10:00:00Z' && at <= '2027-02-24T10:00:00Z', at).toBe(true);
    }
    // treated churn less: 0.35 against 0.7 of 150 each (standard error of the difference ≈ 0.054)
    const rate = (g: string) => planned.filter((a) => a.group === g && churns(a)).length / planned.filter((a) => a.group === g).length;
    expect(rate('control') - rate('treatment')).toBeGreaterThan(0.2);
    expect(rate('control') - rate('treatment')).toBeLessThan(0.5);
  });
});
