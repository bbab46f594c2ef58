/**
 * The send guardrails, pinned at their boundaries: which consent counts, how long the
 * frequency-cap window and the cooldowns are, which ledger statuses count, and the order
 * in which the reasons to skip are checked. Expected values are written out by hand (from
 * the policy the docs describe), never read back from the code under test.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, hasConsent, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent, ChurnTriggerFired } from '../../../shared/events/catalog.ts';
import { campaignFor, defaultSendPolicy, planSend, sendIdFor, type SendPolicy } from '../../../shared/campaigns/guardrails.ts';
import type { SendRecord } from '../../../shared/ports.ts';
import { businessEvent } from '../../support/events.ts';

const now = new Date('2026-11-01T12:00:00.000Z');
const DAY = 86_400_000;
const ago = (days: number, extraMs = 0): string => new Date(now.getTime() - days * DAY - extraMs).toISOString();
/** No control group, so every eligible customer is sent to (the hash is not what these tests are about). */
const policy: SendPolicy = { controlGroupPercent: 0, controlGroupExperiment: 'v1', frequencyCapPerWeek: 2, cooldownDays: { 'retention-save': 30, 'winback-counter-offer': 90, 'winback-sequence': 30 } };

const trigger = (action: ChurnTriggerFired['action'] = 'retention-save', triggerId = 'billing-complaint#c-1#e1'): ChurnTriggerFired => ({
  triggerId,
  customerId: 'c-1',
  rule: action === 'winback' ? 'cancelled-with-winback-permission' : 'billing-complaint',
  kind: 'single',
  action,
  reasons: ['test'],
  churnRiskBoost: 0.2,
  sourceEventIds: ['e1'],
  firedAt: now.toISOString(),
  schemaVersion: 1,
});

const fold = (events: BusinessEvent[]): CustomerProfile => events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));
const address = () => businessEvent('CustomerProfileUpdated', { email: 'Ada@Example.com', occurredAt: ago(10) });
const consent = (fields: { channel?: string; purpose?: string; granted: boolean; occurredAt?: string }) =>
  businessEvent('ConsentChanged', { channel: 'email', purpose: 'marketing', occurredAt: ago(5), ...fields });
const eligible = (): CustomerProfile => fold([address(), consent({ granted: true })]);

const record = (campaign: string, at: string, status: SendRecord['status'] = 'sent', n = 0): SendRecord => ({
  sendId: `${campaign}#other-${n}#${at}`,
  customerId: 'c-1',
  campaign,
  status,
  at,
});
const plan = (recentSends: SendRecord[], p: CustomerProfile = eligible(), t = trigger()) => planSend({ trigger: t, profile: p, recentSends, now, policy });

describe('consent: only a grant of marketing consent on the email channel counts', () => {
  it('does not take a grant of service consent for marketing consent', () => {
    const p = fold([address(), consent({ purpose: 'service', granted: true })]);
    expect(hasConsent(p, 'email', 'service')).toBe(true);
    expect(hasConsent(p, 'email', 'marketing')).toBe(false);
    expect(hasConsent(p, 'email')).toBe(false);
    expect(plan([], p)).toEqual({ decision: 'skip', campaign: 'retention-save', sendId: 'retention-save#billing-complaint#c-1#e1', reason: 'no-marketing-consent' });
  });

  it('does not take marketing consent on another channel for email', () => {
    const p = fold([address(), consent({ channel: 'sms', granted: true })]);
    expect(plan([], p)).toMatchObject({ decision: 'skip', reason: 'no-marketing-consent' });
  });

  it('a later withdrawal of service consent leaves a marketing grant standing', () => {
    const p = fold([address(), consent({ granted: true, occurredAt: ago(5) }), consent({ purpose: 'service', granted: false, occurredAt: ago(1) })]);
    expect(hasConsent(p, 'email')).toBe(true);
    expect(plan([], p)).toEqual({ decision: 'send', campaign: 'retention-save', sendId: 'retention-save#billing-complaint#c-1#e1', to: 'ada@example.com' });
  });

  it('the latest marketing consent decides, whatever order it arrives in', () => {
    const grant = consent({ granted: true, occurredAt: ago(5) });
    const withdraw = consent({ granted: false, occurredAt: ago(2) });
    expect(plan([], fold([address(), grant, withdraw]))).toMatchObject({ reason: 'no-marketing-consent' });
    expect(plan([], fold([address(), withdraw, grant]))).toMatchObject({ reason: 'no-marketing-consent' });
    const regrant = consent({ granted: true, occurredAt: ago(1) });
    expect(plan([], fold([address(), regrant, withdraw, grant]))?.decision).toBe('send');
  });
});

describe('order of the checks', () => {
  it('an unknown customer, then no address, then no consent, then another channel', () => {
    expect(planSend({ trigger: trigger(), profile: undefined, recentSends: [], now, policy })).toEqual({
      decision: 'skip', campaign: 'retention-save', sendId: 'retention-save#billing-complaint#c-1#e1', reason: 'unknown-customer',
    });
    expect(plan([], fold([consent({ granted: true })]))).toMatchObject({ reason: 'no-email-address' });
    expect(plan([], fold([address()]))).toMatchObject({ reason: 'no-marketing-consent' });
    const sms = businessEvent('CustomerProfileUpdated', { preferredChannel: 'sms', occurredAt: ago(3) });
    expect(plan([], fold([address(), sms]))).toMatchObject({ reason: 'no-marketing-consent' });
    expect(plan([], fold([address(), consent({ granted: true }), sms]))).toMatchObject({ decision: 'skip', reason: 'prefers-sms' });
    const email = businessEvent('CustomerProfileUpdated', { preferredChannel: 'email', occurredAt: ago(3) });
    expect(plan([], fold([address(), consent({ granted: true }), email]))?.decision).toBe('send');
  });

  it('a customer whose caps are reached is skipped for the cap, not held back as control', () => {
    const all: SendPolicy = { ...policy, controlGroupPercent: 100 };
    expect(planSend({ trigger: trigger(), profile: eligible(), recentSends: [], now, policy: all })).toEqual({
      decision: 'control',
      campaign: 'retention-save',
      sendId: 'retention-save#billing-complaint#c-1#e1',
      reason: 'control group (100%)',
    });
    const busy = [record('education', ago(1), 'sent', 1), record('cross-sell', ago(2), 'sent', 2)];
    expect(planSend({ trigger: trigger(), profile: eligible(), recentSends: busy, now, policy: all })).toMatchObject({ decision: 'skip', reason: 'frequency-cap' });
    const cooling = [record('retention-save', ago(3))];
    expect(planSend({ trigger: trigger(), profile: eligible(), recentSends: cooling, now, policy: all })).toMatchObject({ decision: 'skip', reason: 'cooldown' });
  });

  it('without a policy, the default applies: 2 a week, cooldowns of 30 and 90 days', () => {
    expect(defaultSendPolicy).toEqual({
      controlGroupPercent: 10,
      controlGroupExperiment: 'v1',
      frequencyCapPerWeek: 2,
      cooldownDays: { 'retention-save': 30, 'winback-counter-offer': 90, 'winback-sequence': 30 },
      holdoutPercent: 5,
      holdoutExperiment: 'v1',
      quietHours: { startHour: 21, endHour: 8 },
      breaker: { windowHours: 24, minSends: 200, bounceRate: 0.04, complaintRate: 0.0008, pauseMinutes: 60 },
    });
    const busy = [record('education', ago(1), 'sent', 1), record('cross-sell', ago(2), 'sent', 2)];
    expect(planSend({ trigger: trigger(), profile: eligible(), recentSends: busy, now })).toMatchObject({ reason: 'frequency-cap' });
    expect(planSend({ trigger: trigger(), profile: eligible(), recentSends: [record('retention-save', ago(29))], now })).toMatchObject({ reason: 'cooldown' });
  });
});

describe('frequency cap: at most 2 marketing emails in any 7 days', () => {
  it('counts sends up to exactly 7 days back, and none older', () => {
    const justInside = [record('education', ago(7), 'sent', 1), record('cross-sell', ago(6.5), 'sent', 2)];
    expect(plan(justInside)).toMatchObject({ decision: 'skip', reason: 'frequency-cap' });
    const fiveDays = [record('education', ago(5), 'sent', 1), record('cross-sell', ago(4), 'sent', 2)];
    expect(plan(fiveDays)).toMatchObject({ decision: 'skip', reason: 'frequency-cap' });
    const oneOutside = [record('education', ago(7, 1), 'sent', 1), record('cross-sell', ago(6.5), 'sent', 2)];
    expect(plan(oneOutside)?.decision).toBe('send');
  });

  it('one send in the week is under the cap; two reach it', () => {
    expect(plan([record('education', ago(1), 'sent', 1)])?.decision).toBe('send');
    expect(plan([record('education', ago(1), 'sent', 1), record('education', ago(2), 'sent', 2)])).toMatchObject({ reason: 'frequency-cap' });
  });

  it('counts sent and in-flight sends, not skipped ones or control hold-backs', () => {
    const held = [record('education', ago(1), 'control', 1), record('cross-sell', ago(2), 'control', 2)];
    expect(plan(held)?.decision).toBe('send');
    const skipped = [record('education', ago(1), 'skipped', 1), record('cross-sell', ago(2), 'skipped', 2)];
    expect(plan(skipped)?.decision).toBe('send');
    const mixed = [record('education', ago(1), 'sending', 1), record('cross-sell', ago(2), 'sent', 2)];
    expect(plan(mixed)).toMatchObject({ reason: 'frequency-cap' });
  });

  it('follows the policy cap', () => {
    const two = [record('education', ago(1), 'sent', 1), record('cross-sell', ago(2), 'sent', 2)];
    expect(planSend({ trigger: trigger(), profile: eligible(), recentSends: two, now, policy: { ...policy, frequencyCapPerWeek: 3 } })?.decision).toBe('send');
    expect(planSend({ trigger: trigger(), profile: eligible(), recentSends: [], now, policy: { ...policy, frequencyCapPerWeek: 0 } })).toMatchObject({ reason: 'frequency-cap' });
  });

  it('does not count the ledger entry of this very send', () => {
    const own = { ...record('retention-save', ago(0, 60_000), 'sending'), sendId: sendIdFor('retention-save', 'billing-complaint#c-1#e1') };
    expect(plan([own, record('education', ago(1), 'sent', 1)])?.decision).toBe('send');
  });
});

describe('cooldown: the same campaign at most once in 30 (retention) or 90 (winback) days', () => {
  it('retention-save: a send 30 days ago still cools; 30 days and a millisecond ago does not', () => {
    expect(plan([record('retention-save', ago(30))])).toMatchObject({ reason: 'cooldown' });
    expect(plan([record('retention-save', ago(30, 1))])?.decision).toBe('send');
  });

  it('counts sent, in-flight and control entries of the campaign, not skipped ones', () => {
    expect(plan([record('retention-save', ago(20), 'control')])).toMatchObject({ reason: 'cooldown' });
    expect(plan([record('retention-save', ago(20), 'sending')])).toMatchObject({ reason: 'cooldown' });
    expect(plan([record('retention-save', ago(20), 'skipped')])?.decision).toBe('send');
  });

  it('another campaign does not cool this one', () => {
    expect(plan([record('winback-counter-offer', ago(20))])?.decision).toBe('send');
  });

  it('winback: 90 days', () => {
    const cancelled = fold([address(), consent({ granted: true }), businessEvent('SubscriptionCancelled', { occurredAt: ago(1), allowWinbackContact: true })]);
    const t = trigger('winback', 'cancelled-with-winback-permission#c-1#e9');
    expect(plan([record('winback-counter-offer', ago(89))], cancelled, t)).toMatchObject({ decision: 'skip', campaign: 'winback-counter-offer', reason: 'cooldown' });
    expect(plan([record('winback-counter-offer', ago(90))], cancelled, t)).toMatchObject({ reason: 'cooldown' });
    expect(plan([record('winback-counter-offer', ago(90, 1))], cancelled, t)).toEqual({
      decision: 'send',
      campaign: 'winback-counter-offer',
      sendId: 'winback-counter-offer#cancelled-with-winback-permission#c-1#e9',
      to: 'ada@example.com',
    });
  });

  it('a cooldown of 0 days turns the cooldown off', () => {
    const off: SendPolicy = { ...policy, cooldownDays: { 'retention-save': 0, 'winback-counter-offer': 0, 'winback-sequence': 0 } };
    expect(planSend({ trigger: trigger(), profile: eligible(), recentSends: [record('retention-save', now.toISOString())], now, policy: off })?.decision).toBe('send');
  });
});

describe('winback needs a live winback grant in the consent ledger, for a customer who left', () => {
  const t = trigger('winback', 'cancelled-with-winback-permission#c-1#e9');
  it('skips when the cancellation refused contact, or the subscription was restarted', () => {
    const refused = fold([address(), consent({ granted: true }), businessEvent('SubscriptionCancelled', { occurredAt: ago(1), allowWinbackContact: false })]);
    expect(plan([], refused, t)).toMatchObject({ decision: 'skip', reason: 'no-winback-permission' });
    const restarted = fold([
      address(),
      consent({ granted: true }),
      businessEvent('SubscriptionCancelled', { occurredAt: ago(3), subscriptionId: 's-1', allowWinbackContact: true }),
      businessEvent('SubscriptionStarted', { occurredAt: ago(1), subscriptionId: 's-1', productId: 'p-1', plan: 'basic', monthlyPrice: 5, currency: 'EUR' }),
    ]);
    expect(plan([], restarted, t)).toMatchObject({ reason: 'not-a-former-customer' });
  });

  it('a retention save does not need it', () => {
    expect(plan([], eligible())?.decision).toBe('send');
  });
});

describe('campaigns by action (hand-written table)', () => {
  it.each([
    ['retention-save', 'retention-save'],
    ['winback', 'winback-counter-offer'],
    ['education', 'education'],
    ['usage-stimulation', 'usage-stimulation'],
    ['cross-sell', 'cross-sell'],
    ['up-sell', 'up-sell'],
    ['down-sell', 'down-sell'],
    ['reward', 'reward'],
    ['service-recovery', 'retention-save'],
    ['payment-help', 'collection-notice'],
    ['none', undefined],
  ] as const)('%s → %s', (action, campaign) => {
    expect(campaignFor(trigger(action))).toBe(campaign);
    if (!campaign) expect(plan([], eligible(), trigger(action))).toBeUndefined();
  });

  it('the send id is the campaign and the trigger id', () => {
    expect(sendIdFor('retention-save', 'billing-complaint#c-1#e1')).toBe('retention-save#billing-complaint#c-1#e1');
  });
});
