/**
 * Deferred sends on the durable timers (shared/timers/, docs/triggers.md): a send held for the
 * customer's hour (or paused by the circuit breaker, or still throttled after its retries) sets a
 * `campaign-send` timer keyed by its send id; when it is due, the sweep puts the request back on
 * the bus as `CampaignSendDue`, and the campaigns function plans it again from the first
 * guardrail (consent, suppression, caps and cooldowns as they are then) and sends it through the
 * same paced path as every other email: the send rate holds for deferred sends too.
 */
import type { EmittedDetail } from '../events/catalog.ts';
import type { EventPublisher, PendingTimer, TimerStore } from '../ports.ts';
import type { TimerHandler } from '../timers/sweep.ts';
import { isCampaignName } from './catalog.ts';
import { sendIdFor } from './guardrails.ts';
import type { CampaignRequest } from './requests.ts';
import type { DeferredSends } from './send-campaign.ts';

export const CAMPAIGN_SEND_TIMER_KIND = 'campaign-send';

/** Sets (or moves) the send's timer: one per send id, so a redelivered deferral does not add another. */
export function timerDeferredSends(timers: TimerStore, now: () => Date): DeferredSends {
  return {
    defer: async (request, until) => {
      await timers.set(
        { customerId: request.customerId, kind: CAMPAIGN_SEND_TIMER_KIND, key: sendIdFor(request.campaign, request.requestId), dueAt: until.toISOString(), payload: { request } },
        now(),
      );
    },
  };
}

/** The event a due timer becomes. */
export function sendDueEvent(request: CampaignRequest, dueAt: string): EmittedDetail<'CampaignSendDue'> {
  return { ...request, dueAt, schemaVersion: 1 };
}

/** The request of a `CampaignSendDue`, or undefined when it names no campaign this stack has. */
export function requestFromSendDue(detail: EmittedDetail<'CampaignSendDue'>): CampaignRequest | undefined {
  if (!isCampaignName(detail.campaign)) return undefined;
  const { dueAt: _, schemaVersion: __, ...rest } = detail;
  return { ...rest, campaign: detail.campaign };
}

/** The sweep's handler of `campaign-send` timers: the request back to campaigns, on the bus. */
export function campaignSendTimerHandler(deps: { publisher: EventPublisher }): TimerHandler {
  return async (timer: PendingTimer) => {
    const request = (timer.payload as { request?: CampaignRequest } | undefined)?.request;
    if (!request) throw new Error(`timer ${timer.kind}/${timer.key} has no request`);
    await deps.publisher.publish([{ detailType: 'CampaignSendDue', detail: sendDueEvent(request, timer.dueAt) }]);
  };
}
