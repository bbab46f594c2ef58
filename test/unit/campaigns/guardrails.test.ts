import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { ChurnTriggerFired } from '../../../shared/events/catalog.ts';
import { defaultSendPolicy, inControlGroup, planSend } from '../../../shared/campaigns/guardrails.ts';
import type { SendRecord } from '../../../shared/ports.ts';
import { businessEvent } from '../../support/events.ts';

const now = new Date('2026-11-01T12:00:00Z');
const noControl = { ...defaultSendPolicy, controlGroupPercent: 0, holdoutPercent: 0 };

const trigger = (customerId = 'c-1', action: ChurnTriggerFired['action'] = 'retention-save'): ChurnTriggerFired => ({
  triggerId: `billing-complaint#${customerId}#e1`,
  customerId,
  rule: 'billing-complaint',
  kind: 'single',
  action,
  reasons: ['support call about billing'],
  churnRiskBoost: 0.2,
  sourceEventIds: ['e1'],
  firedAt: now.toISOString(),
  schemaVersion: 1,
});

function profile(fields: { consent?: boolean; email?: string | null; channel?: string; customerId?: string } = {}): CustomerProfile {
  const customerId = fields.customerId ?? 'c-1';
  let p = emptyProfile(customerId);
  if (fields.email !== null) {
    p = applyEvent(p, businessEvent('CustomerProfileUpdated', { customerId, email: fields.email ?? 'ada@example.com', preferredChannel: fields.channel }));
  }
  if (fields.consent !== undefined) p = applyEvent(p, businessEvent('ConsentChanged', { customerId, granted: fields.consent }));
  return p;
}

const sent = (campaign: string, at: string, status: SendRecord['status'] = 'sent'): SendRecord => ({
  sendId: `${campaign}#x#${at}`, customerId: 'c-1', campaign, status, at,
});

describe('planSend', () => {
  it('sends to a consenting customer with an address', () => {
    const plan = planSend({ trigger: trigger(), profile: profile({ consent: true }), recentSends: [], now, policy: noControl });
    expect(plan).toEqual({ decision: 'send', campaign: 'retention-save', sendId: 'retention-save#billing-complaint#c-1#e1', to: 'ada@example.com' });
  });

  it.each([
    ['no consent record', { email: 'a@example.com' }, 'no-marketing-consent'],
    ['withdrawn consent', { consent: false }, 'no-marketing-consent'],
    ['no address', { consent: true, email: null }, 'no-email-address'],
    ['another preferred channel', { consent: true, channel: 'sms' }, 'prefers-sms'],
  ])('skips with %s', (_n, fields, reason) => {
    const plan = planSend({ trigger: trigger(), profile: profile(fields as never), recentSends: [], now, policy: noControl });
    expect(plan).toMatchObject({ decision: 'skip', reason });
  });

  it('skips an unknown customer', () => {
    expect(planSend({ trigger: trigger(), profile: undefined, recentSends: [], now })).toMatchObject({ reason: 'unknown-customer' });
  });

  it('respects the cooldown of the same campaign and the weekly frequency cap', () => {
    const p = profile({ consent: true });
    const recent = [sent('retention-save', '2026-10-20T00:00:00.000Z')];
    expect(planSend({ trigger: trigger(), profile: p, recentSends: recent, now, policy: noControl })).toMatchObject({ reason: 'cooldown' });
    const old = [sent('retention-save', '2026-09-20T00:00:00.000Z')];
    expect(planSend({ trigger: trigger(), profile: p, recentSends: old, now, policy: noControl })?.decision).toBe('send');
    const busyWeek = [sent('cross-sell', '2026-10-30T00:00:00.000Z'), sent('education', '2026-10-31T00:00:00.000Z')];
    expect(planSend({ trigger: trigger(), profile: p, recentSends: busyWeek, now, policy: noControl })).toMatchObject({ reason: 'frequency-cap' });
    const skippedOnly = [sent('cross-sell', '2026-10-30T00:00:00.000Z', 'skipped'), sent('education', '2026-10-31T00:00:00.000Z', 'skipped')];
    expect(planSend({ trigger: trigger(), profile: p, recentSends: skippedOnly, now, policy: noControl })?.decision).toBe('send');
  });

  it('counts a send in flight (claimed, not yet completed) against the cap and the cooldown', () => {
    const p = profile({ consent: true });
    const inFlight = [sent('cross-sell', '2026-11-01T11:59:00.000Z', 'sending'), sent('education', '2026-10-31T00:00:00.000Z')];
    expect(planSend({ trigger: trigger(), profile: p, recentSends: inFlight, now, policy: noControl })).toMatchObject({ reason: 'frequency-cap' });
    const sameCampaign = [sent('retention-save', '2026-11-01T11:59:00.000Z', 'sending')];
    expect(planSend({ trigger: trigger(), profile: p, recentSends: sameCampaign, now, policy: noControl })).toMatchObject({ reason: 'cooldown' });
  });

  it('does not count its own ledger entry against the caps (a retry of the same send)', () => {
    const own = { ...sent('retention-save', '2026-11-01T11:59:00.000Z', 'sending'), sendId: 'retention-save#billing-complaint#c-1#e1' };
    expect(planSend({ trigger: trigger(), profile: profile({ consent: true }), recentSends: [own], now, policy: noControl })?.decision).toBe('send');
  });

  it('holds back a stable share of eligible customers as control', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `cust-${i}`);
    const share = ids.filter((id) => inControlGroup(id, 'retention-save', 10)).length / ids.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    const controlId = ids.find((id) => inControlGroup(id, 'retention-save', 10))!;
    const plan = planSend({ trigger: trigger(controlId), profile: profile({ consent: true, customerId: controlId }), recentSends: [], now });
    expect(plan?.decision).toBe('control');
    expect(planSend({ trigger: trigger(controlId), profile: profile({ consent: true, customerId: controlId }), recentSends: [], now })?.decision).toBe('control');
  });

  it('sends a winback counter-offer only with the permission recorded at cancellation', () => {
    let p = profile({ consent: true });
    expect(planSend({ trigger: trigger('c-1', 'winback'), profile: p, recentSends: [], now, policy: noControl })).toMatchObject({ reason: 'no-winback-permission' });
    p = applyEvent(p, businessEvent('SubscriptionCancelled', { allowWinbackContact: true }));
    expect(planSend({ trigger: trigger('c-1', 'winback'), profile: p, recentSends: [], now, policy: noControl })).toMatchObject({ decision: 'send', campaign: 'winback-counter-offer' });
  });

  it('ignores triggers that are not campaigns', () => {
    expect(planSend({ trigger: trigger('c-1', 'none'), profile: profile({ consent: true }), recentSends: [], now })).toBeUndefined();
  });
});
