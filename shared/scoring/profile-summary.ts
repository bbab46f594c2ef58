/**
 * A customer's model summary, read from the stored profile as of a run date.
 *
 * Ad-hoc buyers (BG/NBD + Gamma-Gamma): one transaction per purchase day (the profile
 * already keeps `purchaseDays`, day → money spent that day, as the BTYD models count).
 * The period unit is the WEEK (7 days), as in the CDNOW papers:
 *   x  = purchase days − 1 (repeat purchase days up to and including the as-of day),
 *   tₓ = (last purchase day − first purchase day) / 7,
 *   T  = (as-of day − first purchase day) / 7,
 *   monetary = mean spend of the repeat purchase days (the first day left out; 0 when x = 0).
 * Days after the as-of day are ignored (a rerun of an old night sees that night's data).
 *
 * Subscribers (sBG): the renewal period is the MONTH. A subscription spell starts at its
 * start (or its latest restart after a cancellation); a renewal is each whole calendar
 * month completed since then. An active customer has made `renewals` renewals (censored);
 * a customer whose spell ended churned at renewal decision floor(months to cancellation)+1.
 *
 * Pure: no I/O. The fit sample is chosen with the experiments' well-mixed hash, so the
 * same salt picks the same customers every night.
 */
import { parseDay } from '../clv/summary.ts';
import type { Tenure } from '../clv/sbg.ts';
import { type CustomerProfile, type Subscription, isActive } from '../customers/profile.ts';
import { isAssigned } from '../experiments/assignment.ts';

/** Days per model period for ad-hoc buyers: the week. */
export const AD_HOC_PERIOD_DAYS = 7;

export type CustomerKind = 'adhoc' | 'subscription';

export type AdHocSummary = {
  kind: 'adhoc';
  /** Repeat purchase days (x). */
  frequency: number;
  /** Weeks from the first to the last purchase day (tₓ). */
  recency: number;
  /** Weeks from the first purchase day to the as-of day (T). */
  T: number;
  /** Mean spend of the repeat purchase days (0 when frequency = 0). */
  monetary: number;
};

export type SubscriptionSummary = {
  kind: 'subscription';
  /** Whether a subscription is active on the as-of day. */
  active: boolean;
  /** Renewals made in the current (active) or last (ended) spell: whole months completed. */
  renewals: number;
  /** What the sBG fit sees: renewal decisions observed, and whether the last one was a churn. */
  tenure: Tenure;
  /** Sum of the monthly prices of the active subscriptions (undefined when none is known). */
  monthlyValue: number | undefined;
};

/** No purchase and no subscription yet (a lead, or a profile with only service events). */
export type NoHistory = { kind: 'none' };

export type ModelSummary = AdHocSummary | SubscriptionSummary | NoHistory;

/** Subscription customers: typed so by the producer, or (no type given) holding any subscription. */
export function customerKind(profile: CustomerProfile): CustomerKind {
  const declared = profile.customerType?.value;
  if (declared) return declared;
  return Object.keys(profile.subscriptions).length > 0 ? 'subscription' : 'adhoc';
}

/** `YYYY-MM-DD` or an ISO timestamp → day number (UTC). */
export function dayNumber(dateOrIso: string): number {
  const day = dateOrIso.slice(0, 10);
  const ms = Date.parse(`${day}T00:00:00.000Z`);
  // the fast path for the profile's well-formed days; parseDay gives the reason otherwise
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day) return parseDay(day); // throws, or accepts what it allows
  return Math.round(ms / 86_400_000);
}

/** Whole calendar months from `from` to `to` (ISO), counting a month once its day-of-month anniversary is reached. */
export function wholeMonthsBetween(from: string, to: string): number {
  const a = new Date(from);
  const b = new Date(to);
  let months = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth());
  if (b.getUTCDate() < a.getUTCDate()) months -= 1;
  return Math.max(0, months);
}

/** The start of a subscription's current spell (its latest restart if it was cancelled before). */
function spellStart(s: Subscription): string | undefined {
  if (s.cancellation && s.lastStartedAt && s.lastStartedAt > s.cancellation.at) return s.lastStartedAt;
  return s.startedAt ?? s.lastStartedAt;
}

/** The end of an ISO day as an ISO timestamp, so events during the as-of day count. */
const endOfDay = (asOf: string): string => `${asOf.slice(0, 10)}T23:59:59.999Z`;

function subscriptionSummary(profile: CustomerProfile, asOf: string): SubscriptionSummary | NoHistory {
  const cutoff = endOfDay(asOf);
  // only what had happened by the as-of day
  const subs = Object.values(profile.subscriptions).filter((s) => (spellStart(s) ?? '9999') <= cutoff);
  if (subs.length === 0) return { kind: 'none' };
  const activeOnDay = (s: Subscription) => isActive(s) || (s.cancellation !== undefined && s.cancellation.at > cutoff);
  const active = subs.filter(activeOnDay);
  if (active.length > 0) {
    const renewals = Math.max(...active.map((s) => wholeMonthsBetween(spellStart(s)!, cutoff)));
    const prices = active.map((s) => s.monthlyPrice?.value).filter((p): p is number => p !== undefined);
    return {
      kind: 'subscription',
      active: true,
      renewals,
      tenure: { periods: renewals, churned: false },
      monthlyValue: prices.length > 0 ? prices.reduce((a, b) => a + b, 0) : undefined,
    };
  }
  // every spell ended: the one that ended last
  const last = subs.reduce((a, b) => (a.cancellation!.at >= b.cancellation!.at ? a : b));
  const renewals = wholeMonthsBetween(spellStart(last)!, last.cancellation!.at);
  return { kind: 'subscription', active: false, renewals, tenure: { periods: renewals + 1, churned: true }, monthlyValue: undefined };
}

function adHocSummary(profile: CustomerProfile, asOf: string): AdHocSummary | NoHistory {
  const asOfDay = dayNumber(asOf);
  const days: [number, number][] = [];
  for (const [day, amount] of Object.entries(profile.purchaseDays)) {
    const d = dayNumber(day);
    if (d <= asOfDay) days.push([d, amount]);
  }
  if (days.length === 0) return { kind: 'none' };
  days.sort((a, b) => a[0] - b[0]);
  const first = days[0]![0];
  const last = days[days.length - 1]![0];
  const x = days.length - 1;
  let repeatSpend = 0;
  for (let i = 1; i < days.length; i++) repeatSpend += days[i]![1];
  return {
    kind: 'adhoc',
    frequency: x,
    recency: (last - first) / AD_HOC_PERIOD_DAYS,
    T: (asOfDay - first) / AD_HOC_PERIOD_DAYS,
    monetary: x > 0 ? repeatSpend / x : 0,
  };
}

/** The customer's model summary as of `asOf` (`YYYY-MM-DD`, inclusive). */
export function summarizeProfile(profile: CustomerProfile, asOf: string): ModelSummary {
  return customerKind(profile) === 'subscription' ? subscriptionSummary(profile, asOf) : adHocSummary(profile, asOf);
}

/**
 * The share of the base to put in tonight's fit: everybody up to `maxSample` customers,
 * then maxSample / base. `base` is the size of the base as last counted (the previous run's
 * summary); an estimate is fine, the sample is only as large as the share says.
 */
export function fitSampleShare(base: number, maxSample: number): number {
  if (!(maxSample >= 1)) throw new RangeError(`the fit sample must hold at least one customer (${maxSample})`);
  if (!(base >= 0)) throw new RangeError(`the base size must be ≥ 0 (${base})`);
  return base <= maxSample ? 1 : maxSample / base;
}

/**
 * Whether the customer is in the fit sample: the customer's well-mixed point for `salt`
 * is below `share`. The same salt gives the same sample every night, and a smaller share
 * gives a subset of a larger one (the base grew: the sample only loses customers).
 */
export function inFitSample(customerId: string, salt: string, share: number): boolean {
  if (share >= 1) return true;
  return isAssigned(customerId, `fit-sample:${salt}`, share * 100);
}
