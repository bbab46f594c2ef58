import { describe, expect, it } from 'vitest';
import { planSend, type SendPolicy } from '../../../shared/campaigns/guardrails.ts';
import { contactPermission } from '../../../shared/consent/permission.ts';
import { applyEvent, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import { businessEvent, churnTrigger } from '../../support/events.ts';

const fold = (events: BusinessEvent[]): CustomerProfile => events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));
const policy: SendPolicy = { controlGroupPercent: 0, controlGroupExperiment: 'v1', frequencyCapPerWeek: 2, cooldownDays: { 'retention-save': 30, 'winback-counter-offer': 90, 'winback-sequence': 30 } };
const left = (allow: boolean | undefined, at = '2026-01-10T00:00:00Z') => [
  businessEvent('CustomerProfileUpdated', { occurredAt: '2025-01-01T00:00:00Z' }),
  businessEvent('ConsentChanged', { occurredAt: '2025-01-01T00:00:00Z', granted: true }),
  businessEvent('SubscriptionStarted', { occurredAt: '2025-01-01T00:00:00Z', subscriptionId: 's-1', productId: 'p-1', plan: 'b', monthlyPrice: 5, currency: 'EUR' }),
  businessEvent('SubscriptionCancelled', { occurredAt: at, subscriptionId: 's-1', reason: undefined, allowWinbackContact: allow }),
];
const winback = churnTrigger('c-1', 'e-1', { action: 'winback', rule: 'cancelled-with-winback-permission', triggerId: 'cancelled-with-winback-permission#c-1#e-1' });

describe('the winback sequence\'s steps are their own campaign', () => {
  const step = churnTrigger('c-1', 'e-2', { action: 'winback', rule: 'winback-sequence', triggerId: 'winback-sequence#c-1#2026-01-10T00:00:00.000Z#2' });
  const now = new Date('2026-03-11T00:00:00Z');
  const sent = (campaign: string, at: string) => ({ sendId: `${campaign}#x#${at}`, customerId: 'c-1', campaign, status: 'sent' as const, at });

  it('not cooled by the counter-offer at cancellation; 30 days between steps; the same consent rules', () => {
    const p = fold(left(true));
    expect(planSend({ trigger: step, profile: p, recentSends: [sent('winback-counter-offer', '2026-01-10T01:00:00.000Z')], now, policy })).toMatchObject({ decision: 'send', campaign: 'winback-sequence' });
    expect(planSend({ trigger: step, profile: p, recentSends: [sent('winback-sequence', '2026-02-10T00:00:00.000Z')], now, policy })).toMatchObject({ decision: 'skip', reason: 'cooldown' });
    expect(planSend({ trigger: step, profile: fold(left(false)), recentSends: [], now, policy })).toMatchObject({ decision: 'skip', reason: 'no-winback-permission' });
  });
});

describe('contact permission comes from the consent ledger', () => {
  it('winback: a live grant given at cancellation, until it expires (24 months)', () => {
    const p = fold(left(true));
    expect(contactPermission(p, 'winback-email', new Date('2028-01-09T23:59:59Z'))).toBeUndefined();
    expect(contactPermission(p, 'winback-email', new Date('2028-01-10T00:00:00Z'))).toBe('winback-permission-expired');
    expect(planSend({ trigger: winback, profile: p, recentSends: [], now: new Date('2028-02-01T00:00:00Z'), policy })).toMatchObject({ decision: 'skip', reason: 'winback-permission-expired' });
  });

  it('a yes joined later by the exit survey counts; a later withdrawal ends it', () => {
    const survey = businessEvent('ExitSurveyAnswered', { occurredAt: '2026-01-11T00:00:00Z', reasonCode: 'price', allowWinbackContact: true });
    const p = fold([...left(undefined), survey]);
    expect(contactPermission(p, 'winback-email', new Date('2026-02-01T00:00:00Z'))).toBeUndefined();
    const withdraw = businessEvent('ConsentChanged', { occurredAt: '2026-01-20T00:00:00Z', purpose: 'winback', granted: false, source: 'customer-service', actor: 'agent-1' });
    expect(contactPermission(applyEvent(p, withdraw), 'winback-email', new Date('2026-02-01T00:00:00Z'))).toBe('no-winback-permission');
  });

  it('an unsubscribe (marketing email withdrawn) stops winback email too; an expired marketing grant says so', () => {
    const unsub = businessEvent('ConsentChanged', { occurredAt: '2026-01-15T00:00:00Z', granted: false, source: 'unsubscribe-link' });
    expect(contactPermission(fold([...left(true), unsub]), 'winback-email', new Date('2026-02-01T00:00:00Z'))).toBe('no-marketing-consent');
    const dated = businessEvent('ConsentChanged', { occurredAt: '2026-01-15T00:00:00Z', granted: true, expiresAt: '2026-01-20T00:00:00Z' });
    expect(contactPermission(fold([...left(true), dated]), 'marketing-email', new Date('2026-02-01T00:00:00Z'))).toBe('marketing-consent-expired');
  });

  it('a customer who came back, or an account closure without a yes, gets no winback', () => {
    const back = businessEvent('SubscriptionStarted', { occurredAt: '2026-03-01T00:00:00Z', subscriptionId: 's-2', productId: 'p-1', plan: 'b', monthlyPrice: 5, currency: 'EUR' });
    expect(contactPermission(fold([...left(true), back]), 'winback-email', new Date('2026-04-01T00:00:00Z'))).toBe('not-a-former-customer');
    const closed = businessEvent('AccountClosed', { occurredAt: '2026-01-12T00:00:00Z', reasonCode: 'moved', allowWinbackContact: false });
    expect(contactPermission(fold([...left(true), closed]), 'winback-email', new Date('2026-02-01T00:00:00Z'))).toBe('no-winback-permission');
  });

  it('double opt-in: the request alone sends nothing', () => {
    const base = left(true).slice(0, 1);
    const req = businessEvent('ConsentChanged', { occurredAt: '2025-01-01T00:00:00Z', granted: true, doubleOptIn: 'requested' });
    expect(contactPermission(fold([...base, req]), 'marketing-email', new Date('2026-01-01T00:00:00Z'))).toBe('no-marketing-consent');
    const conf = businessEvent('ConsentChanged', { occurredAt: '2025-01-01T00:10:00Z', granted: true, doubleOptIn: 'confirmed' });
    expect(contactPermission(fold([...base, conf, req]), 'marketing-email', new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
  });
});
