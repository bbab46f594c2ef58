/**
 * The report's figures over the whole customer base, gathered inside the nightly run: each
 * scoring worker adds the customers it scores to a `ReportPart` (counts, moments,
 * histograms, bounded counts: sketch.ts), the finish step merges the parts, and the report is
 * drawn from the merged part alone, so it never rereads the customers and grows with the
 * run, not the base. A part's size is bounded whatever the number of customers: a handful of
 * outreach periods, value tiers, acquisition quarters, tenure months, support reasons and at
 * most MAX_KEYS return reasons.
 *
 * Definitions (docs/report.md):
 * - churned: a subscriber with no active subscription; an ad-hoc buyer with no purchase in
 *   the last `horizonMonths` (the churn horizon of the scoring config).
 * - relationship length: whole months of the subscriber's (current or last) subscription
 *   spell, as the sBG fit counts them; for an ad-hoc buyer, months from the first to the last
 *   purchase when lapsed, to the run date when not (censored).
 * - outreach outcome of an assigned customer: churned since planning — a subscriber whose
 *   last subscription ended after the plan; an ad-hoc buyer with no purchase since the plan,
 *   known only once `horizonMonths` have passed (before that, pending).
 * - best customers: the top value tier (the top CLV decile of the fit sample, value-tiers.ts).
 */
import { type CustomerProfile, isActive } from '../customers/profile.ts';
import type { OutreachAssignment, OutreachGroup } from '../scoring/outreach.ts';
import { customerKind, summarizeProfile, wholeMonthsBetween } from '../scoring/profile-summary.ts';
import type { CustomerScore } from '../scoring/score-customer.ts';
import type { SendRecord } from '../ports.ts';
import { type ResponsePart, type ResponseWindow, addResponses, emptyResponsePart, mergeResponseParts } from './response.ts';
import { type Counts, type Moments, MAX_KEYS, addToHistogram, boundCounts, emptyMoments, mergeBoundedCounts, mergeCounts, mergeHistograms, mergeMoments, textKey } from './sketch.ts';

/** Resolution-time bin edges in minutes: 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 d, 3 d, 7 d. */
export const RESOLUTION_EDGES_MIN = [15, 30, 60, 120, 240, 480, 1440, 4320, 10080] as const;
/** Returns the profile no longer lists (beyond its latest LIMITS.recentReturns) are counted under this reason. */
export const OLDER_RETURNS = '(older returns)';
/** Lookalike combinations kept (a Misra–Gries summary beyond: the rare combinations fold into "(other)", which the export leaves out). */
export const LOOKALIKE_KEYS = 128;
/** Relationship lengths beyond this many months are counted at it (censored). */
export const MAX_TENURE_MONTHS = 120;

export type ExperimentGroupPart = {
  assigned: number;
  /** outcome known (subscribers, and ad-hoc buyers planned at least `horizonMonths` ago) */
  observed: number;
  churned: number;
  /** churn risk now − at planning; CLV now − at planning; CLV at planning */
  riskChange: Moments;
  clvChange: Moments;
  clvAtPlan: Moments;
  /** CLV now of those observed and not churned: the value still held */
  clvKept: Moments;
};

/** What each group of customers looks like (best customers against the rest). */
export type ProfilePart = {
  customers: number;
  tenureMonths: Moments;
  /** products held: active subscriptions' distinct products, or for ad-hoc buyers 0 */
  products: Moments;
  orders: Moments;
  spend: Moments;
  clv: Moments;
  serviceCalls: Moments;
  returns: Moments;
  churned: number;
  /** customers who allow email marketing (the responsiveness the profile records) */
  emailMarketing: number;
  preferredChannel: Counts;
  kind: Counts;
  locale: Counts;
};

/** Counts of the top decile by its non-personal attributes (kind, locale, products held, tenure band, order band): the lookalike file. */
export type LookalikeCounts = Counts;

export type ReasonPart = { customers: number; events: number; churned: number; churnRisk: Moments };

export type ReportPart = {
  /** period (YYYY-MM) → group → figures */
  outreach: Record<string, Partial<Record<OutreachGroup, ExperimentGroupPart>>>;
  best: { top: ProfilePart; rest: ProfilePart };
  lookalike: LookalikeCounts;
  /** group ("all", "kind:subscription", "tier:top", "cohort:2025-Q3") → month → [churned, censored] */
  survival: Record<string, Record<string, [number, number]>>;
  returns: { customers: number; returns: number; value: number; byReason: Counts; churnByReason: Record<string, ReasonPart> };
  service: { customers: number; calls: number; byReason: Record<string, ReasonPart>; resolutionMinutes: number[]; resolved: number; unresolved: number; open: number };
  /** campaign response: the decisions (sent, held back) whose attribution window has closed (response.ts) */
  response: ResponsePart;
  customers: number;
};

const emptyGroup = (): ExperimentGroupPart => ({ assigned: 0, observed: 0, churned: 0, riskChange: emptyMoments(), clvChange: emptyMoments(), clvAtPlan: emptyMoments(), clvKept: emptyMoments() });
const emptyProfilePart = (): ProfilePart => ({
  customers: 0,
  tenureMonths: emptyMoments(),
  products: emptyMoments(),
  orders: emptyMoments(),
  spend: emptyMoments(),
  clv: emptyMoments(),
  serviceCalls: emptyMoments(),
  returns: emptyMoments(),
  churned: 0,
  emailMarketing: 0,
  preferredChannel: {},
  kind: {},
  locale: {},
});
const emptyReason = (): ReasonPart => ({ customers: 0, events: 0, churned: 0, churnRisk: emptyMoments() });

export const emptyReportPart = (): ReportPart => ({
  outreach: {},
  best: { top: emptyProfilePart(), rest: emptyProfilePart() },
  lookalike: {},
  survival: {},
  returns: { customers: 0, returns: 0, value: 0, byReason: {}, churnByReason: {} },
  service: { customers: 0, calls: 0, byReason: {}, resolutionMinutes: [], resolved: 0, unresolved: 0, open: 0 },
  response: emptyResponsePart(),
  customers: 0,
});

// ---------------------------------------------------------------- one customer

const DAY_MS = 86_400_000;
const endOfDay = (day: string) => `${day.slice(0, 10)}T23:59:59.999Z`;

export type CustomerFacts = {
  kind: 'subscription' | 'adhoc';
  churned: boolean;
  /** relationship length in months and whether it ended (false: still going, censored) */
  tenure?: { months: number; ended: boolean };
  cohort?: string;
  products: number;
};

/** What the report needs of one customer as of the run date. */
export function customerFacts(profile: CustomerProfile, runDate: string, horizonMonths: number): CustomerFacts {
  const kind = customerKind(profile);
  const summary = summarizeProfile(profile, runDate);
  const first = profile.firstSeenAt;
  const cohort = first ? `${first.slice(0, 4)}-Q${Math.ceil(Number(first.slice(5, 7)) / 3)}` : undefined;
  const products = new Set(
    Object.values(profile.subscriptions)
      .filter((s) => isActive(s) && !(s.cancellation && s.cancellation.at <= endOfDay(runDate) && s.lastStartedAt! <= s.cancellation.at))
      .map((s) => s.productId?.value ?? s.subscriptionId),
  ).size;
  if (summary.kind === 'subscription') {
    return { kind: 'subscription', churned: !summary.active, tenure: { months: Math.min(summary.tenure.periods, MAX_TENURE_MONTHS), ended: summary.tenure.churned }, ...(cohort && { cohort }), products };
  }
  const days = Object.keys(profile.purchaseDays).filter((d) => d <= runDate).sort();
  if (days.length === 0) return { kind, churned: false, ...(cohort && { cohort }), products };
  const last = days.at(-1)!;
  const lapsed = wholeMonthsBetween(last, runDate) >= horizonMonths;
  const months = Math.min(wholeMonthsBetween(days[0]!, lapsed ? last : runDate), MAX_TENURE_MONTHS);
  return { kind: 'adhoc', churned: lapsed, tenure: { months, ended: lapsed }, ...(cohort && { cohort }), products };
}

/** The outreach outcome of an assigned customer: churned since the plan, or undefined while not yet known. */
export function churnedSincePlan(profile: CustomerProfile, a: Pick<OutreachAssignment, 'plannedOn'>, runDate: string, horizonMonths: number): boolean | undefined {
  const facts = customerFacts(profile, runDate, horizonMonths);
  const plannedEnd = endOfDay(a.plannedOn);
  if (facts.kind === 'subscription') {
    if (!facts.churned) return false;
    const ends = Object.values(profile.subscriptions).map((s) => s.cancellation?.at ?? '');
    return ends.some((at) => at > plannedEnd);
  }
  if (Date.parse(endOfDay(runDate)) - Date.parse(plannedEnd) < horizonMonths * 30.44 * DAY_MS) return undefined;
  return !Object.keys(profile.purchaseDays).some((d) => d > a.plannedOn.slice(0, 10) && d <= runDate);
}

const band = (x: number, edges: readonly number[], labels: readonly string[]) => labels[edges.filter((e) => x >= e).length]!;

/** The lookalike key of a top-decile customer: only non-personal, coarse attributes. */
export function lookalikeKey(profile: CustomerProfile, facts: CustomerFacts): string {
  const tenure = band(facts.tenure?.months ?? 0, [6, 12, 24], ['<6m', '6-12m', '12-24m', '24m+']);
  const orders = band(profile.orderCount, [1, 3, 10], ['0', '1-2', '3-9', '10+']);
  const locale = textKey(profile.locale?.value).slice(0, 12);
  return [facts.kind, locale, `products:${Math.min(facts.products, 3)}${facts.products >= 3 ? '+' : ''}`, `tenure:${tenure}`, `orders:${orders}`].join('|');
}

// Adding mutates the part (a worker's own accumulator, thousands of customers a page): no copies, no sorting.
const bump = (c: Counts, key: string, by = 1) => {
  c[key] = (c[key] ?? 0) + by;
};
const put = (m: Moments, x: number) => {
  if (!Number.isFinite(x)) return;
  m.n += 1;
  m.sum += x;
  m.sumSq += x * x;
};

function addToProfile(p: ProfilePart, profile: CustomerProfile, score: CustomerScore, facts: CustomerFacts): void {
  p.customers += 1;
  if (facts.tenure) put(p.tenureMonths, facts.tenure.months);
  put(p.products, facts.products);
  put(p.orders, profile.orderCount);
  put(p.spend, profile.totalSpend);
  put(p.clv, score.clv);
  put(p.serviceCalls, profile.supportCallCount);
  put(p.returns, profile.returnCount);
  if (facts.churned) p.churned += 1;
  if (profile.consent['email:marketing']?.value === true) p.emailMarketing += 1;
  bump(p.preferredChannel, textKey(profile.preferredChannel?.value));
  bump(p.kind, facts.kind);
  const locale = textKey(profile.locale?.value);
  if (!(locale in p.locale) && Object.keys(p.locale).length >= 4 * MAX_KEYS) p.locale = boundCounts(p.locale);
  bump(p.locale, locale);
}

function addReason(byReason: Record<string, ReasonPart>, reason: string, events: number, churned: boolean, churnRisk: number): void {
  const r = (byReason[reason] ??= emptyReason());
  r.customers += 1;
  r.events += events;
  if (churned) r.churned += 1;
  put(r.churnRisk, churnRisk);
}

export type ReportCustomer = {
  profile: CustomerProfile;
  score: CustomerScore;
  /** the customer's outreach assignments in the periods the report follows */
  assignments?: readonly OutreachAssignment[];
  /** the customer's send ledger entries since `responseSendsSince` (campaign response); absent: none */
  sends?: readonly SendRecord[];
};

/** Adds one scored customer to the part (mutating it: a worker's own accumulator) and returns it. */
export function addCustomer(part: ReportPart, c: ReportCustomer, context: { runDate: string; horizonMonths: number; response?: ResponseWindow }): ReportPart {
  const { profile, score } = c;
  const { runDate, horizonMonths } = context;
  const facts = customerFacts(profile, runDate, horizonMonths);
  part.customers += 1;

  // Outreach experiment.
  for (const a of c.assignments ?? []) {
    const period = (part.outreach[a.period] ??= {});
    const g = (period[a.group] ??= emptyGroup());
    const outcome = churnedSincePlan(profile, a, runDate, horizonMonths);
    g.assigned += 1;
    if (outcome !== undefined) g.observed += 1;
    if (outcome) g.churned += 1;
    put(g.riskChange, score.churnRisk - a.churnRisk);
    put(g.clvChange, score.clv - a.clv);
    put(g.clvAtPlan, a.clv);
    if (outcome === false) put(g.clvKept, score.clv);
  }

  // Campaign response.
  if (context.response) addResponses((part.response ??= emptyResponsePart()), { profile, kind: facts.kind, tier: score.valueTier, sends: c.sends ?? [] }, { runDate, window: context.response });

  // Best customers and the lookalike counts.
  const top = score.valueTier === 'top';
  addToProfile(top ? part.best.top : part.best.rest, profile, score, facts);
  if (top) {
    const key = lookalikeKey(profile, facts);
    if (!(key in part.lookalike) && Object.keys(part.lookalike).length >= 4 * LOOKALIKE_KEYS) part.lookalike = boundCounts(part.lookalike, LOOKALIKE_KEYS);
    bump(part.lookalike, key);
  }

  // Relationship length.
  if (facts.tenure) {
    const month = String(facts.tenure.months);
    for (const group of ['all', `kind:${facts.kind}`, `tier:${score.valueTier}`, ...(facts.cohort ? [`cohort:${facts.cohort}`] : [])]) {
      const counts = ((part.survival[group] ??= {})[month] ??= [0, 0]);
      counts[facts.tenure.ended ? 0 : 1] += 1;
    }
  }

  // Returns.
  if (profile.returnCount > 0) {
    // the reasons of the latest returns the profile keeps (LIMITS.recentReturns); older ones under "(older returns)"
    const byReason: Counts = {};
    for (const r of profile.returns ?? []) bump(byReason, textKey(r.reason));
    const older = profile.returnCount - (profile.returns?.length ?? 0);
    if (older > 0) bump(byReason, OLDER_RETURNS, older);
    part.returns.customers += 1;
    part.returns.returns += profile.returnCount;
    part.returns.value += profile.returnValue;
    for (const [reason, n] of Object.entries(byReason)) {
      bump(part.returns.byReason, reason, n);
      addReason(part.returns.churnByReason, reason, n, facts.churned, score.churnRisk);
    }
    if (Object.keys(part.returns.byReason).length > 4 * MAX_KEYS) boundReturns(part);
  }

  // Service calls.
  if (profile.supportCallCount > 0) {
    const service = part.service;
    service.customers += 1;
    service.calls += profile.supportCallCount;
    for (const [reason, n] of Object.entries(profile.supportCallsByReason)) addReason(service.byReason, reason, n, facts.churned, score.churnRisk);
    for (const call of Object.values(profile.supportCalls)) {
      const r = call.resolution?.value;
      if (!r) {
        service.open += 1;
        continue;
      }
      service.resolutionMinutes = addToHistogram(service.resolutionMinutes, RESOLUTION_EDGES_MIN, r.minutes);
      if (r.resolved) service.resolved += 1;
      else service.unresolved += 1;
    }
  }
  return part;
}

/** Bounds the return reasons (and drops the churn figures of reasons no longer kept). */
function boundReturns(part: ReportPart): void {
  part.returns.byReason = boundCounts(part.returns.byReason);
  for (const k of Object.keys(part.returns.churnByReason)) if (!(k in part.returns.byReason)) delete part.returns.churnByReason[k];
}

/** The part as it travels between steps: bounded counts bounded, keys sorted (the same part, whatever the order customers were added in). */
export function finishPart(part: ReportPart): ReportPart {
  return mergeReportParts(emptyReportPart(), part);
}

// ---------------------------------------------------------------- merge

function mergeGroup(a: ExperimentGroupPart | undefined, b: ExperimentGroupPart | undefined): ExperimentGroupPart | undefined {
  if (!a || !b) return a ?? b;
  return {
    assigned: a.assigned + b.assigned,
    observed: a.observed + b.observed,
    churned: a.churned + b.churned,
    riskChange: mergeMoments(a.riskChange, b.riskChange),
    clvChange: mergeMoments(a.clvChange, b.clvChange),
    clvAtPlan: mergeMoments(a.clvAtPlan, b.clvAtPlan),
    clvKept: mergeMoments(a.clvKept, b.clvKept),
  };
}

function mergeProfile(a: ProfilePart, b: ProfilePart): ProfilePart {
  return {
    customers: a.customers + b.customers,
    tenureMonths: mergeMoments(a.tenureMonths, b.tenureMonths),
    products: mergeMoments(a.products, b.products),
    orders: mergeMoments(a.orders, b.orders),
    spend: mergeMoments(a.spend, b.spend),
    clv: mergeMoments(a.clv, b.clv),
    serviceCalls: mergeMoments(a.serviceCalls, b.serviceCalls),
    returns: mergeMoments(a.returns, b.returns),
    churned: a.churned + b.churned,
    emailMarketing: a.emailMarketing + b.emailMarketing,
    preferredChannel: mergeCounts(a.preferredChannel, b.preferredChannel),
    kind: mergeCounts(a.kind, b.kind),
    locale: mergeBoundedCounts(a.locale, b.locale),
  };
}

const mergeReason = (a: ReasonPart | undefined, b: ReasonPart | undefined): ReasonPart =>
  !a || !b ? (a ?? b)! : { customers: a.customers + b.customers, events: a.events + b.events, churned: a.churned + b.churned, churnRisk: mergeMoments(a.churnRisk, b.churnRisk) };

function mergeRecords<T>(a: Record<string, T>, b: Record<string, T>, merge: (x: T | undefined, y: T | undefined) => T): Record<string, T> {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return Object.fromEntries(keys.map((k) => [k, merge(a[k], b[k])]));
}

/** Merges two parts into a new one sharing nothing with them (associative and commutative; `emptyReportPart()` is the identity). */
export function mergeReportParts(a: ReportPart, b: ReportPart): ReportPart {
  const byReason = mergeBoundedCounts(a.returns.byReason, b.returns.byReason);
  return structuredClone({
    outreach: mergeRecords(a.outreach, b.outreach, (x, y) => mergeRecords(x ?? {}, y ?? {}, (g, h) => mergeGroup(g, h)!)),
    best: { top: mergeProfile(a.best.top, b.best.top), rest: mergeProfile(a.best.rest, b.best.rest) },
    lookalike: boundCounts(mergeCounts(a.lookalike, b.lookalike), LOOKALIKE_KEYS),
    survival: mergeRecords(a.survival, b.survival, (x, y) => mergeRecords(x ?? {}, y ?? {}, (s, t) => [(s?.[0] ?? 0) + (t?.[0] ?? 0), (s?.[1] ?? 0) + (t?.[1] ?? 0)] as [number, number])),
    returns: {
      customers: a.returns.customers + b.returns.customers,
      returns: a.returns.returns + b.returns.returns,
      value: a.returns.value + b.returns.value,
      byReason,
      churnByReason: Object.fromEntries(Object.entries(mergeRecords(a.returns.churnByReason, b.returns.churnByReason, mergeReason)).filter(([k]) => k in byReason)),
    },
    service: {
      customers: a.service.customers + b.service.customers,
      calls: a.service.calls + b.service.calls,
      byReason: mergeRecords(a.service.byReason, b.service.byReason, mergeReason),
      resolutionMinutes: mergeHistograms(a.service.resolutionMinutes, b.service.resolutionMinutes),
      resolved: a.service.resolved + b.service.resolved,
      unresolved: a.service.unresolved + b.service.unresolved,
      open: a.service.open + b.service.open,
    },
    response: mergeResponseParts(a.response, b.response),
    customers: a.customers + b.customers,
  });
}
