/**
 * The winback sequence at work (shared/winback/sequence.ts decides, this acts):
 * - `trackWinback`, for each stored event the stream delivers: a leaving records its anonymous
 *   leaver fact (reason, whether a sequence runs) and arms the steps on durable timers; a
 *   withdrawal cancels the steps at once; a return marks the fact `returned` and cancels them;
 * - `winbackStepHandler`, for each due step timer: judged again on the state now, it stops the
 *   sequence, or makes the step's counter-offer: a winback churn trigger (recorded once, published
 *   once; the campaigns function emails it within the guardrails) and/or a personal-outreach task.
 * Every action is idempotent: timers and the trigger have deterministic ids, the fact's offers
 * are set once per step, its outcome once.
 */
import { WINBACK_SEQUENCE_RULE } from './offer-copy.ts';
import type { BusinessEvent, InboundDetail } from '../events/catalog.ts';
import { formerCustomerSince, toUtcIso, type CustomerProfile } from '../customers/profile.ts';
import type { CustomerStore, EventPublisher, LeavingLink, WinbackStore } from '../ports.ts';
import { WINBACK_TIMER_KIND, decideStep, defaultWinbackPolicy, stepsToArm, type WinbackPolicy } from './sequence.ts';

/** The timers the sequence needs (structurally the TimerStore port's set and cancel). */
export type WinbackTimers = {
  set(timer: { customerId: string; kind: string; key: string; dueAt: string; payload?: Record<string, unknown> }, now: Date): Promise<unknown>;
  cancel(timer: { customerId: string; kind: string; key: string }): Promise<void>;
};

/** The event types the tracking reads (the stream filter passes them to the churn-triggers function). */
export const winbackEventTypes = ['SubscriptionCancelled', 'AccountClosed', 'ExitSurveyAnswered', 'ConsentChanged', 'SubscriptionStarted'] as const satisfies readonly BusinessEvent['type'][];

export type TrackDeps = { winback: WinbackStore; timers: WinbackTimers; now: () => Date; policy?: WinbackPolicy };

const leavingTypes = new Set<string>(['SubscriptionCancelled', 'AccountClosed', 'ExitSurveyAnswered']);

async function cancelSteps(customerId: string, leftAt: string, deps: TrackDeps): Promise<void> {
  const policy = deps.policy ?? defaultWinbackPolicy;
  for (let step = 1; step <= policy.delaysDays.length; step++) await deps.timers.cancel({ customerId, kind: WINBACK_TIMER_KIND, key: `${leftAt}#${step}` });
}

export async function trackWinback(event: BusinessEvent, profile: CustomerProfile, deps: TrackDeps): Promise<void> {
  const now = deps.now();
  const customerId = profile.customerId;
  const leftAt = formerCustomerSince(profile);
  const reasonCode = profile.leavingReason?.value.code ?? 'unknown';

  if (event.type === 'ConsentChanged') {
    const e = event.detail as InboundDetail<'ConsentChanged'>;
    const withdrawsContact = !e.granted && (e.purpose === 'winback' || (e.purpose === 'marketing' && e.channel === 'email'));
    if (withdrawsContact && leftAt !== undefined) {
      await cancelSteps(customerId, leftAt, deps);
      return;
    }
  }
  if (leftAt !== undefined && (leavingTypes.has(event.type) || event.type === 'ConsentChanged')) {
    const steps = stepsToArm(profile, now, deps.policy);
    // Every leaving is a fact for the reasons report; a late grant (ConsentChanged) only matters once she left.
    if (!leavingTypes.has(event.type) && steps.length === 0) return;
    const link = await deps.winback.recordLeaving(customerId, leftAt, { reasonCode, inSequence: steps.length > 0 });
    await deps.winback.updateFact(link, { reasonCode, ...(steps.length > 0 ? { inSequence: true } : {}) });
    for (const s of steps) await deps.timers.set({ customerId, kind: WINBACK_TIMER_KIND, key: s.key, dueAt: s.dueAt, payload: s.payload }, now);
    return;
  }
  if (event.type === 'SubscriptionStarted' && leftAt === undefined) {
    const link = await deps.winback.latestLeaving(customerId);
    const startedAt = toUtcIso(event.detail.occurredAt);
    if (!link || startedAt <= link.leftAt) return;
    await deps.winback.updateFact(link, { outcome: { kind: 'returned', on: startedAt.slice(0, 10) } });
    await cancelSteps(customerId, link.leftAt, deps);
  }
}

export type StepDeps = TrackDeps & {
  store: Pick<CustomerStore, 'getProfile' | 'recordTrigger' | 'markPublished'>;
  publisher: EventPublisher;
  /** The customer's last CLV (the nightly score), if she was scored. */
  clvOf: (customerId: string) => Promise<number | undefined>;
};

/** The handler of kind `winback-step` timers (registered in functions/timer-sweep/kinds.ts). */
export function winbackStepHandler(deps: StepDeps) {
  return async (timer: { customerId: string; key: string; payload?: Record<string, unknown> }, now: Date): Promise<void> => {
    const payload = timer.payload as { leftAt?: unknown; step?: unknown } | undefined;
    if (typeof payload?.leftAt !== 'string' || typeof payload.step !== 'number') throw new Error(`winback step timer ${timer.key} has no leftAt and step`);
    const step = { leftAt: payload.leftAt, step: payload.step };
    const customerId = timer.customerId;
    const [profile, clv] = await Promise.all([deps.store.getProfile(customerId), deps.clvOf(customerId)]);
    const decision = decideStep(profile, step, clv, now, deps.policy);
    const link: LeavingLink | undefined = profile ? await deps.winback.latestLeaving(customerId) : undefined;
    const mine = link && link.leftAt === step.leftAt ? link : undefined;
    if (decision.kind === 'stop') {
      await cancelSteps(customerId, step.leftAt, deps);
      if (mine && decision.why !== 'left-again') {
        await deps.winback.updateFact(mine, { outcome: decision.why === 'returned' ? { kind: 'returned', on: now.toISOString().slice(0, 10) } : { kind: 'stopped', why: decision.why, on: now.toISOString().slice(0, 10) } });
      }
      return;
    }
    const on = now.toISOString().slice(0, 10);
    const id = `winback-sequence#${customerId}#${step.leftAt}#${step.step}`;
    if (decision.task) {
      await deps.publisher.publish([
        { detailType: 'OutreachTaskCreated', detail: { taskId: id, customerId, purpose: 'winback', offer: decision.offer, step: decision.step, reasonCode: decision.reasonCode, createdAt: now.toISOString(), schemaVersion: 1 } },
      ]);
      if (mine) await deps.winback.updateFact(mine, { offer: { step: decision.step, offer: decision.offer, on, via: 'task' } });
    }
    if (decision.email) {
      const trigger = {
        triggerId: id,
        customerId,
        rule: WINBACK_SEQUENCE_RULE,
        kind: 'timer' as const,
        action: 'winback' as const,
        reasons: [`winback step ${decision.step}: offer ${decision.offer}`, `left: ${decision.reasonCode}`],
        churnRiskBoost: 0,
        sourceEventIds: [`winback-step#${step.leftAt}#${step.step}`],
      };
      const { firedAt, published } = await deps.store.recordTrigger(trigger, now);
      if (!published) {
        await deps.publisher.publish([{ detailType: 'ChurnTriggerFired', detail: { ...trigger, firedAt, schemaVersion: 1 } }]);
        await deps.store.markPublished(customerId, { kind: 'trigger', triggerId: id }, deps.now());
      }
      // The email itself is decided by the campaigns function (consent, caps, control group); the offer was made.
      if (mine && !decision.task) await deps.winback.updateFact(mine, { offer: { step: decision.step, offer: decision.offer, on, via: 'email' } });
    }
  };
}
