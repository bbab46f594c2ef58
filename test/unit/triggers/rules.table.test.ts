/**
 * The trigger table, written out by hand: for each rule, an event history that completes it and
 * the exact decision expected (rule, kind, action, boost, id, reasons). Then every rule's
 * thresholds at their boundaries, and the freshness window for every rule (not only billing).
 */
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import { decliningProducts, evaluateTriggers, triggerEventTypes } from '../../../shared/triggers/rules.ts';
import { triggerConfig, type TriggerConfig } from '../../../shared/triggers/config.ts';

/** The repository's configuration with one trigger's parameters changed (what a marketer does in config/triggers.json). */
const withParams = (id: string, params: Record<string, unknown>): TriggerConfig => ({
  ...triggerConfig,
  triggers: triggerConfig.triggers.map((t) => (t.id === id ? { ...t, params: { ...t.params, ...params } } : t)),
});
import { businessEvent } from '../../support/events.ts';

const DAY = 86_400_000;
const fold = (events: BusinessEvent[]): CustomerProfile => events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));
const minuteAfter = (at: string): Date => new Date(Date.parse(at) + 60_000);

const call = (eventId: string, occurredAt: string, reason: string, callId = `k-${eventId}`) =>
  businessEvent('SupportCallLogged', { eventId, occurredAt, reason, callId });
const usage = (month: string, quantity: number, productId = 'net') =>
  businessEvent('UsageRecorded', { eventId: `u-${productId}-${month}`, occurredAt: `${month}-15T00:00:00Z`, productId, quantity });
const failure = (eventId: string, occurredAt: string) => businessEvent('PaymentFailed', { eventId, occurredAt, paymentId: eventId });

type Scenario = { name: string; history: BusinessEvent[]; event: BusinessEvent; expected: object[] };

const scenarios: Scenario[] = [
  {
    name: 'billing complaint',
    history: [],
    event: call('e-bill', '2026-10-10T09:00:00Z', 'billing'),
    expected: [{ triggerId: 'billing-complaint#c-1#e-bill', customerId: 'c-1', rule: 'billing-complaint', kind: 'single', action: 'retention-save', reasons: ['support call about billing'], churnRiskBoost: 0.2, sourceEventIds: ['e-bill'] }],
  },
  {
    name: 'third complaint in 30 days',
    history: [call('e-1', '2026-09-12T09:00:00Z', 'technical'), call('e-2', '2026-09-30T09:00:00Z', 'delivery')],
    event: call('e-3', '2026-10-10T09:00:00Z', 'product'),
    expected: [{ triggerId: 'repeated-complaints#c-1#2026-10', customerId: 'c-1', rule: 'repeated-complaints', kind: 'collective', action: 'retention-save', reasons: ['3 complaints in 30 days'], churnRiskBoost: 0.25, sourceEventIds: ['e-3'] }],
  },
  {
    name: 'slow resolution',
    history: [],
    event: businessEvent('SupportCallResolved', { eventId: 'e-slow', occurredAt: '2026-10-10T09:00:00Z', callId: 'k', resolutionMinutes: 2881 }),
    expected: [{ triggerId: 'poor-resolution#c-1#e-slow', customerId: 'c-1', rule: 'poor-resolution', kind: 'single', action: 'retention-save', reasons: ['support call took 48 hours to resolve'], churnRiskBoost: 0.15, sourceEventIds: ['e-slow'] }],
  },
  {
    name: 'call closed unresolved',
    history: [],
    event: businessEvent('SupportCallResolved', { eventId: 'e-open', occurredAt: '2026-10-10T09:00:00Z', callId: 'k', resolutionMinutes: 5, resolved: false }),
    expected: [{ triggerId: 'poor-resolution#c-1#e-open', customerId: 'c-1', rule: 'poor-resolution', kind: 'single', action: 'retention-save', reasons: ['support call closed unresolved'], churnRiskBoost: 0.15, sourceEventIds: ['e-open'] }],
  },
  {
    name: 'network complaint after usage declined',
    history: [usage('2026-06', 100), usage('2026-07', 90), usage('2026-08', 110), usage('2026-09', 20)],
    event: call('e-net', '2026-10-03T09:00:00Z', 'network'),
    expected: [{ triggerId: 'usage-decline-with-network-complaint#c-1#2026-10', customerId: 'c-1', rule: 'usage-decline-with-network-complaint', kind: 'collective', action: 'retention-save', reasons: ['usage declining for net', '1 network complaint(s) in 30 days'], churnRiskBoost: 0.3, sourceEventIds: ['e-net'] }],
  },
  {
    name: 'usage recorded after a network complaint, usage declined',
    history: [usage('2026-06', 100), usage('2026-07', 90), usage('2026-08', 110), usage('2026-09', 20), call('e-net', '2026-10-01T09:00:00Z', 'network')],
    event: businessEvent('UsageRecorded', { eventId: 'e-use', occurredAt: '2026-10-02T00:00:00Z', productId: 'net', quantity: 1 }),
    expected: [{ triggerId: 'usage-decline-with-network-complaint#c-1#2026-10', customerId: 'c-1', rule: 'usage-decline-with-network-complaint', kind: 'collective', action: 'retention-save', reasons: ['usage declining for net', '1 network complaint(s) in 30 days'], churnRiskBoost: 0.3, sourceEventIds: ['e-use'] }],
  },
  {
    name: 'second payment failure in 30 days',
    history: [failure('e-p1', '2026-09-11T00:00:00Z')],
    event: failure('e-p2', '2026-10-10T00:00:00Z'),
    expected: [{ triggerId: 'repeated-payment-failures#c-1#2026-10', customerId: 'c-1', rule: 'repeated-payment-failures', kind: 'collective', action: 'retention-save', reasons: ['2 failed payments in 30 days'], churnRiskBoost: 0.2, sourceEventIds: ['e-p2'] }],
  },
  {
    name: 'downgrade',
    history: [],
    event: businessEvent('SubscriptionChanged', { eventId: 'e-down', occurredAt: '2026-10-10T00:00:00Z', subscriptionId: 's', productId: 'p', plan: 'basic', monthlyPrice: 5, currency: 'EUR', change: 'downgrade' }),
    expected: [{ triggerId: 'downgrade#c-1#e-down', customerId: 'c-1', rule: 'downgrade', kind: 'single', action: 'retention-save', reasons: ['subscription downgraded'], churnRiskBoost: 0.1, sourceEventIds: ['e-down'] }],
  },
  {
    name: 'cancellation that allows winback contact',
    history: [],
    event: businessEvent('SubscriptionCancelled', { eventId: 'e-cancel', occurredAt: '2026-10-10T00:00:00Z', subscriptionId: 's', productId: 'p', reason: 'price', allowWinbackContact: true }),
    expected: [{ triggerId: 'cancelled-with-winback-permission#c-1#e-cancel', customerId: 'c-1', rule: 'cancelled-with-winback-permission', kind: 'single', action: 'winback', reasons: ['cancelled: price'], churnRiskBoost: 1, sourceEventIds: ['e-cancel'] }],
  },
  {
    name: 'cancellation with a reason from the taxonomy and free text: the code is the reason',
    history: [],
    event: businessEvent('SubscriptionCancelled', { eventId: 'e-cancel2', occurredAt: '2026-10-10T00:00:00Z', subscriptionId: 's', productId: 'p', reason: 'found it cheaper', reasonCode: 'competitor', allowWinbackContact: true }),
    expected: [{ triggerId: 'cancelled-with-winback-permission#c-1#e-cancel2', customerId: 'c-1', rule: 'cancelled-with-winback-permission', kind: 'single', action: 'winback', reasons: ['cancelled: competitor'], churnRiskBoost: 1, sourceEventIds: ['e-cancel2'] }],
  },
  {
    name: 'cancellation with no answer to "may we contact you later?"',
    history: [],
    event: businessEvent('SubscriptionCancelled', { eventId: 'e-cancel3', occurredAt: '2026-10-10T00:00:00Z', subscriptionId: 's', productId: 'p', reason: undefined, allowWinbackContact: undefined }),
    expected: [],
  },
  {
    name: 'a cancellation request gets a save offer first',
    history: [],
    event: businessEvent('CancellationRequested', { eventId: 'e-req', occurredAt: '2026-10-10T00:00:00Z', subscriptionId: 's', reasonCode: 'price' }),
    expected: [{ triggerId: 'cancellation-requested#c-1#e-req', customerId: 'c-1', rule: 'cancellation-requested', kind: 'single', action: 'retention-save', reasons: ['asked to cancel: price'], churnRiskBoost: 0.5, sourceEventIds: ['e-req'] }],
  },
  {
    name: 'a cancellation request without a reason',
    history: [],
    event: businessEvent('CancellationRequested', { eventId: 'e-req2', occurredAt: '2026-10-10T00:00:00Z' }),
    expected: [{ triggerId: 'cancellation-requested#c-1#e-req2', customerId: 'c-1', rule: 'cancellation-requested', kind: 'single', action: 'retention-save', reasons: ['asked to cancel'], churnRiskBoost: 0.5, sourceEventIds: ['e-req2'] }],
  },
  {
    name: 'billing complaint that is also the third complaint',
    history: [call('e-1', '2026-10-01T09:00:00Z', 'network'), call('e-2', '2026-10-05T09:00:00Z', 'technical')],
    event: call('e-3', '2026-10-10T09:00:00Z', 'billing'),
    expected: [
      { triggerId: 'billing-complaint#c-1#e-3', rule: 'billing-complaint', kind: 'single', churnRiskBoost: 0.2 },
      { triggerId: 'repeated-complaints#c-1#2026-10', rule: 'repeated-complaints', kind: 'collective', churnRiskBoost: 0.25, reasons: ['3 complaints in 30 days'] },
    ],
  },
];

describe('the trigger table', () => {
  it.each(scenarios)('$name', ({ history, event, expected }) => {
    const fired = evaluateTriggers(event, fold([...history, event]), minuteAfter(event.detail.occurredAt));
    expect(fired).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(fired[i]).toMatchObject(e));
    if (expected.length === 1) expect(fired[0]).toEqual(expected[0]);
  });

  it('the enabled triggers read exactly these event types (the stream filter is built from them)', () => {
    expect([...triggerEventTypes].sort()).toEqual(['CancellationRequested', 'OrderPlaced', 'OrderStatusChanged', 'PaymentFailed', 'SubscriptionCancelled', 'SubscriptionChanged', 'SupportCallLogged', 'SupportCallResolved', 'UsageRecorded']);
  });

  it('the built-in rules are entries of config/triggers.json with the parameters the docs describe', () => {
    const byId = Object.fromEntries(triggerConfig.triggers.map((t) => [t.id, t]));
    expect(triggerConfig.maxEventAgeDays).toBe(14);
    expect(byId['billing-complaint']).toMatchObject({ type: 'support-calls', params: { reasons: ['billing'], minCount: 1, windowDays: 30 }, weight: 0.2, cooldown: 'per-event', action: 'retention-save', enabled: true });
    expect(byId['repeated-complaints']).toMatchObject({ params: { reasons: ['billing', 'network', 'technical', 'product', 'delivery'], minCount: 3, windowDays: 30 }, weight: 0.25, cooldown: 'per-month' });
    expect(byId['poor-resolution']).toMatchObject({ type: 'slow-resolution', params: { maxResolutionMinutes: 2880, unresolved: true }, weight: 0.15 });
    expect(byId['repeated-payment-failures']).toMatchObject({ type: 'payment-failures', params: { minCount: 2, windowDays: 30 }, weight: 0.2, cooldown: 'per-month' });
    expect(byId['usage-decline-with-network-complaint']).toMatchObject({ type: 'collective', params: { threshold: 2 }, weight: 0.3, cooldown: 'per-month' });
    expect(byId['downgrade']).toMatchObject({ type: 'downgrade', weight: 0.1, cooldown: 'per-event' });
    expect(byId['cancelled-with-winback-permission']).toMatchObject({ type: 'cancellation', params: { requireWinbackPermission: true }, weight: 1, action: 'winback' });
  });
});

describe('freshness: an event older than 14 days fires nothing, whatever the rule', () => {
  it.each(scenarios)('$name', ({ history, event, expected }) => {
    const at = Date.parse(event.detail.occurredAt);
    const profile = fold([...history, event]);
    expect(evaluateTriggers(event, profile, new Date(at + 14 * DAY))).toHaveLength(expected.length);
    expect(evaluateTriggers(event, profile, new Date(at + 14 * DAY + 1))).toEqual([]);
    expect(evaluateTriggers(event, profile, new Date(at + 30 * DAY))).toEqual([]);
  });

  it('follows the configuration', () => {
    const e = scenarios[0]!.event;
    const policy: TriggerConfig = { ...triggerConfig, maxEventAgeDays: 3 };
    expect(evaluateTriggers(e, fold([e]), new Date(Date.parse(e.detail.occurredAt) + 3 * DAY), policy)).toHaveLength(1);
    expect(evaluateTriggers(e, fold([e]), new Date(Date.parse(e.detail.occurredAt) + 4 * DAY), policy)).toEqual([]);
  });
});

describe('thresholds', () => {
  const evalLast = (events: BusinessEvent[], policy?: TriggerConfig) => {
    const e = events.at(-1)!;
    return evaluateTriggers(e, fold(events), minuteAfter(e.detail.occurredAt), policy).map((t) => t.rule);
  };

  it('a resolution of exactly 48 hours is not slow; a minute more is', () => {
    const r = (m: number) => businessEvent('SupportCallResolved', { occurredAt: '2026-10-10T09:00:00Z', callId: 'k', resolutionMinutes: m });
    expect(evalLast([r(2880)])).toEqual([]);
    expect(evalLast([r(2881)])).toEqual(['poor-resolution']);
    expect(evaluateTriggers(r(3000), fold([r(3000)]), new Date('2026-10-10T09:01:00Z'))[0]?.reasons).toEqual(['support call took 50 hours to resolve']);
  });

  it('repeated complaints: three within 30 days inclusive, of the complaint reasons only', () => {
    expect(evalLast([call('a', '2026-10-01T09:00:00Z', 'network'), call('b', '2026-10-10T09:00:00Z', 'product')])).toEqual([]);
    // the first complaint exactly 30 days before the third still counts; a millisecond earlier it does not
    expect(evalLast([call('a', '2026-09-10T09:00:00.000Z', 'delivery'), call('b', '2026-10-01T09:00:00Z', 'product'), call('c', '2026-10-10T09:00:00Z', 'technical')])).toEqual(['repeated-complaints']);
    expect(evalLast([call('a', '2026-09-10T08:59:59.999Z', 'delivery'), call('b', '2026-10-01T09:00:00Z', 'product'), call('c', '2026-10-10T09:00:00Z', 'technical')])).toEqual([]);
    // calls about cancelling or about something else are not complaints
    expect(evalLast([call('a', '2026-10-01T09:00:00Z', 'cancellation'), call('b', '2026-10-05T09:00:00Z', 'other'), call('c', '2026-10-10T09:00:00Z', 'technical')])).toEqual([]);
    // a complaint logged after the one being evaluated does not count for it
    const later = call('z', '2026-10-20T09:00:00Z', 'product');
    const third = call('c', '2026-10-10T09:00:00Z', 'technical');
    const p = fold([call('a', '2026-10-01T09:00:00Z', 'network'), later, third]);
    expect(evaluateTriggers(third, p, new Date('2026-10-10T09:01:00Z'))).toEqual([]);
  });

  it('repeated complaints follow the configured count and window', () => {
    const two = [call('a', '2026-10-01T09:00:00Z', 'network'), call('b', '2026-10-10T09:00:00Z', 'product')];
    expect(evalLast(two, withParams('repeated-complaints', { minCount: 2 }))).toEqual(['repeated-complaints']);
    expect(evalLast(two, withParams('repeated-complaints', { minCount: 2, windowDays: 5 }))).toEqual([]);
  });

  it('payment failures: two within 30 days inclusive', () => {
    expect(evalLast([failure('a', '2026-09-10T00:00:00.000Z'), failure('b', '2026-10-10T00:00:00Z')])).toEqual(['repeated-payment-failures']);
    expect(evalLast([failure('a', '2026-09-09T23:59:59.999Z'), failure('b', '2026-10-10T00:00:00Z')])).toEqual([]);
    // a later failure is not one "within the window before" this one
    const b = failure('b', '2026-10-10T00:00:00Z');
    expect(evaluateTriggers(b, fold([b, failure('c', '2026-10-20T00:00:00Z')]), new Date('2026-10-10T00:01:00Z'))).toEqual([]);
    expect(evalLast([failure('a', '2026-10-01T00:00:00Z')], withParams('repeated-payment-failures', { minCount: 1 }))).toEqual(['repeated-payment-failures']);
  });

  it('a subscription change other than a downgrade fires nothing; a cancellation without permission neither', () => {
    const change = (c: string) => businessEvent('SubscriptionChanged', { occurredAt: '2026-10-10T00:00:00Z', subscriptionId: 's', productId: 'p', plan: 'x', monthlyPrice: 5, currency: 'EUR', change: c });
    expect(evalLast([change('upgrade')])).toEqual([]);
    expect(evalLast([change('other')])).toEqual([]);
    expect(evalLast([businessEvent('SubscriptionCancelled', { occurredAt: '2026-10-10T00:00:00Z', allowWinbackContact: false })])).toEqual([]);
  });

  it('events of other types fire nothing', () => {
    for (const e of [
      businessEvent('OrderPlaced', { occurredAt: '2026-10-10T00:00:00Z' }),
      businessEvent('ConsentChanged', { occurredAt: '2026-10-10T00:00:00Z' }),
      businessEvent('ProductAdopted', { occurredAt: '2026-10-10T00:00:00Z', productId: 'p' }),
    ]) expect(evalLast([e])).toEqual([]);
  });
});

describe('declining usage', () => {
  const at = '2026-10-03T09:00:00.000Z';
  it('below half of the mean of the three months before the last is declining; exactly half is not', () => {
    expect(decliningProducts(fold([usage('2026-06', 100), usage('2026-07', 100), usage('2026-08', 100), usage('2026-09', 50)]), at)).toEqual([]);
    expect(decliningProducts(fold([usage('2026-06', 100), usage('2026-07', 100), usage('2026-08', 100), usage('2026-09', 49.99)]), at)).toEqual(['net']);
    expect(decliningProducts(fold([usage('2026-06', 60), usage('2026-07', 90), usage('2026-08', 150), usage('2026-09', 49)]), at)).toEqual(['net']);
    expect(decliningProducts(fold([usage('2026-06', 60), usage('2026-07', 90), usage('2026-08', 150), usage('2026-09', 50)]), at)).toEqual([]);
  });

  it('needs a full baseline, and a baseline above zero', () => {
    expect(decliningProducts(fold([usage('2026-07', 100), usage('2026-08', 100), usage('2026-09', 1)]), at)).toEqual([]);
    expect(decliningProducts(fold([usage('2026-06', 100), usage('2026-08', 100), usage('2026-09', 1)]), at)).toEqual([]);
    expect(decliningProducts(fold([usage('2026-06', 0), usage('2026-07', 0), usage('2026-08', 0)]), at)).toEqual([]);
    // the month of `at` itself is not complete and does not count; a missing last month is zero
    expect(decliningProducts(fold([usage('2026-06', 10), usage('2026-07', 10), usage('2026-08', 10), usage('2026-10', 1)]), at)).toEqual(['net']);
  });

  it('lists each declining product once, sorted', () => {
    const events = ['tv', 'net', 'phone'].flatMap((p) => [usage('2026-06', 10, p), usage('2026-07', 10, p), usage('2026-08', 10, p), usage('2026-09', p === 'phone' ? 10 : 1, p)]);
    expect(decliningProducts(fold(events), at)).toEqual(['net', 'tv']);
  });

  it('follows the configured ratio, baseline length and minimum baseline', () => {
    const p = fold([usage('2026-07', 100), usage('2026-08', 100), usage('2026-09', 70)]);
    expect(decliningProducts(p, at, { baselineMonths: 2, ratio: 0.8, minBaseline: 0 })).toEqual(['net']);
    expect(decliningProducts(p, at, { baselineMonths: 2, ratio: 0.7, minBaseline: 0 })).toEqual([]);
    // light users do not fire: a baseline mean below the minimum
    expect(decliningProducts(p, at, { baselineMonths: 2, ratio: 0.8, minBaseline: 100 })).toEqual(['net']);
    expect(decliningProducts(p, at, { baselineMonths: 2, ratio: 0.8, minBaseline: 100.01 })).toEqual([]);
  });

  it('the network complaint must fall within the window', () => {
    const declining = [usage('2026-06', 100), usage('2026-07', 90), usage('2026-08', 110), usage('2026-09', 5)];
    const u = businessEvent('UsageRecorded', { occurredAt: '2026-10-02T00:00:00Z', productId: 'net', quantity: 1 });
    expect(evaluateTriggers(u, fold([...declining, call('n', '2026-09-02T00:00:00.000Z', 'network'), u]), minuteAfter('2026-10-02T00:00:00Z')).map((t) => t.rule)).toEqual(['usage-decline-with-network-complaint']);
    expect(evaluateTriggers(u, fold([...declining, call('n', '2026-09-01T23:59:59.999Z', 'network'), u]), minuteAfter('2026-10-02T00:00:00Z'))).toEqual([]);
    // a billing complaint is not a network complaint
    expect(evaluateTriggers(u, fold([...declining, call('n', '2026-09-20T00:00:00Z', 'billing'), u]), minuteAfter('2026-10-02T00:00:00Z'))).toEqual([]);
  });
});

describe('each rule looks at its own event type only', () => {
  const fired = (history: BusinessEvent[], e: BusinessEvent) => evaluateTriggers(e, fold([...history, e]), minuteAfter(e.detail.occurredAt)).map((t) => t.rule);
  const complaints = [call('c1', '2026-10-01T09:00:00Z', 'technical'), call('c2', '2026-10-02T09:00:00Z', 'product'), call('c3', '2026-10-03T09:00:00Z', 'delivery')];
  const declining = [usage('2026-06', 100), usage('2026-07', 90), usage('2026-08', 110), usage('2026-09', 5), call('n', '2026-10-01T09:00:00Z', 'network')];
  const failures = [failure('f1', '2026-10-01T00:00:00Z'), failure('f2', '2026-10-02T00:00:00Z')];
  const order = businessEvent('OrderPlaced', { occurredAt: '2026-10-04T00:00:00Z' });

  it('an order after three complaints, a usage decline and two failed payments fires nothing', () => {
    expect(fired([...complaints, ...declining, ...failures], order)).toEqual([]);
  });

  it('a cancellation whose reason is "billing" is not a billing complaint', () => {
    const e = businessEvent('SubscriptionCancelled', { occurredAt: '2026-10-04T00:00:00Z', reason: 'billing', allowWinbackContact: false });
    expect(fired(complaints, e)).toEqual([]);
  });

  it('a payment failure with a declining usage and a network complaint fires the payment rule only', () => {
    expect(fired([...declining, failures[0]!], failures[1]!)).toEqual(['repeated-payment-failures']);
  });

  it('a billing complaint with a declining usage but no network complaint fires the billing rule only', () => {
    const noNetwork = declining.slice(0, 4);
    expect(fired(noNetwork, call('b', '2026-10-04T09:00:00Z', 'billing'))).toEqual(['billing-complaint']);
  });

  it('another event type whose free-text reason is "network" is not a network complaint', () => {
    const e = businessEvent('PaymentFailed', { occurredAt: '2026-10-04T00:00:00Z', paymentId: 'p', reason: 'network' });
    expect(fired(declining, e)).toEqual([]);
  });

  it('a non-network complaint with a declining usage and an earlier network complaint fires no usage rule', () => {
    expect(fired(declining, call('t', '2026-10-04T09:00:00Z', 'technical'))).toEqual([]);
  });

  it('every complaint reason counts towards repeated complaints', () => {
    for (const reason of ['billing', 'network', 'technical', 'product', 'delivery']) {
      const three = [call('a', '2026-10-01T09:00:00Z', reason), call('b', '2026-10-02T09:00:00Z', reason), call('c', '2026-10-03T09:00:00Z', reason)];
      expect(fired(three.slice(0, 2), three[2]!), reason).toContain('repeated-complaints');
    }
  });

  it('names every declining product in the reason', () => {
    const two = ['net', 'tv'].flatMap((p) => [usage('2026-06', 10, p), usage('2026-07', 10, p), usage('2026-08', 10, p)]);
    const t = evaluateTriggers(call('n', '2026-10-03T09:00:00Z', 'network'), fold([...two, call('n', '2026-10-03T09:00:00Z', 'network')]), minuteAfter('2026-10-03T09:00:00Z'));
    expect(t.find((x) => x.rule === 'usage-decline-with-network-complaint')?.reasons).toEqual(['usage declining for net, tv', '1 network complaint(s) in 30 days']);
  });
});
