import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { activeSubscriptions, applyEvent, emailAddressHash, emptyProfile, hasConsent, unusedPaidProducts, type CustomerProfile } from '../../../shared/customers/profile.ts';
import { inboundDetailTypes, type BusinessEvent, type InboundDetailType } from '../../../shared/events/catalog.ts';
import { consentRecordsOf, consentState } from '../../../shared/consent/ledger.ts';
import { businessEvent } from '../../support/events.ts';
import { arbByType, arbEvent } from '../../support/event-arbitraries.ts';

const fold = (events: BusinessEvent[]): CustomerProfile =>
  events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));

/** A varied pool of events for one customer, with clashing timestamps on purpose. */
function eventPool(): BusinessEvent[] {
  const t = (d: number, h = 10) => `2026-0${1 + (d % 9)}-1${d % 10}T${String(h).padStart(2, '0')}:00:00Z`;
  return [
    businessEvent('CustomerProfileUpdated', { occurredAt: t(1), email: 'a@example.com', firstName: 'Ann' }),
    businessEvent('CustomerProfileUpdated', { occurredAt: t(3), email: 'b@example.com', firstName: undefined, timeZone: 'Europe/Paris' }),
    businessEvent('ConsentChanged', { occurredAt: t(2), granted: true }),
    businessEvent('ConsentChanged', { occurredAt: t(4), granted: false }),
    businessEvent('OrderPlaced', { occurredAt: t(1), orderId: 'o1', amount: 10 }),
    businessEvent('OrderPlaced', { occurredAt: t(1, 15), orderId: 'o2', amount: 5.5 }),
    businessEvent('OrderPlaced', { occurredAt: t(5), orderId: 'o3', amount: 20 }),
    businessEvent('OrderStatusChanged', { occurredAt: t(6), orderId: 'o3', status: 'preparing' }),
    businessEvent('OrderStatusChanged', { occurredAt: t(7), orderId: 'o3', status: 'shipped' }),
    businessEvent('OrderReturned', { occurredAt: t(8), orderId: 'o1', amount: 10, currency: 'EUR' }),
    businessEvent('InvoiceIssued', { occurredAt: t(2), invoiceId: 'i1', amount: 30, currency: 'EUR' }),
    businessEvent('InvoiceIssued', { occurredAt: t(3), invoiceId: 'i2', kind: 'statement', amount: 0, currency: 'EUR' }),
    businessEvent('UsageRecorded', { occurredAt: t(2), productId: 'p1', quantity: 4 }),
    businessEvent('UsageRecorded', { occurredAt: t(2, 12), productId: 'p1', quantity: 6 }),
    businessEvent('SupportCallLogged', { occurredAt: t(4), callId: 'k1', reason: 'billing' }),
    businessEvent('SupportCallResolved', { occurredAt: t(5), callId: 'k1', resolutionMinutes: 90 }),
    businessEvent('SubscriptionStarted', { occurredAt: t(1), subscriptionId: 's1', productId: 'p1', plan: 'basic', monthlyPrice: 10, currency: 'EUR' }),
    businessEvent('SubscriptionChanged', { occurredAt: t(6), subscriptionId: 's1', productId: 'p1', plan: 'plus', monthlyPrice: 15, currency: 'EUR', change: 'upgrade' }),
    businessEvent('SubscriptionStarted', { occurredAt: t(2), subscriptionId: 's2', productId: 'p2', plan: 'tv', monthlyPrice: 8, currency: 'EUR' }),
    businessEvent('PaymentFailed', { occurredAt: t(7), paymentId: 'x1', amount: 15, currency: 'EUR' }),
  ];
}

const arbHistory = fc.array(arbEvent, { minLength: 1, maxLength: 40 });

describe('applyEvent', () => {
  it('is order-independent on random histories full of ties, cancellations and restarts', () => {
    fc.assert(
      fc.property(
        arbHistory.chain((events) =>
          fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length })),
        ),
        ([events, shuffled]) => {
          expect(fold(shuffled)).toEqual(fold(events));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps counts and sums exact whatever the order, also past the capped lists', () => {
    const orders = Array.from({ length: 80 }, (_, i) =>
      businessEvent('OrderPlaced', { orderId: `o${i}`, amount: i, occurredAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString() }),
    );
    const statuses = orders.map((o, i) => businessEvent('OrderStatusChanged', { orderId: (o.detail as { orderId: string }).orderId, status: 'shipped', occurredAt: new Date(Date.UTC(2026, 0, 2 + i)).toISOString() }));
    fc.assert(
      fc.property(fc.shuffledSubarray([...orders, ...statuses], { minLength: 160, maxLength: 160 }), (shuffled) => {
        const p = fold(shuffled);
        expect(p.orderCount).toBe(80);
        expect(p.totalSpend).toBe((79 * 80) / 2);
        expect(Object.keys(p.purchaseDays)).toHaveLength(80);
        expect(Object.keys(p.orders).length).toBeLessThanOrEqual(50);
      }),
      { numRuns: 30 },
    );
  });

  it('decides a cancellation tie by event id, and a restart after a cancellation makes the subscription active', () => {
    const start = businessEvent('SubscriptionStarted', { subscriptionId: 's', productId: 'p', plan: 'x', monthlyPrice: 5, currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z' });
    const cancelA = businessEvent('SubscriptionCancelled', { eventId: 'a', subscriptionId: 's', productId: 'p', reason: 'price', allowWinbackContact: false, occurredAt: '2026-02-01T00:00:00Z' });
    const cancelB = businessEvent('SubscriptionCancelled', { eventId: 'b', subscriptionId: 's', productId: 'p', reason: 'moving', allowWinbackContact: true, occurredAt: '2026-02-01T00:00:00Z' });
    expect(fold([start, cancelA, cancelB]).subscriptions.s?.cancellation?.value).toEqual({ reason: 'moving', allowWinbackContact: true });
    expect(fold([start, cancelB, cancelA]).subscriptions.s?.cancellation?.value).toEqual({ reason: 'moving', allowWinbackContact: true });
    expect(fold([start, cancelA]).consentState.winback).toMatchObject({ action: 'withdrawn', recordId: 'a' });
    expect(fold([start, cancelA, cancelB]).consentState.winback).toMatchObject({ action: 'granted', recordId: 'b', expiresAt: '2028-02-01T00:00:00.000Z' });
    expect(activeSubscriptions(fold([start, cancelA]))).toHaveLength(0);
    const restart = businessEvent('SubscriptionStarted', { subscriptionId: 's', productId: 'p', plan: 'x', monthlyPrice: 5, currency: 'EUR', occurredAt: '2026-03-01T00:00:00Z' });
    expect(activeSubscriptions(fold([restart, cancelA, start]))).toHaveLength(1);
  });

  it('gives the same profile whatever order the events arrive in', () => {
    const pool = eventPool();
    const expected = fold(pool);
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: pool.length, maxLength: pool.length }), (shuffled) => {
        expect(fold(shuffled)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the aggregates the models and rules need', () => {
    const p = fold(eventPool());
    expect(p.orderCount).toBe(3);
    expect(p.totalSpend).toBe(35.5);
    expect(Object.keys(p.purchaseDays)).toHaveLength(2); // two orders on one day count as one purchase day
    expect(p.purchaseDays['2026-02-11']).toBe(15.5);
    expect(p.orders.o3?.status?.value).toBe('shipped');
    expect(p.returnCount).toBe(1);
    expect(p.invoiceCount).toBe(1);
    expect(p.statementCount).toBe(1);
    expect(p.usage.p1?.['2026-03']).toBe(10);
    expect(p.supportCallsByReason.billing).toBe(1);
    expect(p.supportCalls.k1).toMatchObject({ reason: 'billing', resolution: { value: { minutes: 90, resolved: true } } });
    expect(p.subscriptions.s1?.plan?.value).toBe('plus');
    expect(p.email?.value).toBe('b@example.com'); // latest profile update wins
    expect(p.firstName?.value).toBe('Ann'); // a later update without the field keeps it
    expect(hasConsent(p, 'email')).toBe(false); // the withdrawal is later than the grant
    expect(unusedPaidProducts(p)).toEqual(['p2']);
    expect(p.firstSeenAt).toBe('2026-02-11T10:00:00.000Z');
    expect(p.eventCount).toBe(20);
  });

  it('does not change the profile it is given', () => {
    const p0 = emptyProfile('c-1');
    const copy = structuredClone(p0);
    applyEvent(p0, businessEvent('OrderPlaced', {}));
    expect(p0).toEqual(copy);
  });

  it('has no consent without a grant (opt-in)', () => {
    expect(hasConsent(emptyProfile('c'), 'email')).toBe(false);
  });
});

/**
 * The profile each field should hold, computed here from the whole history at once (not by
 * folding): sums over all events, min/max of times, and for each register the value of the
 * latest event that carries it (latest `occurredAt` in UTC, ties to the larger eventId).
 */
type Ev<T extends InboundDetailType> = Extract<BusinessEvent, { type: T }>;

function expectedProfile(events: BusinessEvent[]) {
  const of = <T extends InboundDetailType>(...types: T[]) => events.filter((e): e is Ev<T> => (types as string[]).includes(e.type));
  const utc = (e: BusinessEvent) => new Date(e.detail.occurredAt).toISOString();
  const latest = <E extends BusinessEvent, V>(es: E[], pick: (e: E) => V | undefined) => {
    let best: { value: V; at: string; by: string } | undefined;
    for (const e of es) {
      const value = pick(e);
      if (value === undefined) continue;
      const at = utc(e);
      const by = e.detail.eventId;
      if (!best || at > best.at || (at === best.at && by > best.by)) best = { value, at, by };
    }
    return best;
  };
  const cents = (xs: number[]) => xs.reduce((s, x) => s + Math.round(x * 100), 0) / 100;
  const group = <E extends BusinessEvent>(es: E[], key: (e: E) => string) => {
    const m = new Map<string, E[]>();
    for (const e of es) m.set(key(e), [...(m.get(key(e)) ?? []), e]);
    return m;
  };
  const times = events.map(utc).sort();
  const profileUpdates = of('CustomerProfileUpdated');
  const orders = of('OrderPlaced');
  const invoices = of('InvoiceIssued');
  const usage = of('UsageRecorded');
  const logged = of('SupportCallLogged');
  const resolved = of('SupportCallResolved');
  const subs = of('SubscriptionStarted', 'SubscriptionChanged', 'SubscriptionCancelled');
  const byOrder = group(of('OrderPlaced', 'OrderStatusChanged'), (e) => e.detail.orderId);
  const byCall = group([...logged, ...resolved], (e) => e.detail.callId);
  const bySub = group(subs, (e) => e.detail.subscriptionId);
  const adoptions = [...usage.filter((e) => e.detail.quantity > 0), ...of('ProductAdopted')];
  return {
    customerId: 'c-1',
    email: latest(profileUpdates, (e) => e.detail.email?.toLowerCase()),
    firstName: latest(profileUpdates, (e) => e.detail.firstName),
    locale: latest(profileUpdates, (e) => e.detail.locale),
    timeZone: latest(profileUpdates, (e) => e.detail.timeZone),
    preferredChannel: latest(profileUpdates, (e) => e.detail.preferredChannel),
    preferredHour: latest(profileUpdates, (e) => e.detail.preferredHour),
    customerType: latest(profileUpdates, (e) => e.detail.customerType),
    consent: Object.fromEntries(
      [...group(of('ConsentChanged').filter((e) => !(e.detail.granted && e.detail.doubleOptIn === 'requested')), (e) => `${e.detail.channel}:${e.detail.purpose}`)].map(([k, es]) => [
        k,
        latest(es, (e) => e.detail.granted),
      ]),
    ),
    // Per purpose, the latest decisive record of the whole ledger (the ledger's own tests check its rules).
    consentState: consentState(events.flatMap((e) => consentRecordsOf(e))),
    leavingReason: latest(of('SubscriptionCancelled', 'AccountClosed', 'ExitSurveyAnswered'), (e) =>
      e.detail.reasonCode ? { code: e.detail.reasonCode, ...(e.detail.reason ? { text: e.detail.reason } : {}) } : undefined,
    ),
    cancellationRequest: latest(of('CancellationRequested'), (e) => ({
      ...(e.detail.subscriptionId ? { subscriptionId: e.detail.subscriptionId } : {}),
      ...(e.detail.reasonCode ? { reasonCode: e.detail.reasonCode } : {}),
    })),
    accountClosedAt: latest(of('AccountClosed'), () => true as const),
    firstSeenAt: times[0],
    lastEventAt: times.at(-1),
    eventCount: events.length,
    purchaseDays: Object.fromEntries([...group(orders, (e) => utc(e).slice(0, 10))].map(([day, es]) => [day, cents(es.map((e) => e.detail.amount))])),
    orderCount: orders.length,
    totalSpend: cents(orders.map((e) => e.detail.amount)),
    orders: Object.fromEntries(
      [...byOrder].map(([orderId, es]) => {
        const placed = latest(es, (e) => (e.type === 'OrderPlaced' ? e.detail.amount : undefined));
        const status = latest(es, (e) => (e.type === 'OrderPlaced' ? 'placed' : e.detail.status));
        return [orderId, { orderId, ...(placed ? { placed } : {}), status }];
      }),
    ),
    returnCount: of('OrderReturned').length,
    returnValue: cents(of('OrderReturned').map((e) => e.detail.amount)),
    invoiceCount: invoices.filter((e) => e.detail.kind === 'invoice').length,
    statementCount: invoices.filter((e) => e.detail.kind === 'statement').length,
    invoicedTotal: cents(invoices.map((e) => e.detail.amount)),
    usage: Object.fromEntries(
      [...group(usage, (e) => e.detail.productId)].map(([productId, es]) => [
        productId,
        Object.fromEntries([...group(es, (e) => utc(e).slice(0, 7))].map(([month, ms]) => [month, ms.reduce((s, e) => s + Math.round(e.detail.quantity * 1e6), 0) / 1e6])),
      ]),
    ),
    supportCallCount: logged.length,
    supportCallsByReason: Object.fromEntries([...group(logged, (e) => e.detail.reason)].map(([r, es]) => [r, es.length])),
    supportCalls: Object.fromEntries(
      [...byCall].map(([callId, es]) => {
        const log = latest(es, (e) => (e.type === 'SupportCallLogged' ? e.detail.reason : undefined));
        const resolution = latest(es, (e) => (e.type === 'SupportCallResolved' ? { minutes: e.detail.resolutionMinutes, resolved: e.detail.resolved } : undefined));
        return [callId, { callId, ...(log ? { reason: log.value, loggedAt: log.at, loggedBy: log.by } : {}), ...(resolution ? { resolution } : {}) }];
      }),
    ),
    subscriptions: Object.fromEntries(
      [...bySub].map(([subscriptionId, es]) => {
        const starts = es.filter((e) => e.type === 'SubscriptionStarted').map(utc).sort();
        const terms = es.filter((e): e is Ev<'SubscriptionStarted' | 'SubscriptionChanged'> => e.type !== 'SubscriptionCancelled');
        const s = {
          subscriptionId,
          productId: latest(es, (e) => e.detail.productId),
          plan: latest(terms, (e) => e.detail.plan),
          monthlyPrice: latest(terms, (e) => e.detail.monthlyPrice),
          currency: latest(terms, (e) => e.detail.currency),
          startedAt: starts[0],
          lastStartedAt: starts.at(-1),
          cancellation: latest(es, (e) =>
            e.type === 'SubscriptionCancelled'
              ? { reason: e.detail.reason ?? e.detail.reasonCode ?? '', ...(e.detail.reasonCode ? { reasonCode: e.detail.reasonCode } : {}), allowWinbackContact: e.detail.allowWinbackContact ?? false }
              : undefined,
          ),
          lastChange: latest(es, (e) => (e.type === 'SubscriptionChanged' ? e.detail.change : undefined)),
        };
        return [subscriptionId, Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined))];
      }),
    ),
    adoptedProducts: Object.fromEntries([...group(adoptions, (e) => e.detail.productId)].map(([p, es]) => [p, es.map(utc).sort()[0]])),
    paymentFailures: of('PaymentFailed').map(utc).sort().reverse().slice(0, 20),
    lastUsedAt: Object.fromEntries([...group(usage.filter((e) => e.detail.quantity > 0), (e) => e.detail.productId)].map(([p, es]) => [p, es.map(utc).sort().at(-1)])),
    returns: of('OrderReturned')
      .map((e) => ({ orderId: e.detail.orderId, at: utc(e), amount: e.detail.amount, ...(e.detail.reason ? { reason: e.detail.reason } : {}), by: e.detail.eventId }))
      .sort((a, b) => (a.at === b.at ? (a.by < b.by ? 1 : -1) : a.at < b.at ? 1 : -1))
      .slice(0, 20),
    ...expectedEmailFeedback(of('EmailFeedback')),
    suppression: expectedSuppression(latest(profileUpdates, (e) => e.detail.email?.toLowerCase())?.value, expectedEmailFeedback(of('EmailFeedback')).emailSuppressions),
  };
}

/** The current address's suppression: the per-address one of the latest address, as a `{reason}` register. */
function expectedSuppression(email: string | undefined, suppressions: Record<string, { value: string; at: string; by: string }> | undefined) {
  const held = email && suppressions ? suppressions[emailAddressHash(email)] : undefined;
  return held ? { value: { reason: held.value }, at: held.at, by: held.by } : undefined;
}

/** The SES feedback fields, from the EmailFeedback events alone (absent when there is none). */
function expectedEmailFeedback(feedback: Ev<'EmailFeedback'>[]) {
  const stamp = (e: Ev<'EmailFeedback'>) => ({ at: new Date(e.detail.occurredAt).toISOString(), by: e.detail.eventId });
  const before = (a: { at: string; by: string }, b: { at: string; by: string }) => a.at < b.at || (a.at === b.at && a.by < b.by);
  const suppressions: Record<string, { value: string; at: string; by: string }> = {};
  for (const e of feedback) {
    const d = e.detail;
    if (!d.addressHash || !(d.kind === 'complaint' || (d.kind === 'bounce' && d.bounceType === 'permanent'))) continue;
    const s = { value: d.kind === 'complaint' ? 'complaint' : 'hard-bounce', ...stamp(e) };
    if (!suppressions[d.addressHash] || before(s, suppressions[d.addressHash]!)) suppressions[d.addressHash] = s;
  }
  const soft = feedback.filter((e) => e.detail.kind === 'bounce' && e.detail.bounceType !== 'permanent').map((e) => stamp(e).at).sort();
  const count = (kind: string) => feedback.filter((e) => e.detail.kind === kind).length;
  const responses: Record<string, Record<string, unknown>> = {};
  for (const e of feedback.filter((x) => x.detail.kind === 'open' || x.detail.kind === 'click')) {
    const d = e.detail;
    const mine = feedback.filter((x) => x.detail.messageId === d.messageId);
    const first = (kind: string) => mine.filter((x) => x.detail.kind === kind).map((x) => stamp(x).at).sort()[0];
    responses[d.messageId] = { messageId: d.messageId, sendId: d.sendId, campaign: d.campaign, opens: mine.filter((x) => x.detail.kind === 'open').length, clicks: mine.filter((x) => x.detail.kind === 'click').length, firstOpenAt: first('open'), firstClickAt: first('click') };
  }
  return {
    emailSuppressions: Object.keys(suppressions).length ? suppressions : undefined,
    emailStats: feedback.length ? { delivered: count('delivery'), softBounces: soft.length, lastSoftBounceAt: soft.at(-1), rejected: count('reject'), renderingFailures: count('rendering-failure') } : undefined,
    emailResponses: Object.keys(responses).length ? responses : undefined,
  };
}

/** Every field of CustomerProfile, written out: a field added to the profile must be added here (and asserted). */
const profileFields = [
  'customerId', 'email', 'firstName', 'locale', 'timeZone', 'preferredChannel', 'preferredHour', 'customerType', 'consent',
  'consentState', 'leavingReason', 'cancellationRequest', 'accountClosedAt',
  'firstSeenAt', 'lastEventAt', 'eventCount', 'purchaseDays', 'orderCount', 'totalSpend', 'orders', 'returnCount', 'returnValue',
  'invoiceCount', 'statementCount', 'invoicedTotal', 'usage', 'supportCallCount', 'supportCallsByReason', 'supportCalls',
  'subscriptions', 'adoptedProducts', 'paymentFailures', 'lastUsedAt', 'returns', 'emailSuppressions', 'emailStats', 'emailResponses', 'suppression',
] as const satisfies readonly (keyof CustomerProfile)[];

describe('applyEvent on random histories of every event type', () => {
  it('the generator produces every inbound event type of the catalog', () => {
    expect(Object.keys(arbByType).sort()).toEqual([...inboundDetailTypes].sort());
    expect(inboundDetailTypes).toHaveLength(19);
    const seen = new Set(fc.sample(arbEvent, { numRuns: 2000, seed: 7 }).map((e) => e.type));
    expect([...seen].sort()).toEqual([...inboundDetailTypes].sort());
  });

  it('every field equals its value computed independently from the whole history, in any arrival order', () => {
    fc.assert(
      fc.property(
        arbHistory.chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }))),
        ([events, shuffled]) => {
          const expected = expectedProfile(events);
          for (const order of [events, shuffled]) {
            const p = fold(order);
            expect(Object.keys(p).filter((k) => p[k as keyof CustomerProfile] !== undefined).every((k) => (profileFields as readonly string[]).includes(k))).toBe(true);
            for (const field of profileFields) expect(p[field], field).toEqual(expected[field]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('sums returns, invoices and statements exactly (not the last one seen)', () => {
    const r1 = businessEvent('OrderReturned', { occurredAt: '2026-10-01T00:00:00Z', orderId: 'o1', amount: 10.1, currency: 'EUR' });
    const r2 = businessEvent('OrderReturned', { occurredAt: '2026-10-02T00:00:00Z', orderId: 'o2', amount: 0.2, currency: 'EUR' });
    const i1 = businessEvent('InvoiceIssued', { occurredAt: '2026-10-01T00:00:00Z', invoiceId: 'i1', amount: 30, currency: 'EUR' });
    const s1 = businessEvent('InvoiceIssued', { occurredAt: '2026-10-03T00:00:00Z', invoiceId: 'i2', kind: 'statement', amount: 12.5, currency: 'EUR' });
    for (const order of [[r1, r2, i1, s1], [s1, i1, r2, r1]]) {
      const p = fold(order);
      expect([p.returnCount, p.returnValue, p.invoiceCount, p.statementCount, p.invoicedTotal]).toEqual([2, 10.3, 1, 1, 42.5]);
    }
  });
});
