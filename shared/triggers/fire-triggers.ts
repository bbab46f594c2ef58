/**
 * React to one newly stored business event: evaluate the churn rules against
 * the customer's profile, record each fired trigger once, publish it once.
 */
import type { BusinessEvent, ChurnTriggerFired } from '../events/catalog.ts';
import type { CustomerStore, EventPublisher } from '../ports.ts';
import { defaultTriggerPolicy, evaluateTriggers, type TriggerPolicy } from './rules.ts';

export async function fireTriggers(
  event: BusinessEvent,
  deps: { store: CustomerStore; publisher: EventPublisher; now: () => Date; policy?: TriggerPolicy },
): Promise<ChurnTriggerFired[]> {
  const profile = await deps.store.getProfile(event.detail.customerId);
  if (!profile) throw new Error(`no profile for a stored event of customer (event ${event.detail.eventId})`);
  const decisions = evaluateTriggers(event, profile, deps.now(), deps.policy ?? defaultTriggerPolicy);
  const fired: ChurnTriggerFired[] = [];
  for (const decision of decisions) {
    const now = deps.now();
    const { firedAt, published } = await deps.store.recordTrigger(decision, now);
    if (published) continue;
    const detail: ChurnTriggerFired = { ...decision, firedAt, schemaVersion: 1 };
    await deps.publisher.publish([{ detailType: 'ChurnTriggerFired', detail }]);
    await deps.store.markPublished(decision.customerId, { kind: 'trigger', triggerId: decision.triggerId }, deps.now());
    fired.push(detail);
  }
  return fired;
}
