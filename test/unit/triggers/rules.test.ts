import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import { decliningProducts, evaluateTriggers } from '../../../shared/triggers/rules.ts';
import { businessEvent } from '../../support/events.ts';

const fold = (events: BusinessEvent[]): CustomerProfile =>
  events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));

/** The rules judge events relative to now: evaluate each as if it had just arrived. */
const soonAfter = (e: BusinessEvent): Date => new Date(Date.parse(e.detail.occurredAt) + 60_000);

const usage = (month: string, quantity: number) =>
  businessEvent('UsageRecorded', { occurredAt: `${month}-15T00:00:00Z`, productId: 'net', quantity });

describe('churn trigger rules', () => {
  it('fires a retention save on a billing complaint (single trigger)', () => {
    const call = businessEvent('SupportCallLogged', { reason: 'billing' });
    const [t, ...rest] = evaluateTriggers(call, fold([call]), soonAfter(call));
    expect(rest).toHaveLength(0);
    expect(t).toMatchObject({ rule: 'billing-complaint', kind: 'single', action: 'retention-save', customerId: 'c-1', sourceEventIds: [call.detail.eventId] });
    expect(t!.triggerId).toBe(`billing-complaint#c-1#${call.detail.eventId}`);
  });

  it('does not fire on a complaint about something else alone', () => {
    const call = businessEvent('SupportCallLogged', { reason: 'product' });
    expect(evaluateTriggers(call, fold([call]), soonAfter(call))).toEqual([]);
  });

  it('fires the collective trigger when usage declines and a network complaint follows', () => {
    const history = [usage('2026-06', 100), usage('2026-07', 90), usage('2026-08', 110), usage('2026-09', 20)];
    const call = businessEvent('SupportCallLogged', { reason: 'network', occurredAt: '2026-10-03T09:00:00Z' });
    const profile = fold([...history, call]);
    expect(decliningProducts(profile, '2026-10-03T09:00:00.000Z')).toEqual(['net']);
    const fired = evaluateTriggers(call, profile, soonAfter(call));
    expect(fired.map((t) => t.rule)).toEqual(['usage-decline-with-network-complaint']);
    expect(fired[0]).toMatchObject({ kind: 'collective', triggerId: 'usage-decline-with-network-complaint#c-1#2026-10' });
  });

  it('fires the same collective trigger when the usage drop is the later signal (any arrival order)', () => {
    const call = businessEvent('SupportCallLogged', { reason: 'network', occurredAt: '2026-10-01T09:00:00Z' });
    const history = [usage('2026-06', 100), usage('2026-07', 90), usage('2026-08', 110)];
    const late = businessEvent('UsageRecorded', { occurredAt: '2026-10-02T00:00:00Z', productId: 'net', quantity: 1 });
    const fired = evaluateTriggers(late, fold([...history, call, late]), soonAfter(late));
    // September has no usage at all: a drop to zero counts as decline
    expect(fired.map((t) => t.triggerId)).toEqual(['usage-decline-with-network-complaint#c-1#2026-10']);
  });

  it('needs both signals for the collective trigger', () => {
    const history = [usage('2026-06', 100), usage('2026-07', 90), usage('2026-08', 110), usage('2026-09', 95)];
    const call = businessEvent('SupportCallLogged', { reason: 'network', occurredAt: '2026-10-03T09:00:00Z' });
    expect(evaluateTriggers(call, fold([...history, call]), soonAfter(call))).toEqual([]);
    const declining = [usage('2026-06', 100), usage('2026-07', 90), usage('2026-08', 110), usage('2026-09', 5)];
    const oldCall = businessEvent('SupportCallLogged', { reason: 'network', occurredAt: '2026-07-03T09:00:00Z' });
    const u = usage('2026-10', 1);
    expect(evaluateTriggers(u, fold([...declining, oldCall, u]), soonAfter(u))).toEqual([]);
  });

  it('fires on repeated complaints within the window, once per month', () => {
    const calls = ['01', '08', '15'].map((d) =>
      businessEvent('SupportCallLogged', { reason: 'technical', occurredAt: `2026-10-${d}T09:00:00Z` }),
    );
    const p = fold(calls);
    const fired = evaluateTriggers(calls[2]!, p, soonAfter(calls[2]!));
    expect(fired.map((t) => t.triggerId)).toEqual(['repeated-complaints#c-1#2026-10']);
  });

  it('fires on a slow or unresolved support call', () => {
    const slow = businessEvent('SupportCallResolved', { resolutionMinutes: 3 * 24 * 60 });
    expect(evaluateTriggers(slow, fold([slow]), soonAfter(slow))[0]?.reasons[0]).toMatch(/72 hours/);
    const open = businessEvent('SupportCallResolved', { resolutionMinutes: 10, resolved: false });
    expect(evaluateTriggers(open, fold([open]), soonAfter(open))[0]?.rule).toBe('poor-resolution');
    const fine = businessEvent('SupportCallResolved', { resolutionMinutes: 10 });
    expect(evaluateTriggers(fine, fold([fine]), soonAfter(fine))).toEqual([]);
  });

  it('fires on repeated payment failures', () => {
    const a = businessEvent('PaymentFailed', { occurredAt: '2026-10-01T00:00:00Z' });
    const b = businessEvent('PaymentFailed', { occurredAt: '2026-10-20T00:00:00Z' });
    expect(evaluateTriggers(a, fold([a]), soonAfter(a))).toEqual([]);
    expect(evaluateTriggers(b, fold([a, b]), soonAfter(b))[0]?.rule).toBe('repeated-payment-failures');
  });

  it('ignores events older than the freshness window (history being loaded)', () => {
    const call = businessEvent('SupportCallLogged', { reason: 'billing', occurredAt: '2026-10-01T00:00:00Z' });
    expect(evaluateTriggers(call, fold([call]), new Date('2026-10-14T23:59:00Z'))).toHaveLength(1);
    expect(evaluateTriggers(call, fold([call]), new Date('2026-10-15T00:01:00Z'))).toEqual([]);
  });

  it('fires a winback only for cancellations that allow contact', () => {
    const yes = businessEvent('SubscriptionCancelled', { allowWinbackContact: true });
    const no = businessEvent('SubscriptionCancelled', { allowWinbackContact: false });
    expect(evaluateTriggers(yes, fold([yes]), soonAfter(yes))[0]).toMatchObject({ action: 'winback', rule: 'cancelled-with-winback-permission' });
    expect(evaluateTriggers(no, fold([no]), soonAfter(no))).toEqual([]);
  });
});
