/**
 * Churn trigger rules: given a newly stored business event and the customer's
 * profile (which already includes that event), decide which triggers fire.
 *
 * - single triggers fire on one event (a billing complaint, a slow resolution);
 * - collective triggers fire when several signals line up (declining usage
 *   plus a network complaint; repeated complaints; repeated payment failures).
 *
 * Trigger ids are deterministic, so a redelivered stream record fires nothing new:
 * single triggers are keyed on the event, collective ones on the customer and
 * a time window (they fire at most once per window).
 */
import type { BusinessEvent, nextActions, triggerKinds } from '../events/catalog.ts';
import { toUtcIso, type CustomerProfile } from '../customers/profile.ts';
import { defaults } from '../defaults.ts';
import type { TriggerDecision } from '../ports.ts';

export type TriggerPolicy = {
  /** Resolution time above which a resolved call counts as a bad experience. */
  slowResolutionMinutes: number;
  /** Window in days for the collective rules. */
  windowDays: number;
  /** Complaints within the window that count as repeated. */
  repeatComplaints: number;
  /** Payment failures within the window that count as repeated. */
  repeatPaymentFailures: number;
  /** Last complete month's usage below this share of the mean of the months before it counts as declining. */
  usageDeclineRatio: number;
  /** Months before the last one used as the usage baseline. */
  usageBaselineMonths: number;
  /**
   * Events that happened longer ago than this (relative to now) fire nothing: triggers are
   * for what is happening, not for history being loaded or replayed from an archive.
   */
  maxEventAgeDays: number;
  /** Whether a cancellation request (the customer asked to leave) fires a save offer before she goes. */
  saveOfferOnCancellationRequest: boolean;
};

export const defaultTriggerPolicy: TriggerPolicy = {
  slowResolutionMinutes: 48 * 60,
  windowDays: 30,
  repeatComplaints: 3,
  repeatPaymentFailures: 2,
  usageDeclineRatio: 0.5,
  usageBaselineMonths: 3,
  maxEventAgeDays: defaults.triggerFreshnessDays,
  saveOfferOnCancellationRequest: defaults.saveOfferOnCancellationRequest,
};

/** Detail-types these rules look at; the stream subscription's filter is built from this list. */
export const triggerEventTypes = [
  'SupportCallLogged',
  'SupportCallResolved',
  'UsageRecorded',
  'PaymentFailed',
  'SubscriptionChanged',
  'SubscriptionCancelled',
  'CancellationRequested',
] as const satisfies readonly BusinessEvent['type'][];

type Kind = (typeof triggerKinds)[number];
type Action = (typeof nextActions)[number];

const DAY_MS = 86_400_000;
const complaintReasons = new Set(['billing', 'network', 'technical', 'product', 'delivery']);

function decision(
  rule: string,
  kind: Kind,
  action: Action,
  customerId: string,
  key: string,
  reasons: string[],
  boost: number,
  sourceEventIds: string[],
): TriggerDecision {
  return { triggerId: `${rule}#${customerId}#${key}`, customerId, rule, kind, action, reasons, churnRiskBoost: boost, sourceEventIds };
}

/** The call ids of complaints logged within `days` before `at` (inclusive). */
function recentComplaints(profile: CustomerProfile, at: string, days: number, reason?: string): string[] {
  const from = new Date(Date.parse(at) - days * DAY_MS).toISOString();
  return Object.values(profile.supportCalls)
    .filter((c) => c.loggedAt !== undefined && c.loggedAt >= from && c.loggedAt <= at)
    .filter((c) => (reason ? c.reason === reason : complaintReasons.has(c.reason ?? '')))
    .map((c) => c.callId)
    .sort();
}

const monthKey = (d: Date): string => d.toISOString().slice(0, 7);
function previousMonths(at: string, n: number): string[] {
  const d = new Date(at);
  const out: string[] = [];
  for (let i = 1; i <= n; i++) out.push(monthKey(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1))));
  return out;
}

/**
 * Products whose usage in the last complete month (before `at`) fell below
 * `ratio` × the mean of the `baseline` months before it. Needs a full baseline.
 */
export function decliningProducts(profile: CustomerProfile, at: string, policy: TriggerPolicy = defaultTriggerPolicy): string[] {
  const [last, ...baseline] = previousMonths(at, policy.usageBaselineMonths + 1);
  const out: string[] = [];
  for (const [productId, months] of Object.entries(profile.usage)) {
    if (baseline.some((m) => months[m] === undefined)) continue;
    const mean = baseline.reduce((s, m) => s + (months[m] ?? 0), 0) / baseline.length;
    const lastUse = months[last!] ?? 0;
    if (mean > 0 && lastUse < policy.usageDeclineRatio * mean) out.push(productId);
  }
  return out.sort();
}

export function evaluateTriggers(
  event: BusinessEvent,
  profile: CustomerProfile,
  now: Date,
  policy: TriggerPolicy = defaultTriggerPolicy,
): TriggerDecision[] {
  const d = event.detail;
  const customerId = d.customerId;
  const at = toUtcIso(d.occurredAt);
  if (Date.parse(at) < now.getTime() - policy.maxEventAgeDays * DAY_MS) return [];
  const window = `${at.slice(0, 7)}`; // collective rules fire at most once per customer per calendar month
  const out: TriggerDecision[] = [];

  if (event.type === 'SupportCallLogged') {
    if (event.detail.reason === 'billing') {
      out.push(decision('billing-complaint', 'single', 'retention-save', customerId, d.eventId, ['support call about billing'], 0.2, [d.eventId]));
    }
    const complaints = recentComplaints(profile, at, policy.windowDays);
    if (complaints.length >= policy.repeatComplaints) {
      out.push(
        decision('repeated-complaints', 'collective', 'retention-save', customerId, window,
          [`${complaints.length} complaints in ${policy.windowDays} days`], 0.25, [d.eventId]),
      );
    }
  }

  if (event.type === 'SupportCallResolved') {
    const e = event.detail;
    if (e.resolutionMinutes > policy.slowResolutionMinutes || !e.resolved) {
      const why = e.resolved ? `support call took ${Math.round(e.resolutionMinutes / 60)} hours to resolve` : 'support call closed unresolved';
      out.push(decision('poor-resolution', 'single', 'retention-save', customerId, d.eventId, [why], 0.15, [d.eventId]));
    }
  }

  // Collective: declining usage plus a network complaint within the window, whichever arrives last.
  if (event.type === 'UsageRecorded' || (event.type === 'SupportCallLogged' && event.detail.reason === 'network')) {
    const declining = decliningProducts(profile, at, policy);
    const network = recentComplaints(profile, at, policy.windowDays, 'network');
    if (declining.length > 0 && network.length > 0) {
      out.push(
        decision('usage-decline-with-network-complaint', 'collective', 'retention-save', customerId, window,
          [`usage declining for ${declining.join(', ')}`, `${network.length} network complaint(s) in ${policy.windowDays} days`], 0.3, [d.eventId]),
      );
    }
  }

  if (event.type === 'PaymentFailed') {
    const from = new Date(Date.parse(at) - policy.windowDays * DAY_MS).toISOString();
    const failures = profile.paymentFailures.filter((f) => f >= from && f <= at);
    if (failures.length >= policy.repeatPaymentFailures) {
      out.push(
        decision('repeated-payment-failures', 'collective', 'retention-save', customerId, window,
          [`${failures.length} failed payments in ${policy.windowDays} days`], 0.2, [d.eventId]),
      );
    }
  }

  if (event.type === 'SubscriptionChanged' && event.detail.change === 'downgrade') {
    out.push(decision('downgrade', 'single', 'retention-save', customerId, d.eventId, ['subscription downgraded'], 0.1, [d.eventId]));
  }

  if (event.type === 'SubscriptionCancelled' && event.detail.allowWinbackContact) {
    out.push(
      decision('cancelled-with-winback-permission', 'single', 'winback', customerId, d.eventId,
        [`cancelled: ${event.detail.reasonCode ?? event.detail.reason ?? 'no reason given'}`], 1, [d.eventId]),
    );
  }

  // Seed 003: save a customer who says she no longer wants the product, before she goes.
  if (event.type === 'CancellationRequested' && policy.saveOfferOnCancellationRequest) {
    out.push(
      decision('cancellation-requested', 'single', 'retention-save', customerId, d.eventId,
        [`asked to cancel${event.detail.reasonCode ? `: ${event.detail.reasonCode}` : ''}`], 0.5, [d.eventId]),
    );
  }

  return out;
}
