/**
 * Churn trigger evaluation: the trigger definitions of config/triggers.json (shared/triggers/
 * config.ts) against a customer's profile.
 *
 * Every trigger type is a condition on the profile at a time `at` (`signalState`): the support
 * calls of a window, the usage of the last months, the orders' statuses, … An arriving event
 * evaluates the enabled triggers that read its type (`evaluateTriggers`), at the event's time;
 * the timer types (an order stuck in a status, usage that stopped) are evaluated when their
 * timer fires (`evaluateTimerTrigger`), and the event only sets, moves or cancels the timer
 * (`timersFor`). A collective trigger adds up the weights of its signals that hold; its timer
 * signals (usage stopped, an order stuck) have timers of their own, and hold from their due time
 * while the state lasts, so the sweep or a later event of another signal completes it.
 *
 * Trigger ids are deterministic, so a redelivered stream record or a timer fired twice fires
 * nothing new: `<trigger id>#<customer>#<key>`, the key from the cooldown — the event's id
 * (`per-event`; for a timer trigger, the occurrence of the state), the month (`per-month`), or
 * the N-day period (`{ days: N }`).
 */
import type { BusinessEvent, triggerKinds } from '../events/catalog.ts';
import { toUtcIso, type CustomerProfile } from '../customers/profile.ts';
import type { TimerSpec, TriggerDecision } from '../ports.ts';
import { eventTypesOf, timerTypes, triggerConfig, typeEvents, type Cooldown, type Signal, type SignalType, type TriggerConfig, type TriggerDefinition } from './config.ts';

type Kind = (typeof triggerKinds)[number];

const DAY_MS = 86_400_000;

/** Detail-types the enabled triggers read; the stream subscription's filter is built from this list. */
export const triggerEventTypes: readonly BusinessEvent['type'][] = eventTypesOf(triggerConfig);

/** The timer kind of the churn triggers that fire from a timer (functions/timer-sweep/kinds.ts). */
export const TRIGGER_TIMER_KIND = 'churn-trigger';

const iso = (ms: number): string => new Date(ms).toISOString();
const inWindow = (t: string | undefined, at: string, days: number): boolean => t !== undefined && t <= at && t >= iso(Date.parse(at) - days * DAY_MS);

const monthKey = (d: Date): string => d.toISOString().slice(0, 7);
function previousMonths(at: string, n: number): string[] {
  const d = new Date(at);
  const out: string[] = [];
  for (let i = 1; i <= n; i++) out.push(monthKey(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1))));
  return out;
}

export type UsageDeclineParams = { ratio: number; baselineMonths: number; minBaseline: number };
export const defaultUsageDecline: UsageDeclineParams = { ratio: 0.5, baselineMonths: 3, minBaseline: 0 };

/**
 * Products whose usage in the last complete month (before `at`) fell below `ratio` × the mean
 * of the `baselineMonths` months before it; the baseline must be complete, its mean above zero
 * and at least `minBaseline`.
 */
export function decliningProducts(profile: CustomerProfile, at: string, params: UsageDeclineParams = defaultUsageDecline): string[] {
  const [last, ...baseline] = previousMonths(at, params.baselineMonths + 1);
  const out: string[] = [];
  for (const [productId, months] of Object.entries(profile.usage)) {
    if (baseline.some((m) => months[m] === undefined)) continue;
    const mean = baseline.reduce((s, m) => s + (months[m] ?? 0), 0) / baseline.length;
    const lastUse = months[last!] ?? 0;
    if (mean > 0 && mean >= params.minBaseline && lastUse < params.ratio * mean) out.push(productId);
  }
  return out.sort();
}

/** Whether a signal's condition holds, with the reasons to give, and the subjects it is about (orders, products). */
type SignalState = { reasons: string[]; subjects?: string[] } | undefined;

type P = Record<string, never> & Record<string, unknown>;

/** Orders in one of `statuses` since at least `days` days before `at`: [orderId, since]. */
function stuckOrders(profile: CustomerProfile, at: string, statuses: string[], days: number): [string, string][] {
  const cut = iso(Date.parse(at) - days * DAY_MS);
  return Object.values(profile.orders)
    .filter((o) => o.status && statuses.includes(o.status.value) && o.status.at <= cut)
    .map((o): [string, string] => [o.orderId, o.status!.at])
    .sort();
}

/** Products used in at least `minActiveMonths` months whose last use is at least `days` days before `at`: [productId, lastUsedAt]. */
function stoppedProducts(profile: CustomerProfile, at: string, days: number, minActiveMonths: number): [string, string][] {
  const cut = iso(Date.parse(at) - days * DAY_MS);
  return Object.entries(profile.lastUsedAt ?? {})
    .filter(([productId, last]) => last <= cut && activeMonths(profile, productId) >= minActiveMonths)
    .sort();
}

const activeMonths = (profile: CustomerProfile, productId: string): number => Object.values(profile.usage[productId] ?? {}).filter((q) => q > 0).length;

function spendBetween(profile: CustomerProfile, fromExclusive: string, toInclusive: string): number {
  let sum = 0;
  for (const [day, amount] of Object.entries(profile.purchaseDays)) if (day > fromExclusive && day <= toInclusive) sum += amount;
  return sum;
}

/**
 * The state of a condition of `type` on the profile at `at` (the triggering event, if any, is in
 * the profile already), as a trigger of its own or as a `signal` of a collective one (the reasons
 * are worded for each).
 */
export function signalState(type: SignalType, params: P, profile: CustomerProfile, at: string, event?: BusinessEvent, role: 'trigger' | 'signal' = 'trigger'): SignalState {
  switch (type) {
    case 'support-calls': {
      const reasons = new Set(params.reasons as string[]);
      const calls = Object.values(profile.supportCalls).filter((c) => reasons.has(c.reason ?? '') && inWindow(c.loggedAt, at, params.windowDays as number));
      if (calls.length < (params.minCount as number)) return undefined;
      if (role === 'signal') return { reasons: [`${calls.length} ${reasons.size === 1 ? `${[...reasons][0]} ` : ''}complaint(s) in ${params.windowDays} days`] };
      if (params.minCount === 1 && event?.type === 'SupportCallLogged') return { reasons: [`support call about ${event.detail.reason}`] };
      return { reasons: [`${calls.length} complaints in ${params.windowDays} days`] };
    }
    case 'slow-resolution': {
      const slow = (r: { minutes: number; resolved: boolean }) => r.minutes > (params.maxResolutionMinutes as number) || (params.unresolved === true && !r.resolved);
      if (event?.type === 'SupportCallResolved') {
        const e = event.detail;
        if (!slow({ minutes: e.resolutionMinutes, resolved: e.resolved })) return undefined;
        return { reasons: [e.resolved && e.resolutionMinutes > (params.maxResolutionMinutes as number) ? `support call took ${Math.round(e.resolutionMinutes / 60)} hours to resolve` : 'support call closed unresolved'] };
      }
      const n = Object.values(profile.supportCalls).filter((c) => c.resolution && inWindow(c.resolution.at, at, params.windowDays as number) && slow(c.resolution.value)).length;
      return n ? { reasons: [`${n} support call(s) resolved slowly or not at all in ${params.windowDays} days`] } : undefined;
    }
    case 'usage-decline': {
      const declining = decliningProducts(profile, at, params as unknown as UsageDeclineParams);
      return declining.length ? { reasons: [`usage declining for ${declining.join(', ')}`], subjects: declining } : undefined;
    }
    case 'usage-stopped': {
      const stopped = stoppedProducts(profile, at, params.days as number, params.minActiveMonths as number);
      return stopped.length ? { reasons: [`no usage of ${stopped.map(([p]) => p).join(', ')} for ${params.days} days`], subjects: stopped.map(([p, last]) => `${p}#${last}`) } : undefined;
    }
    case 'returns': {
      const wanted = (params.reasons as string[] | undefined)?.map((r) => r.toLowerCase());
      const returns = (profile.returns ?? []).filter((r) => inWindow(r.at, at, params.windowDays as number) && (!wanted || wanted.includes((r.reason ?? '').trim().toLowerCase())));
      const value = returns.reduce((s, r) => s + r.amount, 0);
      if (returns.length < (params.minCount as number) || value < (params.minValue as number)) return undefined;
      return { reasons: [`${returns.length} return(s) worth ${Math.round(value * 100) / 100} in ${params.windowDays} days`] };
    }
    case 'payment-failures': {
      const failures = profile.paymentFailures.filter((f) => inWindow(f, at, params.windowDays as number));
      return failures.length >= (params.minCount as number) ? { reasons: [`${failures.length} failed payments in ${params.windowDays} days`] } : undefined;
    }
    case 'downgrade': {
      if (event?.type === 'SubscriptionChanged') return event.detail.change === 'downgrade' ? { reasons: ['subscription downgraded'] } : undefined;
      const n = Object.values(profile.subscriptions).filter((s) => s.lastChange?.value === 'downgrade' && inWindow(s.lastChange.at, at, params.windowDays as number)).length;
      return n ? { reasons: [`${n} subscription(s) downgraded in ${params.windowDays} days`] } : undefined;
    }
    case 'cancellation': {
      const allowed = (permission: boolean) => permission || params.requireWinbackPermission !== true;
      if (event?.type === 'SubscriptionCancelled') {
        return allowed(event.detail.allowWinbackContact === true) ? { reasons: [`cancelled: ${event.detail.reasonCode ?? event.detail.reason ?? 'no reason given'}`] } : undefined;
      }
      const n = Object.values(profile.subscriptions).filter((s) => s.cancellation && allowed(s.cancellation.value.allowWinbackContact) && inWindow(s.cancellation.at, at, params.windowDays as number)).length;
      return n ? { reasons: [`${n} subscription(s) cancelled in ${params.windowDays} days`] } : undefined;
    }
    case 'cancellation-request': {
      // Seed 003: save a customer who says she no longer wants the product, before she goes.
      if (event?.type === 'CancellationRequested') return { reasons: [`asked to cancel${event.detail.reasonCode ? `: ${event.detail.reasonCode}` : ''}`] };
      const r = profile.cancellationRequest;
      return r && inWindow(r.at, at, params.windowDays as number) ? { reasons: [`asked to cancel within ${params.windowDays} days`] } : undefined;
    }
    case 'spend-drop': {
      const day = at.slice(0, 10);
      const recentFrom = iso(Date.parse(`${day}T00:00:00Z`) - (params.recentDays as number) * DAY_MS).slice(0, 10);
      const baselineFrom = iso(Date.parse(`${recentFrom}T00:00:00Z`) - (params.baselineDays as number) * DAY_MS).slice(0, 10);
      const recent = spendBetween(profile, recentFrom, day);
      const baseline = spendBetween(profile, baselineFrom, recentFrom);
      if (baseline <= 0 || baseline < (params.minBaselineSpend as number)) return undefined;
      const expected = (baseline * (params.recentDays as number)) / (params.baselineDays as number);
      if (!(recent < (params.ratio as number) * expected)) return undefined;
      return { reasons: [`spent ${Math.round(recent)} in the last ${params.recentDays} days where ${Math.round(expected)} was usual`] };
    }
    case 'order-stuck': {
      const stuck = stuckOrders(profile, at, params.statuses as string[], params.days as number);
      return stuck.length ? { reasons: [`order(s) ${stuck.map(([o]) => o).join(', ')} in ${(params.statuses as string[]).join(' or ')} for more than ${params.days} days`], subjects: stuck.map(([o, since]) => `${o}#${since}`) } : undefined;
    }
  }
}

/** Whether the event concerns a condition of this type: the call of a support-calls trigger has one of its reasons, and so on. */
function concerns(type: SignalType, params: P, events: readonly string[], event: BusinessEvent): boolean {
  if (!events.includes(event.type)) return false;
  if (type === 'support-calls') return event.type === 'SupportCallLogged' && (params.reasons as string[]).includes(event.detail.reason);
  if (type === 'downgrade') return event.type === 'SubscriptionChanged' && event.detail.change === 'downgrade';
  return true;
}

/** Whether the event concerns a signal of a collective trigger: one of the signal type's events that the trigger reads, and about the signal. */
const concernsSignal = (t: TriggerDefinition, s: Signal, event: BusinessEvent): boolean =>
  concerns(s.type, s.params as P, typeEvents[s.type].filter((e) => t.events.includes(e)), event);

/** The record's kind: a timer trigger, a collective (several signals, or a count over a window), or a single event. */
function kindOf(t: TriggerDefinition): Kind {
  if (timerTypes.includes(t.type as SignalType)) return 'timer';
  if (t.type === 'collective' || t.cooldown !== 'per-event') return 'collective';
  return 'single';
}

function cooldownKey(cooldown: Cooldown, at: string, occurrence: string): string {
  if (cooldown === 'per-event') return occurrence;
  if (cooldown === 'per-month') return at.slice(0, 7); // once per customer per calendar month
  return `${cooldown.days}d${Math.floor(Date.parse(at) / (cooldown.days * DAY_MS))}`;
}

function decisionOf(t: TriggerDefinition, customerId: string, key: string, reasons: string[], sourceEventIds: string[]): TriggerDecision {
  return { triggerId: `${t.id}#${customerId}#${key}`, customerId, rule: t.id, kind: kindOf(t), action: t.action, reasons, churnRiskBoost: t.weight, sourceEventIds };
}

/**
 * The state of a collective trigger at `at`: the weights of the signals that hold, against its
 * threshold. `event` is the arriving event, if any (a timer signal's timer has none); a timer
 * signal (usage stopped, an order stuck) holds while its state lasts past its `days`.
 */
function collectiveState(t: TriggerDefinition, profile: CustomerProfile, at: string, event?: BusinessEvent): SignalState {
  const signals = t.params.signals as Signal[];
  let sum = 0;
  const reasons: string[] = [];
  for (const s of signals) {
    const state = signalState(s.type, s.params as P, profile, at, event && concernsSignal(t, s, event) ? event : undefined, 'signal');
    if (state) {
      sum += s.weight;
      reasons.push(...state.reasons);
    }
  }
  return sum >= (t.params.threshold as number) ? { reasons } : undefined;
}

/** The decisions of the enabled (non-timer) triggers that read this event's type. */
export function evaluateTriggers(event: BusinessEvent, profile: CustomerProfile, now: Date, config: TriggerConfig = triggerConfig): TriggerDecision[] {
  const d = event.detail;
  const at = toUtcIso(d.occurredAt);
  if (Date.parse(at) < now.getTime() - config.maxEventAgeDays * DAY_MS) return [];
  const out: TriggerDecision[] = [];
  for (const t of config.triggers) {
    if (!t.enabled || !t.events.includes(event.type) || timerTypes.includes(t.type as SignalType)) continue;
    let state: SignalState;
    if (t.type === 'collective') {
      // Evaluated when the event concerns one of its signals (whichever arrives last completes it).
      if (!(t.params.signals as Signal[]).some((s) => concernsSignal(t, s, event))) continue;
      state = collectiveState(t, profile, at, event);
    } else {
      // A per-event trigger fires on an event it is about (the billing call, not any call while billing calls are recent).
      if (t.cooldown === 'per-event' && !concerns(t.type, t.params as P, t.events, event)) continue;
      state = signalState(t.type, t.params as P, profile, at, event);
    }
    if (state) out.push(decisionOf(t, d.customerId, cooldownKey(t.cooldown, at, d.eventId), state.reasons, [d.eventId]));
  }
  return out;
}

/**
 * What a timer of a churn trigger carries: the trigger and the subject (an order or a product);
 * for the timer signal of a collective trigger, also the signal's position in its `signals`.
 */
export type TriggerTimerPayload = { trigger: string; subject: string; signal?: number };

/**
 * The conditions of a trigger that need a timer: the trigger itself if it is of a timer type, or
 * the timer-type signals of a collective one (each with its position, which names its timers).
 */
function timerConditions(t: TriggerDefinition): { type: SignalType; params: P; signal?: number }[] {
  if (t.type === 'collective') {
    return (t.params.signals as Signal[]).flatMap((s, i) => (timerTypes.includes(s.type) ? [{ type: s.type, params: s.params as P, signal: i }] : []));
  }
  return timerTypes.includes(t.type as SignalType) ? [{ type: t.type as SignalType, params: t.params as P }] : [];
}

/**
 * The timers this event sets or cancels for the enabled timer triggers that read its type: an
 * order entering a watched status sets one due `days` later, leaving it cancels it; a use of
 * a product sets a lazy one due `days` after the last use (its handler moves it if the
 * product was used since). Computed from the profile (which holds the event), so a redelivered
 * or late event gives the same timers. States older than the freshness window set nothing.
 */
export function timersFor(event: BusinessEvent, profile: CustomerProfile, now: Date, config: TriggerConfig = triggerConfig): { set: (TimerSpec & { lazy: boolean })[]; cancel: TimerSpec[] } {
  const out = { set: [] as (TimerSpec & { lazy: boolean })[], cancel: [] as TimerSpec[] };
  const customerId = event.detail.customerId;
  const oldest = now.getTime() - config.maxEventAgeDays * DAY_MS;
  for (const t of config.triggers) {
    if (!t.enabled || !t.events.includes(event.type)) continue;
    for (const { type, params, signal } of timerConditions(t)) {
      // A collective trigger's timer signals are told apart by their position: `<id>#<signal>#<subject>`.
      const spec = (subject: string, dueMs: number) => ({
        customerId,
        kind: TRIGGER_TIMER_KIND,
        key: signal === undefined ? `${t.id}#${subject}` : `${t.id}#${signal}#${subject}`,
        dueAt: iso(dueMs),
        payload: { trigger: t.id, subject, ...(signal === undefined ? {} : { signal }) } satisfies TriggerTimerPayload,
      });
      if (type === 'order-stuck' && (event.type === 'OrderPlaced' || event.type === 'OrderStatusChanged')) {
        const orderId = event.detail.orderId;
        const status = profile.orders[orderId]?.status;
        const due = status ? Date.parse(status.at) + (params.days as number) * DAY_MS : NaN;
        if (status && (params.statuses as string[]).includes(status.value) && due >= oldest) out.set.push({ ...spec(orderId, due), lazy: false });
        else out.cancel.push(spec(orderId, 0));
      }
      if (type === 'usage-stopped' && event.type === 'UsageRecorded') {
        const productId = event.detail.productId;
        const last = profile.lastUsedAt?.[productId];
        const due = last ? Date.parse(last) + (params.days as number) * DAY_MS : NaN;
        if (last && due >= oldest && activeMonths(profile, productId) >= (params.minActiveMonths as number)) out.set.push({ ...spec(productId, due), lazy: true });
      }
    }
  }
  return out;
}

/**
 * A churn trigger's timer fired: the decision if its state still holds for the subject (the
 * order still in the status it entered then; the product still unused since), else what to do
 * with the timer — set it again for a later time (the state was renewed: a newer last use, the
 * order back in the status later), or nothing (the state ended, or the trigger is gone). The
 * timer of a collective trigger's signal fires the collective trigger when, with this signal
 * now active, the weights of its active signals reach the threshold.
 */
export function evaluateTimerTrigger(
  payload: TriggerTimerPayload,
  customerId: string,
  profile: CustomerProfile | undefined,
  now: Date,
  config: TriggerConfig = triggerConfig,
): { decision?: TriggerDecision; rearmAt?: string } {
  const t = config.triggers.find((x) => x.id === payload.trigger);
  if (!t || !t.enabled || !profile) return {};
  const condition = timerConditions(t).find((c) => c.signal === payload.signal);
  if (!condition) return {};
  const { type, params } = condition;
  const at = now.toISOString();
  const days = params.days as number;
  let occurrence: string | undefined;
  let since: string | undefined;
  // The event that began the state, where the profile knows it (the status change); else the timer.
  let source = `timer:${t.id}#${payload.subject}`;
  if (type === 'order-stuck') {
    const status = profile.orders[payload.subject]?.status;
    if (!status || !(params.statuses as string[]).includes(status.value)) return {};
    since = status.at;
    occurrence = `${payload.subject}#${status.at}`;
    source = status.by;
  } else {
    since = profile.lastUsedAt?.[payload.subject];
    if (!since || activeMonths(profile, payload.subject) < (params.minActiveMonths as number)) return {};
    occurrence = `${payload.subject}#${since}`;
  }
  const due = Date.parse(since) + days * DAY_MS;
  if (due > now.getTime()) return { rearmAt: iso(due) };
  // A state that became due longer ago than the freshness window is history (e.g. loaded late), not news.
  if (due < now.getTime() - config.maxEventAgeDays * DAY_MS) return {};
  if (payload.signal !== undefined) {
    // A timer signal: the collective trigger's signals at this moment (this one holds), against its threshold.
    const state = collectiveState(t, profile, at);
    return state ? { decision: decisionOf(t, customerId, cooldownKey(t.cooldown, at, `${payload.signal}#${occurrence}`), state.reasons, [source]) } : {};
  }
  const reason =
    type === 'order-stuck'
      ? `order ${payload.subject} in ${profile.orders[payload.subject]!.status!.value} since ${since.slice(0, 10)}, more than ${days} days`
      : `no usage of ${payload.subject} since ${since.slice(0, 10)}, more than ${days} days`;
  return { decision: decisionOf(t, customerId, cooldownKey(t.cooldown, at, occurrence), [reason], [source]) };
}
