/**
 * React to one newly stored business event: evaluate the churn triggers (config/triggers.json)
 * against the customer's profile, record each fired trigger once, publish it once, and set,
 * move or cancel the timers of the triggers that fire from a timer (an order stuck in a status,
 * usage that stopped). When such a timer is due, `triggerTimerHandler` checks the state again
 * and fires the trigger (or sets the timer again for later).
 */
import { z } from 'zod';
import type { BusinessEvent, ChurnTriggerFired, EmittedDetail } from '../events/catalog.ts';
import type { CustomerStore, EventPublisher, OutreachDesk, TimerStore, TriggerDecision } from '../ports.ts';
import type { TimerHandler } from '../timers/sweep.ts';
import { triggerConfig as repositoryConfig, type TriggerConfig } from './config.ts';
import { evaluateTimerTrigger, evaluateTriggers, timersFor } from './rules.ts';
import { routeDecision } from './routing.ts';

export type FireDeps = {
  store: CustomerStore;
  publisher: EventPublisher;
  timers: TimerStore;
  now: () => Date;
  /** The customer's value and the outreach capacity; without one every trigger goes to the email path, without a value. */
  desk?: OutreachDesk;
  /** Default: config/triggers.json. */
  config?: TriggerConfig;
};

/**
 * Records each decision once and publishes its ChurnTriggerFired once (a redelivery publishes what
 * was recorded but not published). Each carries the customer's value and risk and its route
 * (routing.ts); one routed to people is published with its OutreachTaskCreated, in one call.
 */
export async function publishDecisions(decisions: readonly TriggerDecision[], deps: FireDeps): Promise<ChurnTriggerFired[]> {
  const config = deps.config ?? repositoryConfig;
  const fired: ChurnTriggerFired[] = [];
  for (const decision of decisions) {
    // Published before (a redelivery): no score read, no capacity claim.
    if ((await deps.store.getTrigger(decision.customerId, decision.triggerId))?.published) continue;
    const now = deps.now();
    const routed: TriggerDecision = deps.desk ? await routeDecision(decision, deps.desk, config.routing, now) : { ...decision, route: 'email' };
    const { firedAt, published } = await deps.store.recordTrigger(routed, now);
    if (published) continue;
    const detail: ChurnTriggerFired = { ...routed, firedAt, schemaVersion: 1 };
    const trigger = { detailType: 'ChurnTriggerFired' as const, detail };
    if (routed.route === 'outreach') {
      const task: EmittedDetail<'OutreachTaskCreated'> = {
        taskId: routed.triggerId,
        customerId: routed.customerId,
        triggerId: routed.triggerId,
        rule: routed.rule,
        action: routed.action,
        reasons: routed.reasons,
        clv: routed.clv ?? 0,
        valueTier: routed.valueTier ?? '',
        churnRisk: routed.churnRisk ?? 0,
        capacityDay: now.toISOString().slice(0, 10),
        createdAt: firedAt,
        schemaVersion: 1,
      };
      await deps.publisher.publish<'ChurnTriggerFired' | 'OutreachTaskCreated'>([trigger, { detailType: 'OutreachTaskCreated', detail: task }] as never);
    } else await deps.publisher.publish([trigger]);
    await deps.store.markPublished(decision.customerId, { kind: 'trigger', triggerId: decision.triggerId }, deps.now());
    fired.push(detail);
  }
  return fired;
}

export async function fireTriggers(event: BusinessEvent, deps: FireDeps): Promise<ChurnTriggerFired[]> {
  const config = deps.config ?? repositoryConfig;
  const profile = await deps.store.getProfile(event.detail.customerId);
  if (!profile) throw new Error(`no profile for a stored event of customer (event ${event.detail.eventId})`);
  const now = deps.now();
  const timers = timersFor(event, profile, now, config);
  for (const t of timers.set) {
    const { lazy, ...spec } = t;
    await deps.timers.set(spec, now, { keepEarlier: lazy });
  }
  for (const t of timers.cancel) await deps.timers.cancel(t);
  return publishDecisions(evaluateTriggers(event, profile, now, config), deps);
}

const timerPayload = z.object({ trigger: z.string().min(1), subject: z.string().min(1), signal: z.number().int().min(0).optional() });

/**
 * The handler of the churn triggers' timers (kind `churn-trigger`): the trigger fires if its
 * state still holds (for a collective trigger's timer signal: if the weights of the signals
 * active then reach its threshold); a renewed state sets the timer again for its new time (the
 * sweep then finds it moved and leaves it pending); an ended state does nothing. Idempotent: the
 * trigger's id names the state's occurrence, so a timer fired twice records one trigger.
 */
export function triggerTimerHandler(deps: FireDeps): TimerHandler {
  return async (timer, now) => {
    const payload = timerPayload.parse(timer.payload);
    const profile = await deps.store.getProfile(timer.customerId);
    const { decision, rearmAt } = evaluateTimerTrigger(payload, timer.customerId, profile, now, deps.config ?? repositoryConfig);
    if (rearmAt) await deps.timers.set({ customerId: timer.customerId, kind: timer.kind, key: timer.key, dueAt: rearmAt, payload }, now);
    if (decision) await publishDecisions([decision], deps);
  };
}
