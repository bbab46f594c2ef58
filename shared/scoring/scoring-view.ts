/**
 * The scoring view: the few facts of a profile that the nightly run reads (the model summary,
 * the next-best-action facts and the report aggregate), kept compact on the profile item so the
 * `byScoringShard` index can project it and a worker reads a whole shard with Query pages
 * (billed per 4 KB read) instead of getting every profile (billed per item).
 *
 * `scoringViewOf` keeps, with short names: the customer type, purchase days, subscriptions
 * (spells, price, product, cancellation time), the account's closure, the winback consent
 * (action, expiry), adopted products, usage, the counters and the reasons the report counts
 * (orders, spend, returns and their reasons, support calls by reason and their resolutions),
 * locale, preferred channel, the marketing email consent, the first-seen time and the emails'
 * first open and click (the report's campaign response). No email,
 * name or event ids: nothing personal but the locale and the channel.
 *
 * `profileOfScoringView` builds back a profile holding exactly those facts (registers without
 * their stamps' times where nothing reads them): scoring and the report give the same results
 * on it as on the full profile (test/unit/scoring/scoring-view.test.ts, over the synthetic base).
 * A view of another `v` (written by another version of this code) is not read: the adapter
 * falls back to the full profile.
 */
import { WINBACK } from '../consent/ledger.ts';
import type { CustomerProfile, Stamped, Subscription, SupportCall } from '../customers/profile.ts';

export const SCORING_VIEW_VERSION = 1;

type ViewSubscription = {
  /** product id, monthly price */
  pr?: string;
  p?: number;
  /** startedAt, lastStartedAt, cancellation time and whether it allowed winback contact */
  st?: string;
  ls?: string;
  c?: string;
  w?: boolean;
};

export type ScoringView = {
  v: typeof SCORING_VIEW_VERSION;
  /** declared customer type */
  t?: 'subscription' | 'adhoc';
  /** purchase day → spend */
  pd: Record<string, number>;
  /** subscription id → its spell */
  s?: Record<string, ViewSubscription>;
  /** account closed at */
  ac?: string;
  /** winback consent: latest decisive action and its expiry */
  wb?: { a: string; x?: string };
  /** adopted product ids */
  ap?: string[];
  /** usage: product → month → quantity */
  u?: Record<string, Record<string, number>>;
  /** first seen at */
  f?: string;
  /** order count, total spend, return count, return value, support call count */
  n: [number, number, number, number, number];
  /** reasons of the returns the profile keeps */
  rr?: string[];
  /** support calls by reason */
  sr?: Record<string, number>;
  /** the kept support calls' resolutions: [minutes, resolved], or null while open */
  sc?: ([number, boolean] | null)[];
  /** locale, preferred channel, marketing email consent */
  l?: string;
  ch?: string;
  em?: boolean;
  /** the emails' responses the report's campaign response counts: [SES message id, send id, first open, first click] ('' for none) */
  er?: [string, string, string, string][];
};

const nonEmpty = <T extends object>(o: T): T | undefined => (Object.keys(o).length > 0 ? o : undefined);

/** The profile's scoring view (pure; JSON-safe). */
export function scoringViewOf(p: CustomerProfile): ScoringView {
  const subs: Record<string, ViewSubscription> = {};
  for (const [id, s] of Object.entries(p.subscriptions)) {
    subs[id] = {
      ...(s.productId && { pr: s.productId.value }),
      ...(s.monthlyPrice && { p: s.monthlyPrice.value }),
      ...(s.startedAt && { st: s.startedAt }),
      ...(s.lastStartedAt && { ls: s.lastStartedAt }),
      ...(s.cancellation && { c: s.cancellation.at, w: s.cancellation.value.allowWinbackContact }),
    };
  }
  const winback = p.consentState?.[WINBACK];
  const calls = Object.values(p.supportCalls);
  const view: ScoringView = {
    v: SCORING_VIEW_VERSION,
    ...(p.customerType && { t: p.customerType.value }),
    pd: p.purchaseDays,
    ...(nonEmpty(subs) && { s: subs }),
    ...(p.accountClosedAt && { ac: p.accountClosedAt.at }),
    ...(winback && { wb: { a: winback.action, ...(winback.expiresAt !== undefined && { x: winback.expiresAt }) } }),
    ...(Object.keys(p.adoptedProducts).length > 0 && { ap: Object.keys(p.adoptedProducts) }),
    ...(nonEmpty(p.usage) && { u: p.usage }),
    ...(p.firstSeenAt && { f: p.firstSeenAt }),
    n: [p.orderCount, p.totalSpend, p.returnCount, p.returnValue, p.supportCallCount],
    ...((p.returns ?? []).length > 0 && { rr: p.returns.map((r) => r.reason ?? '') }),
    ...(nonEmpty(p.supportCallsByReason) && { sr: p.supportCallsByReason }),
    ...(calls.length > 0 && { sc: calls.map((c) => (c.resolution ? [c.resolution.value.minutes, c.resolution.value.resolved] : null)) }),
    ...(p.locale && { l: p.locale.value }),
    ...(p.preferredChannel && { ch: p.preferredChannel.value }),
    ...(p.consent['email:marketing'] && { em: p.consent['email:marketing'].value }),
    ...(nonEmpty(p.emailResponses ?? {}) && {
      er: Object.values(p.emailResponses!).map((r): [string, string, string, string] => [r.messageId, r.sendId ?? '', r.firstOpenAt ?? '', r.firstClickAt ?? '']),
    }),
  };
  return view;
}

/** Whether a stored value is a view this code reads. */
export const isScoringView = (x: unknown): x is ScoringView =>
  typeof x === 'object' && x !== null && (x as { v?: unknown }).v === SCORING_VIEW_VERSION && typeof (x as { pd?: unknown }).pd === 'object' && Array.isArray((x as { n?: unknown }).n);

/** A register whose stamp nothing in scoring or the report reads. */
const stamped = <T>(value: T, at = ''): Stamped<T> => ({ value, at, by: '' });

/** A profile holding the view's facts, on top of `empty` (the domain's empty profile of the customer). */
export function profileOfScoringView(empty: CustomerProfile, view: ScoringView): CustomerProfile {
  const subscriptions: Record<string, Subscription> = {};
  for (const [id, s] of Object.entries(view.s ?? {})) {
    subscriptions[id] = {
      subscriptionId: id,
      ...(s.pr !== undefined && { productId: stamped(s.pr) }),
      ...(s.p !== undefined && { monthlyPrice: stamped(s.p) }),
      ...(s.st !== undefined && { startedAt: s.st }),
      ...(s.ls !== undefined && { lastStartedAt: s.ls }),
      ...(s.c !== undefined && { cancellation: stamped({ reason: '', allowWinbackContact: s.w === true }, s.c) }),
    };
  }
  const supportCalls: Record<string, SupportCall> = {};
  (view.sc ?? []).forEach((r, i) => {
    supportCalls[String(i)] = { callId: String(i), ...(r && { resolution: stamped({ minutes: r[0], resolved: r[1] }) }) };
  });
  const [orderCount, totalSpend, returnCount, returnValue, supportCallCount] = view.n;
  return {
    ...empty,
    ...(view.t && { customerType: stamped(view.t) }),
    purchaseDays: view.pd,
    subscriptions,
    ...(view.ac !== undefined && { accountClosedAt: stamped(true as const, view.ac) }),
    consentState: view.wb ? { [WINBACK]: { recordId: '', customerId: empty.customerId, purpose: WINBACK, action: view.wb.a, at: '', source: 'api', actor: '', ...(view.wb.x !== undefined && { expiresAt: view.wb.x }) } as never } : {},
    adoptedProducts: Object.fromEntries((view.ap ?? []).map((id) => [id, ''])),
    usage: view.u ?? {},
    ...(view.f !== undefined && { firstSeenAt: view.f }),
    orderCount,
    totalSpend,
    returnCount,
    returnValue,
    supportCallCount,
    returns: (view.rr ?? []).map((reason) => ({ reason }) as never),
    supportCallsByReason: view.sr ?? {},
    supportCalls,
    ...(view.l !== undefined && { locale: stamped(view.l) }),
    ...(view.ch !== undefined && { preferredChannel: stamped(view.ch) }),
    consent: view.em !== undefined ? { 'email:marketing': stamped(view.em) } : {},
    ...(view.er && {
      // opens and clicks as counts of at least one: the report reads only whether and when the first came
      emailResponses: Object.fromEntries(
        view.er.map(([messageId, sendId, open, click]) => [
          messageId,
          { messageId, ...(sendId && { sendId }), opens: open ? 1 : 0, clicks: click ? 1 : 0, ...(open && { firstOpenAt: open }), ...(click && { firstClickAt: click }) },
        ]),
      ),
    }),
  };
}
