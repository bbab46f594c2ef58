/**
 * The customer profile and its aggregates, folded from business events.
 *
 * `applyEvent` is pure and order-independent: every field is either a sum, a
 * min/max, a set, or a last-writer-wins register keyed on the event's
 * `occurredAt` (ties broken by eventId). Applying the same events in any order
 * gives the same profile, which is what lets producers send out of order.
 * Duplicates are removed before this (by the event's idempotency key), never here.
 *
 * One limit: the capped lists (the latest 50 orders and support calls) keep the
 * latest entries by time; if an event for an entry that was already dropped
 * arrives very late, which older entries are kept can differ. Every count, sum,
 * register and purchase day is exact whatever the order.
 */
import { createHash } from 'node:crypto';
import type { BusinessEvent, ExitReason, InboundDetail } from '../events/catalog.ts';
import { consentRecordsOf, defaultConsentPolicy, foldConsent, type ConsentPolicy, type ConsentState } from '../consent/ledger.ts';

/** A last-writer-wins register: the value with the latest (at, by) wins. */
export type Stamped<T> = { value: T; at: string; by: string };

export type SupportCall = {
  callId: string;
  reason?: string;
  loggedAt?: string;
  /** eventId of the log event that set `reason`/`loggedAt` (tie-break for last-writer-wins). */
  loggedBy?: string;
  resolution?: Stamped<{ minutes: number; resolved: boolean }>;
};

export type Subscription = {
  subscriptionId: string;
  productId?: Stamped<string>;
  plan?: Stamped<string>;
  monthlyPrice?: Stamped<number>;
  currency?: Stamped<string>;
  /** First and latest start: a start after the last cancellation makes the subscription active again. */
  startedAt?: string;
  lastStartedAt?: string;
  /**
   * The latest cancellation: why (the taxonomy's code and free text, either may be absent), and
   * whether the customer allowed winback contact (false when not asked; the consent ledger holds the answer).
   */
  cancellation?: Stamped<{ reason: string; reasonCode?: ExitReason; allowWinbackContact: boolean }>;
  lastChange?: Stamped<'upgrade' | 'downgrade' | 'other'>;
};

/** An order: its placement (the amount, stamped with when it was placed) and its latest status. */
export type OrderState = { orderId: string; placed?: Stamped<number>; status?: Stamped<string> };

const orderKey = (o: OrderState): string => o.placed?.at ?? o.status?.at ?? '';

export type CustomerProfile = {
  customerId: string;
  email?: Stamped<string>;
  firstName?: Stamped<string>;
  locale?: Stamped<string>;
  timeZone?: Stamped<string>;
  preferredChannel?: Stamped<string>;
  preferredHour?: Stamped<number>;
  customerType?: Stamped<'subscription' | 'adhoc'>;
  /** `${channel}:${purpose}` → granted, last writer wins. */
  consent: Record<string, Stamped<boolean>>;
  /**
   * The consent ledger's current state (shared/consent/ledger.ts): per purpose, the latest grant or
   * withdrawal record. The records themselves are kept as CONSENT# items (the auditor's history).
   */
  consentState: ConsentState;
  /** Why the customer left (or is leaving): the latest reason from the taxonomy given by a cancellation, closure or exit survey. */
  leavingReason?: Stamped<{ code: ExitReason; text?: string }>;
  /** The latest cancellation request (the customer asked to leave; a save offer may follow). */
  cancellationRequest?: Stamped<{ subscriptionId?: string; reasonCode?: ExitReason }>;
  /** When the account was closed (the latest closure): every subscription started before it ended then. */
  accountClosedAt?: Stamped<true>;
  /** Time of the earliest and the latest event seen (ISO, UTC). */
  firstSeenAt?: string;
  lastEventAt?: string;
  eventCount: number;
  /** Purchase days (YYYY-MM-DD, UTC) → money spent that day: one transaction per day, as the BTYD models count. */
  purchaseDays: Record<string, number>;
  orderCount: number;
  totalSpend: number;
  /** The most recent orders and their status (capped). */
  orders: Record<string, OrderState>;
  returnCount: number;
  returnValue: number;
  invoiceCount: number;
  statementCount: number;
  invoicedTotal: number;
  /** productId → month (YYYY-MM) → quantity; months older than the cap are dropped. */
  usage: Record<string, Record<string, number>>;
  supportCallCount: number;
  supportCallsByReason: Record<string, number>;
  /** The most recent support calls (capped), keyed by callId. */
  supportCalls: Record<string, SupportCall>;
  subscriptions: Record<string, Subscription>;
  /** productId → first time the customer used it. */
  adoptedProducts: Record<string, string>;
  paymentFailures: string[];
  /** productId → the latest time it was used (a usage event with a quantity above zero): the stopped-usage timers. */
  lastUsedAt: Record<string, string>;
  /** The most recent returns (capped), latest first: the returns triggers. */
  returns: ReturnEntry[];
  /**
   * SES feedback (EmailFeedback events; docs/email-feedback.md). Absent until the first one.
   * `emailSuppressions`: address hash (`emailAddressHash`) → why mail to that address is suppressed
   * (a hard bounce or a complaint; the earliest stays): the customer's current one is `suppression`.
   */
  emailSuppressions?: Record<string, Stamped<'hard-bounce' | 'complaint'>>;
  /** Counts of the other outcomes: delivered, soft bounces (with the latest), rejected, failed to render. */
  emailStats?: { delivered: number; softBounces: number; lastSoftBounceAt?: string; rejected: number; renderingFailures: number };
  /** Opens and clicks per email (SES message id), the latest emails first (capped): the responses the lift report counts. */
  emailResponses?: Record<string, EmailResponse>;
  /**
   * The customer's current address may get no email at all: a hard bounce or a complaint reported by
   * SES (the earliest cause of that address in `emailSuppressions`). Derived after every event from
   * `emailSuppressions` and `email`, so a new address is not suppressed by the old one's bounce.
   * Read by the send guardrails (shared/campaigns/guardrails.ts, through `emailSuppressed`); docs/email-feedback.md.
   */
  suppression?: Stamped<{ reason: 'hard-bounce' | 'complaint' }>;
  /** When the customer's personal data was erased: nothing is sent to them any more. */
  erasedAt?: string;
};

/** One return: when, how much, why (the producer's free text), and the event that said so. */
export type ReturnEntry = { orderId: string; at: string; amount: number; reason?: string; by: string };

/** How a customer responded to one email. */
export type EmailResponse = { messageId: string; sendId?: string; campaign?: string; opens: number; clicks: number; firstOpenAt?: string; firstClickAt?: string };

export const LIMITS = { recentOrders: 50, recentCalls: 50, usageMonths: 13, paymentFailures: 20, recentReturns: 20, emailResponses: 50 } as const;

export function emptyProfile(customerId: string): CustomerProfile {
  return {
    customerId,
    consent: {},
    consentState: {},
    eventCount: 0,
    purchaseDays: {},
    orderCount: 0,
    totalSpend: 0,
    orders: {},
    returnCount: 0,
    returnValue: 0,
    invoiceCount: 0,
    statementCount: 0,
    invoicedTotal: 0,
    usage: {},
    supportCallCount: 0,
    supportCallsByReason: {},
    supportCalls: {},
    subscriptions: {},
    adoptedProducts: {},
    paymentFailures: [],
    lastUsedAt: {},
    returns: [],
  };
}

const later = (a: { at: string; by: string }, b: { at: string; by: string }): boolean =>
  a.at > b.at || (a.at === b.at && a.by > b.by);

/** Sets a register if the new stamp is later than the one held. */
function lww<T>(held: Stamped<T> | undefined, value: T | undefined, at: string, by: string): Stamped<T> | undefined {
  if (value === undefined) return held;
  const next = { value, at, by };
  return !held || later(next, held) ? next : held;
}

const minIso = (a: string | undefined, b: string): string => (a === undefined || b < a ? b : a);
const maxIso = (a: string | undefined, b: string): string => (a === undefined || b > a ? b : a);
/** Adds money in whole cents, so sums do not depend on the order of the additions. */
const addMoney = (a: number, b: number): number => (Math.round(a * 100) + Math.round(b * 100)) / 100;

/** Normalises an ISO timestamp with offset to UTC `…Z` so string order is time order. */
export function toUtcIso(ts: string): string {
  return new Date(ts).toISOString();
}

/** Sort key of a support call in the capped list: when it was logged (or resolved, if the log has not arrived). */
const callKey = (c: SupportCall): string => c.loggedAt ?? c.resolution?.at ?? '';

/**
 * Keeps the `cap` entries with the latest key from `key(entry)`, ties by id (deterministic for a given set of entries). */
function capByLatest<T>(map: Record<string, T>, cap: number, key: (t: T) => string): Record<string, T> {
  const ids = Object.keys(map);
  if (ids.length <= cap) return map;
  ids.sort((x, y) => {
    const kx = key(map[x]!);
    const ky = key(map[y]!);
    return kx === ky ? (x < y ? 1 : -1) : kx < ky ? 1 : -1;
  });
  const kept: Record<string, T> = {};
  for (const id of ids.slice(0, cap)) kept[id] = map[id]!;
  return kept;
}

type Detail<T extends BusinessEvent['type']> = InboundDetail<T>;

/**
 * Folds one (deduplicated) business event into the profile. Returns a new profile; the input is not changed.
 * `consent` sets when a winback grant lapses (the records the event gives, shared/consent/ledger.ts).
 */
export function applyEvent(profile: CustomerProfile, event: BusinessEvent, consent: ConsentPolicy = defaultConsentPolicy): CustomerProfile {
  const p: CustomerProfile = structuredClone(profile);
  // A profile stored before the ledger existed has no state yet.
  p.consentState = consentRecordsOf(event, consent).reduce(foldConsent, p.consentState ?? {});
  const d = event.detail;
  const at = toUtcIso(d.occurredAt);
  const by = d.eventId;
  p.firstSeenAt = minIso(p.firstSeenAt, at);
  p.lastEventAt = maxIso(p.lastEventAt, at);
  p.eventCount += 1;

  switch (event.type) {
    case 'CustomerProfileUpdated': {
      const e = d as Detail<'CustomerProfileUpdated'>;
      p.email = lww(p.email, e.email?.toLowerCase(), at, by);
      p.firstName = lww(p.firstName, e.firstName, at, by);
      p.locale = lww(p.locale, e.locale, at, by);
      p.timeZone = lww(p.timeZone, e.timeZone, at, by);
      p.preferredChannel = lww(p.preferredChannel, e.preferredChannel, at, by);
      p.preferredHour = lww(p.preferredHour, e.preferredHour, at, by);
      p.customerType = lww(p.customerType, e.customerType, at, by);
      break;
    }
    case 'ConsentChanged': {
      const e = d as Detail<'ConsentChanged'>;
      const key = `${e.channel}:${e.purpose}`;
      // The first step of a double opt-in is not a grant (the ledger records it; the register waits for the confirmation).
      if (!(e.granted && e.doubleOptIn === 'requested')) p.consent[key] = lww(p.consent[key], e.granted, at, by)!;
      break;
    }
    case 'OrderPlaced': {
      const e = d as Detail<'OrderPlaced'>;
      const day = at.slice(0, 10);
      p.purchaseDays[day] = addMoney(p.purchaseDays[day] ?? 0, e.amount);
      p.orderCount += 1;
      p.totalSpend = addMoney(p.totalSpend, e.amount);
      const o = p.orders[e.orderId] ?? { orderId: e.orderId };
      o.placed = lww(o.placed, e.amount, at, by);
      o.status = lww(o.status, 'placed', at, by);
      p.orders[e.orderId] = o;
      p.orders = capByLatest(p.orders, LIMITS.recentOrders, orderKey);
      break;
    }
    case 'OrderStatusChanged': {
      const e = d as Detail<'OrderStatusChanged'>;
      const o = p.orders[e.orderId] ?? { orderId: e.orderId };
      o.status = lww(o.status, e.status, at, by);
      p.orders[e.orderId] = o;
      p.orders = capByLatest(p.orders, LIMITS.recentOrders, orderKey);
      break;
    }
    case 'OrderReturned': {
      const e = d as Detail<'OrderReturned'>;
      p.returnCount += 1;
      p.returnValue = addMoney(p.returnValue, e.amount);
      const entry: ReturnEntry = { orderId: e.orderId, at, amount: e.amount, ...(e.reason ? { reason: e.reason } : {}), by };
      p.returns = [...p.returns, entry].sort((a, b) => (later(a, b) ? -1 : later(b, a) ? 1 : 0)).slice(0, LIMITS.recentReturns);
      break;
    }
    case 'InvoiceIssued': {
      const e = d as Detail<'InvoiceIssued'>;
      if (e.kind === 'statement') p.statementCount += 1;
      else p.invoiceCount += 1;
      p.invoicedTotal = addMoney(p.invoicedTotal, e.amount);
      break;
    }
    case 'UsageRecorded': {
      const e = d as Detail<'UsageRecorded'>;
      const month = at.slice(0, 7);
      const byMonth = { ...(p.usage[e.productId] ?? {}) };
      // micro-units, so sums of decimal quantities do not depend on the order of the additions
      byMonth[month] = (Math.round((byMonth[month] ?? 0) * 1e6) + Math.round(e.quantity * 1e6)) / 1e6;
      const months = Object.keys(byMonth).sort().reverse().slice(0, LIMITS.usageMonths);
      p.usage[e.productId] = Object.fromEntries(months.map((m) => [m, byMonth[m]!]));
      if (e.quantity > 0) {
        p.adoptedProducts[e.productId] = minIso(p.adoptedProducts[e.productId], at);
        p.lastUsedAt[e.productId] = maxIso(p.lastUsedAt[e.productId], at);
      }
      break;
    }
    case 'SupportCallLogged': {
      const e = d as Detail<'SupportCallLogged'>;
      p.supportCallCount += 1;
      p.supportCallsByReason[e.reason] = (p.supportCallsByReason[e.reason] ?? 0) + 1;
      const c = p.supportCalls[e.callId] ?? { callId: e.callId };
      if (!c.loggedAt || later({ at, by }, { at: c.loggedAt, by: c.loggedBy ?? '' })) {
        c.reason = e.reason;
        c.loggedAt = at;
        c.loggedBy = by;
      }
      p.supportCalls[e.callId] = c;
      p.supportCalls = capByLatest(p.supportCalls, LIMITS.recentCalls, callKey);
      break;
    }
    case 'SupportCallResolved': {
      const e = d as Detail<'SupportCallResolved'>;
      const c = p.supportCalls[e.callId] ?? { callId: e.callId };
      c.resolution = lww(c.resolution, { minutes: e.resolutionMinutes, resolved: e.resolved }, at, by);
      p.supportCalls[e.callId] = c;
      p.supportCalls = capByLatest(p.supportCalls, LIMITS.recentCalls, callKey);
      break;
    }
    case 'SubscriptionStarted':
    case 'SubscriptionChanged': {
      const e = d as Detail<'SubscriptionStarted'> | Detail<'SubscriptionChanged'>;
      const s = p.subscriptions[e.subscriptionId] ?? { subscriptionId: e.subscriptionId };
      s.productId = lww(s.productId, e.productId, at, by);
      s.plan = lww(s.plan, e.plan, at, by);
      s.monthlyPrice = lww(s.monthlyPrice, e.monthlyPrice, at, by);
      s.currency = lww(s.currency, e.currency, at, by);
      if (event.type === 'SubscriptionStarted') {
        s.startedAt = minIso(s.startedAt, at);
        s.lastStartedAt = maxIso(s.lastStartedAt, at);
      } else s.lastChange = lww(s.lastChange, (d as Detail<'SubscriptionChanged'>).change, at, by);
      p.subscriptions[e.subscriptionId] = s;
      break;
    }
    case 'SubscriptionCancelled': {
      const e = d as Detail<'SubscriptionCancelled'>;
      const s = p.subscriptions[e.subscriptionId] ?? { subscriptionId: e.subscriptionId };
      s.productId = lww(s.productId, e.productId, at, by);
      const reason = { reason: e.reason ?? e.reasonCode ?? '', ...(e.reasonCode ? { reasonCode: e.reasonCode } : {}), allowWinbackContact: e.allowWinbackContact ?? false };
      s.cancellation = lww(s.cancellation, reason, at, by);
      p.subscriptions[e.subscriptionId] = s;
      if (e.reasonCode) p.leavingReason = lww(p.leavingReason, { code: e.reasonCode, ...(e.reason ? { text: e.reason } : {}) }, at, by);
      break;
    }
    case 'AccountClosed':
    case 'ExitSurveyAnswered': {
      const e = d as Detail<'AccountClosed'> | Detail<'ExitSurveyAnswered'>;
      if (event.type === 'AccountClosed') p.accountClosedAt = lww(p.accountClosedAt, true, at, by);
      if (e.reasonCode) p.leavingReason = lww(p.leavingReason, { code: e.reasonCode, ...(e.reason ? { text: e.reason } : {}) }, at, by);
      break;
    }
    case 'CancellationRequested': {
      const e = d as Detail<'CancellationRequested'>;
      const request = { ...(e.subscriptionId ? { subscriptionId: e.subscriptionId } : {}), ...(e.reasonCode ? { reasonCode: e.reasonCode } : {}) };
      p.cancellationRequest = lww(p.cancellationRequest, request, at, by);
      break;
    }
    case 'PaymentFailed': {
      p.paymentFailures = [...p.paymentFailures, at].sort().reverse().slice(0, LIMITS.paymentFailures);
      break;
    }
    case 'ProductAdopted': {
      const e = d as Detail<'ProductAdopted'>;
      p.adoptedProducts[e.productId] = minIso(p.adoptedProducts[e.productId], at);
      break;
    }
    case 'EmailFeedback':
      applyEmailFeedback(p, d as Detail<'EmailFeedback'>, at, by);
      break;
  }
  if (p.emailSuppressions) deriveSuppression(p);
  return p;
}

/** `suppression` from the current address and the per-address suppressions (a function of both, so order-independent). */
function deriveSuppression(p: CustomerProfile): void {
  const held = p.email ? p.emailSuppressions?.[emailAddressHash(p.email.value)] : undefined;
  if (held) p.suppression = { value: { reason: held.value }, at: held.at, by: held.by };
  else delete p.suppression;
}

/** The earliest of two stamps (ties by id): a suppression keeps its first cause. */
const earlier = <T>(held: Stamped<T> | undefined, next: Stamped<T>): Stamped<T> => (!held || later(held, next) ? next : held);
const responseKey = (r: EmailResponse): string => minIso(r.firstOpenAt, r.firstClickAt ?? r.firstOpenAt ?? '') ?? '';

function applyEmailFeedback(p: CustomerProfile, e: Detail<'EmailFeedback'>, at: string, by: string): void {
  const stats = (p.emailStats ??= { delivered: 0, softBounces: 0, rejected: 0, renderingFailures: 0 });
  switch (e.kind) {
    case 'bounce':
    case 'complaint':
      if (e.kind === 'complaint' || e.bounceType === 'permanent') {
        if (e.addressHash) {
          p.emailSuppressions ??= {};
          p.emailSuppressions[e.addressHash] = earlier(p.emailSuppressions[e.addressHash], { value: e.kind === 'complaint' ? 'complaint' : 'hard-bounce', at, by });
        }
      } else {
        stats.softBounces += 1;
        stats.lastSoftBounceAt = maxIso(stats.lastSoftBounceAt, at);
      }
      break;
    case 'delivery':
      stats.delivered += 1;
      break;
    case 'reject':
      stats.rejected += 1;
      break;
    case 'rendering-failure':
      stats.renderingFailures += 1;
      break;
    case 'open':
    case 'click': {
      p.emailResponses ??= {};
      const r: EmailResponse = p.emailResponses[e.messageId] ?? { messageId: e.messageId, opens: 0, clicks: 0 };
      if (e.sendId !== undefined) r.sendId = e.sendId;
      if (e.campaign !== undefined) r.campaign = e.campaign;
      if (e.kind === 'open') {
        r.opens += 1;
        r.firstOpenAt = minIso(r.firstOpenAt, at);
      } else {
        r.clicks += 1;
        r.firstClickAt = minIso(r.firstClickAt, at);
      }
      p.emailResponses[e.messageId] = r;
      p.emailResponses = capByLatest(p.emailResponses, LIMITS.emailResponses, responseKey);
      break;
    }
  }
}

/** The hash feedback and suppressions use for an email address: SHA-256 (hex) of it trimmed and lower-cased. */
export const emailAddressHash = (address: string): string => createHash('sha256').update(address.trim().toLowerCase(), 'utf8').digest('hex');

/**
 * Why email to the customer's current address is suppressed (a hard bounce or a complaint reported by
 * SES), or undefined. A new address is not suppressed by the old one's bounces. The campaigns
 * guardrails skip a suppressed customer (docs/data-model.md).
 */
export function emailSuppressed(profile: CustomerProfile): 'hard-bounce' | 'complaint' | undefined {
  const address = profile.email?.value;
  if (!address || !profile.emailSuppressions) return undefined;
  return profile.emailSuppressions[emailAddressHash(address)]?.value;
}
// The guardrails read `profile.suppression`, which applyEvent keeps equal to this.

/** True when the latest consent for `channel:purpose` is a grant. No record means no consent (opt-in). */
export function hasConsent(profile: CustomerProfile, channel: string, purpose: 'marketing' | 'service' = 'marketing'): boolean {
  return profile.consent[`${channel}:${purpose}`]?.value === true;
}

/** Active: started, and not cancelled since its latest start (nor, given the account's closure time, closed since). */
export function isActive(s: Subscription, accountClosedAt?: string): boolean {
  return (
    s.lastStartedAt !== undefined &&
    (s.cancellation === undefined || s.lastStartedAt > s.cancellation.at) &&
    (accountClosedAt === undefined || s.lastStartedAt > accountClosedAt)
  );
}

export function activeSubscriptions(profile: CustomerProfile): Subscription[] {
  return Object.values(profile.subscriptions).filter((s) => isActive(s, profile.accountClosedAt?.at));
}

/** Cancelled (and not restarted) subscriptions whose customer allowed winback contact when leaving. */
export function winbackPermitted(profile: CustomerProfile): Subscription[] {
  return Object.values(profile.subscriptions).filter((s) => !isActive(s, profile.accountClosedAt?.at) && s.cancellation?.value.allowWinbackContact === true);
}

/**
 * When the customer left, if she has left and not come back: the latest end (the cancellation of a
 * subscription not started again since, or the account's closure). Undefined for a customer who
 * never left, or who came back (started a subscription after that end).
 */
export function formerCustomerSince(profile: CustomerProfile): string | undefined {
  const closedAt = profile.accountClosedAt?.at;
  const subs = Object.values(profile.subscriptions);
  const ends = subs.filter((s) => !isActive(s, closedAt) && s.cancellation !== undefined).map((s) => s.cancellation!.at);
  if (closedAt !== undefined) ends.push(closedAt);
  const end = ends.sort().at(-1);
  if (end === undefined || subs.some((s) => s.lastStartedAt !== undefined && s.lastStartedAt > end)) return undefined;
  return end;
}

/** Products the customer pays for (active subscriptions) but has never used. */
export function unusedPaidProducts(profile: CustomerProfile): string[] {
  return activeSubscriptions(profile)
    .map((s) => s.productId?.value)
    .filter((id): id is string => id !== undefined && profile.adoptedProducts[id] === undefined);
}
