import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import { decideStep, defaultWinbackPolicy, offerFor, stepsToArm } from '../../../shared/winback/sequence.ts';
import { businessEvent } from '../../support/events.ts';

const fold = (events: BusinessEvent[]): CustomerProfile => events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));
const LEFT = '2026-01-10T00:00:00.000Z';
const day = (n: number) => new Date(Date.parse(LEFT) + n * 86_400_000);
const base = [
  businessEvent('CustomerProfileUpdated', { occurredAt: '2025-01-01T00:00:00Z' }),
  businessEvent('ConsentChanged', { occurredAt: '2025-01-01T00:00:00Z', granted: true }),
  businessEvent('SubscriptionStarted', { occurredAt: '2025-01-01T00:00:00Z', subscriptionId: 's-1', productId: 'p-1', plan: 'b', monthlyPrice: 5, currency: 'EUR' }),
];
const cancel = (allow: boolean | undefined, reasonCode?: string) =>
  businessEvent('SubscriptionCancelled', { occurredAt: LEFT, subscriptionId: 's-1', reason: undefined, reasonCode, allowWinbackContact: allow });

describe('arming the winback sequence', () => {
  it('a yes at cancellation arms steps at 14, 60 and 180 days, with deterministic keys', () => {
    expect(stepsToArm(fold([...base, cancel(true, 'price')]), day(0))).toEqual([
      { key: `${LEFT}#1`, dueAt: day(14).toISOString(), payload: { leftAt: LEFT, step: 1 } },
      { key: `${LEFT}#2`, dueAt: day(60).toISOString(), payload: { leftAt: LEFT, step: 2 } },
      { key: `${LEFT}#3`, dueAt: day(180).toISOString(), payload: { leftAt: LEFT, step: 3 } },
    ]);
  });

  it('the delays are configurable; a yes given late arms only the steps still ahead', () => {
    const p = fold([...base, cancel(undefined, 'network'), businessEvent('ExitSurveyAnswered', { occurredAt: day(20).toISOString(), reasonCode: 'network', allowWinbackContact: true })]);
    expect(stepsToArm(p, day(20)).map((s) => s.payload.step)).toEqual([2, 3]);
    expect(stepsToArm(p, day(20), { ...defaultWinbackPolicy, delaysDays: [30, 90] }).map((s) => s.dueAt)).toEqual([day(30).toISOString(), day(90).toISOString()]);
  });

  it('no yes, a no, no marketing consent, or a customer who has not left: nothing armed', () => {
    expect(stepsToArm(fold([...base, cancel(undefined)]), day(0))).toEqual([]);
    expect(stepsToArm(fold([...base, cancel(false)]), day(0))).toEqual([]);
    expect(stepsToArm(fold([base[0]!, base[2]!, cancel(true)]), day(0))).toEqual([]);
    expect(stepsToArm(fold(base), day(0))).toEqual([]);
  });
});

describe('a due step', () => {
  const left = fold([...base, cancel(true, 'price')]);

  it('makes the reason\'s offer; a high-CLV former customer gets a personal task instead (or before) and the premium offer', () => {
    expect(decideStep(left, { leftAt: LEFT, step: 1 }, 120, day(14))).toEqual({ kind: 'contact', step: 1, offer: 'price-discount-1', reasonCode: 'price', highValue: false, task: false, email: true });
    expect(decideStep(left, { leftAt: LEFT, step: 2 }, 5000, day(60))).toEqual({ kind: 'contact', step: 2, offer: 'price-discount-premium-2', reasonCode: 'price', highValue: true, task: true, email: false });
    expect(decideStep(left, { leftAt: LEFT, step: 2 }, 5000, day(60), { ...defaultWinbackPolicy, personalOutreach: 'before' })).toMatchObject({ task: true, email: true });
    expect(decideStep(left, { leftAt: LEFT, step: 2 }, 5000, day(60), { ...defaultWinbackPolicy, personalOutreach: 'off' })).toMatchObject({ task: false, email: true });
    expect(decideStep(left, { leftAt: LEFT, step: 1 }, undefined, day(14))).toMatchObject({ highValue: false, email: true });
  });

  it('stops at once when she came back, withdrew, unsubscribed or the permission expired', () => {
    const back = applyEvent(left, businessEvent('SubscriptionStarted', { occurredAt: day(30).toISOString(), subscriptionId: 's-2', productId: 'p-1', plan: 'b', monthlyPrice: 5, currency: 'EUR' }));
    expect(decideStep(back, { leftAt: LEFT, step: 2 }, 0, day(60))).toEqual({ kind: 'stop', why: 'returned' });
    const withdrawn = applyEvent(left, businessEvent('ConsentChanged', { occurredAt: day(30).toISOString(), purpose: 'winback', granted: false }));
    expect(decideStep(withdrawn, { leftAt: LEFT, step: 2 }, 0, day(60))).toEqual({ kind: 'stop', why: 'no-winback-permission' });
    const unsubscribed = applyEvent(left, businessEvent('ConsentChanged', { occurredAt: day(30).toISOString(), granted: false, source: 'unsubscribe-link' }));
    expect(decideStep(unsubscribed, { leftAt: LEFT, step: 2 }, 0, day(60))).toEqual({ kind: 'stop', why: 'no-marketing-consent' });
    const short = fold([...base, businessEvent('SubscriptionCancelled', { occurredAt: LEFT, subscriptionId: 's-1', allowWinbackContact: undefined }), businessEvent('ConsentChanged', { occurredAt: LEFT, purpose: 'winback', granted: true, expiresAt: day(100).toISOString() })]);
    expect(decideStep(short, { leftAt: LEFT, step: 2 }, 0, day(60))).toMatchObject({ kind: 'contact' });
    expect(decideStep(short, { leftAt: LEFT, step: 3 }, 0, day(180))).toEqual({ kind: 'stop', why: 'winback-permission-expired' });
    expect(decideStep(undefined, { leftAt: LEFT, step: 1 }, 0, day(14))).toEqual({ kind: 'stop', why: 'returned' });
  });

  it('a step of an older leaving stops when she came back and left again (the newer sequence runs)', () => {
    const again = fold([...base, cancel(true), businessEvent('SubscriptionStarted', { occurredAt: day(5).toISOString(), subscriptionId: 's-1', productId: 'p-1', plan: 'b', monthlyPrice: 5, currency: 'EUR' }), businessEvent('SubscriptionCancelled', { occurredAt: day(9).toISOString(), subscriptionId: 's-1', allowWinbackContact: true })]);
    expect(decideStep(again, { leftAt: LEFT, step: 1 }, 0, day(14))).toEqual({ kind: 'stop', why: 'left-again' });
  });

  it('every reason has its offer', () => {
    expect(['price', 'network', 'moved', undefined].map((r) => offerFor(r as never, false, 1))).toEqual(['price-discount-1', 'network-fix-news-1', 'new-address-check-1', 'welcome-back-1']);
  });
});
