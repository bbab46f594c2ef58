/**
 * The winback sequence (seed 001: "secure future permission to contact and automate
 * counter-offers to win back the customer's loyalty"). Pure.
 *
 * For a customer who left with a live winback grant, counter-offers go out at configurable
 * delays after she left (default 14, 60 and 180 days), each on a durable timer. Each offer is
 * chosen by her leaving reason (a price reason gets a price offer, a network reason news of the
 * fix, …) and her former value: a high-CLV former customer gets the premium variant, and a
 * personal-outreach task for an agent instead of (or before) the email. When a step is due,
 * `decideStep` checks the state again: the sequence stops at once when she came back, withdrew
 * permission (winback, or marketing email), or the permission expired.
 */
import type { ExitReason } from '../events/catalog.ts';
import { formerCustomerSince, type CustomerProfile } from '../customers/profile.ts';
import { contactPermission } from '../consent/permission.ts';
import { defaults } from '../defaults.ts';

export type WinbackPolicy = {
  /** Days after leaving at which the steps are due, in order. */
  delaysDays: readonly number[];
  /** A former customer whose last CLV (the nightly score) is at least this is high-value. */
  highValueMinClv: number;
  /** What a high-value former customer gets: a personal-outreach task instead of the email, before it (both), or no task. */
  personalOutreach: 'instead' | 'before' | 'off';
};

export const defaultWinbackPolicy: WinbackPolicy = {
  delaysDays: defaults.winbackDelaysDays,
  highValueMinClv: defaults.winbackHighValueMinClv,
  personalOutreach: 'instead',
};

/** The timer kind of the winback steps (functions/timer-sweep/kinds.ts dispatches it to `decideStep`'s handler). */
export const WINBACK_TIMER_KIND = 'winback-step';

/** The counter-offer for each leaving reason (the email template picks its content by this id). */
export const offerByReason: Record<ExitReason | 'unknown', string> = {
  price: 'price-discount',
  'service-quality': 'service-promise',
  network: 'network-fix-news',
  billing: 'billing-credit',
  moved: 'new-address-check',
  competitor: 'price-match',
  'no-longer-needed': 'flexible-plan',
  other: 'welcome-back',
  unknown: 'welcome-back',
};

/** The offer of a step: the reason's offer, its premium variant for a high-value former customer, numbered by step. */
export function offerFor(reason: ExitReason | undefined, highValue: boolean, step: number): string {
  return `${offerByReason[reason ?? 'unknown']}${highValue ? '-premium' : ''}-${step}`;
}

/** One armed step: the timer's key and due time, and what its handler needs. */
export type WinbackStep = { key: string; dueAt: string; payload: { leftAt: string; step: number } };

const DAY_MS = 86_400_000;

/**
 * The steps to arm for the customer now: when she has left, has a live winback grant and the
 * marketing consent the emails need, one step per delay still ahead (a grant given late, by an
 * exit survey weeks after, arms only the steps not yet due). None otherwise. Deterministic keys
 * (`<leftAt>#<step>`), so arming again (a redelivered event) sets the same timers.
 */
export function stepsToArm(profile: CustomerProfile, now: Date, policy: WinbackPolicy = defaultWinbackPolicy): WinbackStep[] {
  const leftAt = formerCustomerSince(profile);
  if (leftAt === undefined || contactPermission(profile, 'winback-email', now) !== undefined) return [];
  return policy.delaysDays
    .map((days, i) => ({ key: `${leftAt}#${i + 1}`, dueAt: new Date(Date.parse(leftAt) + days * DAY_MS).toISOString(), payload: { leftAt, step: i + 1 } }))
    .filter((s) => Date.parse(s.dueAt) > now.getTime());
}

/** Why a sequence stopped (or a step did nothing). */
export type StopReason = 'returned' | 'left-again' | 'no-winback-permission' | 'winback-permission-expired' | 'no-marketing-consent' | 'marketing-consent-expired';

export type StepDecision =
  | { kind: 'stop'; why: StopReason }
  | { kind: 'contact'; step: number; offer: string; reasonCode: ExitReason | 'unknown'; highValue: boolean; task: boolean; email: boolean };

/**
 * What a due step does, judged on the customer's state now: stop (and cancel the steps left)
 * when she came back, left again since (a newer sequence runs), or may no longer be contacted;
 * otherwise the step's offer, by email and/or as a personal-outreach task.
 */
export function decideStep(
  profile: CustomerProfile | undefined,
  step: { leftAt: string; step: number },
  clv: number | undefined,
  now: Date,
  policy: WinbackPolicy = defaultWinbackPolicy,
): StepDecision {
  const leftAt = profile ? formerCustomerSince(profile) : undefined;
  if (!profile || leftAt === undefined) return { kind: 'stop', why: 'returned' };
  if (leftAt !== step.leftAt) return { kind: 'stop', why: 'left-again' };
  const refused = contactPermission(profile, 'winback-email', now);
  if (refused !== undefined) return { kind: 'stop', why: refused === 'not-a-former-customer' ? 'returned' : (refused as StopReason) };
  const reasonCode = profile.leavingReason?.value.code ?? 'unknown';
  const highValue = clv !== undefined && clv >= policy.highValueMinClv;
  const task = highValue && policy.personalOutreach !== 'off';
  const email = !(highValue && policy.personalOutreach === 'instead');
  return { kind: 'contact', step: step.step, offer: offerFor(reasonCode === 'unknown' ? undefined : reasonCode, highValue, step.step), reasonCode, highValue, task, email };
}
