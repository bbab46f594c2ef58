/**
 * The guardrails added for every campaign type: suppression and erasure, transactional and
 * service emails (exempt from the cap, holdout and breaker; the welcome not to a refuser),
 * the global holdout beside the per-campaign control group, the deliverability circuit
 * breaker, and deferral to the customer's own hour. Expected values are written by hand.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import { holdoutSalt, inGlobalHoldout, planSend, type SendPolicy } from '../../../shared/campaigns/guardrails.ts';
import { breakerState } from '../../../shared/campaigns/circuit-breaker.ts';
import type { CampaignRequest } from '../../../shared/campaigns/requests.ts';
import { assignmentPoint } from '../../../shared/experiments/assignment.ts';
import type { SendRecord } from '../../../shared/ports.ts';
import { businessEvent } from '../../support/events.ts';

const now = new Date('2026-11-02T12:00:00.000Z');
const breaker = { windowHours: 24, minSends: 200, bounceRate: 0.04, complaintRate: 0.0008, pauseMinutes: 60 };
const policy: SendPolicy = {
  controlGroupPercent: 0,
  controlGroupExperiment: 'v1',
  frequencyCapPerWeek: 2,
  cooldownDays: {},
  holdoutPercent: 0,
  quietHours: { startHour: 21, endHour: 8 },
  breaker,
};

const request = (campaign: CampaignRequest['campaign'], requestId = 'r1'): CampaignRequest => ({ requestId, customerId: 'c-1', campaign, source: 'event', rule: '' });

function profile(fields: { consent?: boolean; timeZone?: string; preferredHour?: number; customerId?: string } = {}): CustomerProfile {
  const customerId = fields.customerId ?? 'c-1';
  let p = applyEvent(emptyProfile(customerId), businessEvent('CustomerProfileUpdated', { customerId, email: 'ada@example.com', timeZone: fields.timeZone, preferredHour: fields.preferredHour }));
  if (fields.consent !== undefined) p = applyEvent(p, businessEvent('ConsentChanged', { customerId, granted: fields.consent }));
  return p;
}

const plan = (campaign: CampaignRequest['campaign'], p: CustomerProfile, extra: Partial<Parameters<typeof planSend>[0]> = {}) =>
  planSend({ request: request(campaign), profile: p, recentSends: [], now, policy, ...extra });

const sent = (campaign: string, n: number): SendRecord => ({ sendId: `${campaign}#${n}`, customerId: 'c-1', campaign, status: 'sent', at: '2026-11-01T10:00:00.000Z' });

describe('suppression: nothing of any kind', () => {
  it.each([
    ['a hard bounce', { suppression: { value: { reason: 'hard-bounce' as const }, at: '2026-10-01T00:00:00.000Z', by: 'fb-1' } }, 'suppressed-hard-bounce'],
    ['a complaint', { suppression: { value: { reason: 'complaint' as const }, at: '2026-10-01T00:00:00.000Z', by: 'fb-2' } }, 'suppressed-complaint'],
    ['an erased customer', { erasedAt: '2026-10-01T00:00:00.000Z' }, 'erased'],
  ])('%s: no marketing, no statement, no welcome', (_n, flags, reason) => {
    const p = { ...profile({ consent: true }), ...flags };
    for (const c of ['cross-sell', 'statement', 'collection-notice', 'welcome'] as const) expect(plan(c, p)).toMatchObject({ decision: 'skip', reason });
  });
});

describe('transactional and service emails', () => {
  it('a statement goes without marketing consent, and past the weekly cap', () => {
    expect(plan('statement', profile())).toEqual({ decision: 'send', campaign: 'statement', sendId: 'statement#r1', to: 'ada@example.com' });
    expect(plan('statement', profile({ consent: false }), { recentSends: [sent('cross-sell', 1), sent('up-sell', 2)] })?.decision).toBe('send');
  });

  it('transactional emails do not count against the marketing cap', () => {
    const p = profile({ consent: true });
    const busy = [sent('statement', 1), sent('invoice', 2), sent('collection-notice', 3), sent('welcome', 4)];
    expect(plan('cross-sell', p, { recentSends: busy })?.decision).toBe('send');
    expect(plan('cross-sell', p, { recentSends: [...busy, sent('up-sell', 5), sent('reward', 6)] })).toMatchObject({ reason: 'frequency-cap' });
  });

  it('the welcome asks for permission, but not of someone who refused it', () => {
    expect(plan('welcome', profile())?.decision).toBe('send');
    expect(plan('welcome', profile({ consent: false }))).toMatchObject({ decision: 'skip', reason: 'marketing-refused' });
  });

  it('the welcome goes at most once a year (its cooldown)', () => {
    const before: SendRecord = { ...sent('welcome', 9), at: '2025-11-03T00:00:00.000Z' };
    expect(plan('welcome', profile(), { recentSends: [before] })).toMatchObject({ decision: 'skip', reason: 'cooldown' });
    expect(plan('welcome', profile(), { recentSends: [{ ...before, at: '2025-11-01T00:00:00.000Z' }] })?.decision).toBe('send');
  });
});

describe('global holdout beside the control group', () => {
  const ids = Array.from({ length: 4000 }, (_, i) => `C-${i}`);

  it('holds out about its share of customers from every marketing campaign, and no transactional email', () => {
    const held = ids.filter((id) => inGlobalHoldout(id, 5, 'v1'));
    // binomial(4000, 0.05): mean 200, sd 13.8; within 4 sd
    expect(held.length).toBeGreaterThan(145);
    expect(held.length).toBeLessThan(255);
    const id = held[0]!;
    const p = profile({ consent: true, customerId: id });
    const withHoldout = { ...policy, holdoutPercent: 5 };
    for (const c of ['cross-sell', 'retention-save', 'reward'] as const) {
      expect(planSend({ request: { ...request(c), customerId: id }, profile: p, recentSends: [], now, policy: withHoldout })).toMatchObject({ decision: 'control', reason: 'global holdout (5%)' });
    }
    expect(planSend({ request: { ...request('statement'), customerId: id }, profile: p, recentSends: [], now, policy: withHoldout })?.decision).toBe('send');
  });

  it('is salted on its own: independent of the campaign control groups', () => {
    expect(holdoutSalt('v1')).toBe('global-holdout/v1');
    expect(inGlobalHoldout('C-1', 0, 'v1')).toBe(false);
    const a = ids.map((id) => assignmentPoint(id, holdoutSalt('v1')) < 0.5);
    const b = ids.map((id) => assignmentPoint(id, 'control-group/cross-sell/v1') < 0.5);
    const both = a.filter((x, i) => x && b[i]).length;
    // independent halves: about a quarter in both (sd ≈ 27)
    expect(Math.abs(both - 1000)).toBeLessThan(110);
  });
});

describe('the deliverability circuit breaker', () => {
  it('opens near SES review thresholds, only with enough sends', () => {
    expect(breakerState({ sends: 1000, bounces: 39, complaints: 0 }, breaker)).toEqual({ open: false });
    expect(breakerState({ sends: 1000, bounces: 40, complaints: 0 }, breaker)).toEqual({ open: true, reason: 'bounce rate 4.00% over 24 h' });
    expect(breakerState({ sends: 10000, bounces: 0, complaints: 8 }, breaker)).toEqual({ open: true, reason: 'complaint rate 0.080% over 24 h' });
    expect(breakerState({ sends: 10000, bounces: 0, complaints: 7 }, breaker)).toEqual({ open: false });
    expect(breakerState({ sends: 199, bounces: 100, complaints: 10 }, breaker)).toEqual({ open: false });
  });

  it('defers marketing by its pause, lets statements through', () => {
    const bad = { sends: 1000, bounces: 60, complaints: 0 };
    const p = profile({ consent: true });
    expect(plan('cross-sell', p, { deliverability: bad })).toEqual({
      decision: 'defer', campaign: 'cross-sell', sendId: 'cross-sell#r1', reason: 'circuit-breaker: bounce rate 6.00% over 24 h', until: '2026-11-02T13:00:00.000Z',
    });
    expect(plan('statement', p, { deliverability: bad })?.decision).toBe('send');
    expect(plan('welcome', p, { deliverability: bad })?.decision).toBe('send');
  });
});

describe("the customer's own hour", () => {
  it('defers a marketing email to the preferred hour, in the customer zone', () => {
    const p = profile({ consent: true, timeZone: 'America/New_York', preferredHour: 18 });
    expect(plan('up-sell', p)).toEqual({ decision: 'defer', campaign: 'up-sell', sendId: 'up-sell#r1', reason: 'preferred-hour', until: '2026-11-02T23:00:00.000Z' });
  });

  it('defers a statement out of the quiet hours, ignoring the preferred hour', () => {
    const p = profile({ timeZone: 'Asia/Tokyo', preferredHour: 18 });
    // 12:00 UTC is 21:00 in Tokyo: quiet until 08:00 Tokyo (23:00 UTC)
    expect(plan('statement', p)).toEqual({ decision: 'defer', campaign: 'statement', sendId: 'statement#r1', reason: 'quiet-hours', until: '2026-11-02T23:00:00.000Z' });
  });

  it('checks consent and caps before deferring: a capped customer is skipped, not deferred', () => {
    const p = profile({ consent: true, preferredHour: 6 });
    expect(plan('up-sell', p, { recentSends: [sent('cross-sell', 1), sent('reward', 2)] })).toMatchObject({ decision: 'skip', reason: 'frequency-cap' });
    expect(plan('up-sell', profile({ preferredHour: 6 }))).toMatchObject({ decision: 'skip', reason: 'no-marketing-consent' });
  });

  it('a deferral of the same campaign does not start its cooldown', () => {
    const deferred: SendRecord = { sendId: 'up-sell#r0', customerId: 'c-1', campaign: 'up-sell', status: 'deferred', at: '2026-11-02T10:00:00.000Z', deferredUntil: '2026-11-02T18:00:00.000Z' };
    expect(plan('up-sell', profile({ consent: true }), { recentSends: [deferred] })?.decision).toBe('send');
  });
});
