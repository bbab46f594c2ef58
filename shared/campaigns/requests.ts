/**
 * Campaign requests: what asks for an email, whatever its source. A churn trigger
 * (its recommended action), the nightly next best action (CustomerRescored), a stored
 * business event (a first order or subscription: the welcome; a statement or invoice;
 * a failed payment: the collection notice). The request id is the idempotency key:
 * every redelivery of the same source gives the same id, so the same send id (one
 * email at most). Pure.
 */
import type { BusinessEvent, ChurnTriggerFired, EmittedDetail, InboundDetail } from '../events/catalog.ts';
import type { NextBestAction } from '../scoring/next-best-action.ts';
import type { CustomerProfile } from '../customers/profile.ts';
import type { CustomerStore, PrivacyStore } from '../ports.ts';
import { isErased } from '../privacy/erasure.ts';
import { campaignOfAction, type CampaignName } from './catalog.ts';
import { WINBACK_SEQUENCE_RULE, winbackOfferOf } from '../winback/offer-copy.ts';

/** The statement, invoice or notice a transactional email is about (from the producer: untrusted text). */
export type CampaignDocument = { kind: 'statement' | 'invoice' | 'collection-notice'; number: string; amount: number; currency: string };

export type CampaignRequest = {
  /** Idempotency key of the source (trigger id, event id, scoring run and customer). */
  requestId: string;
  customerId: string;
  campaign: CampaignName;
  source: 'trigger' | 'next-best-action' | 'event';
  /** The churn rule behind a trigger's email ('' otherwise): templates may vary on it. */
  rule: string;
  /** What the nightly run recommends, when known: a statement's offer block follows it. */
  nextBestAction?: NextBestAction;
  document?: CampaignDocument;
  /** The offer the source chose (a winback step's, by the leaving reason: templates/campaigns.json). */
  offerId?: string;
};

export function requestFromTrigger(trigger: ChurnTriggerFired): CampaignRequest | undefined {
  // A step of the winback sequence (shared/winback/): its own campaign and cooldown, the offer its reason chose.
  if (trigger.action === 'winback' && trigger.rule === WINBACK_SEQUENCE_RULE) {
    const offer = winbackOfferOf(trigger);
    return { requestId: trigger.triggerId, customerId: trigger.customerId, campaign: 'winback-sequence', source: 'trigger', rule: trigger.rule, nextBestAction: trigger.action, ...(offer && { offerId: offer }) };
  }
  const campaign = campaignOfAction[trigger.action];
  if (!campaign) return undefined;
  return { requestId: trigger.triggerId, customerId: trigger.customerId, campaign, source: 'trigger', rule: trigger.rule, nextBestAction: trigger.action };
}

/** The nightly run's choice: one email per customer, action and scoring day (a rescoring the same day asks for the same one). */
export function requestFromRescore(rescored: EmittedDetail<'CustomerRescored'>): CampaignRequest | undefined {
  const campaign = campaignOfAction[rescored.nextBestAction];
  if (!campaign) return undefined;
  const day = rescored.scoredAt.slice(0, 10);
  return { requestId: `nba#${rescored.nextBestAction}#${day}`, customerId: rescored.customerId, campaign, source: 'next-best-action', rule: '', nextBestAction: rescored.nextBestAction };
}

/** Business event types that ask for an email (docs/campaigns.md). */
export const requestEventTypes = ['OrderPlaced', 'SubscriptionStarted', 'InvoiceIssued', 'PaymentFailed'] as const;

export function requestFromEvent(event: BusinessEvent): CampaignRequest | undefined {
  const d = event.detail;
  const base = { customerId: d.customerId, source: 'event' as const, rule: '' };
  switch (event.type) {
    case 'OrderPlaced':
    case 'SubscriptionStarted':
      // One welcome per customer, ever: the first order or subscription asks, later ones find it done.
      return { ...base, requestId: `first-purchase#${d.customerId}`, campaign: 'welcome' };
    case 'InvoiceIssued': {
      const e = d as InboundDetail<'InvoiceIssued'>;
      const kind = e.kind === 'statement' ? 'statement' : 'invoice';
      return { ...base, requestId: d.eventId, campaign: kind, document: { kind, number: e.invoiceId, amount: e.amount, currency: e.currency } };
    }
    case 'PaymentFailed': {
      const e = d as InboundDetail<'PaymentFailed'>;
      return { ...base, requestId: d.eventId, campaign: 'collection-notice', document: { kind: 'collection-notice', number: e.paymentId, amount: e.amount, currency: e.currency } };
    }
    default:
      return undefined;
  }
}

/** What a stored business event asks of campaigns, given the customer's profile now. */
export type EventRequestDecision =
  | { kind: 'request'; request: CampaignRequest }
  /** The profile does not hold the event yet (ingest is folding it): ask again later. */
  | { kind: 'wait'; reason: string }
  | { kind: 'none'; reason: string };

/**
 * The email a business event asks for, if any:
 * - only a fresh event (within `freshnessDays` of now) asks: loading history sends nothing;
 * - the welcome only for the customer's first purchase (one order and no subscription, or one
 *   subscription and no order), once the profile holds it;
 * - a statement, invoice or notice once the customer has a profile with an address.
 * The campaigns queue gets the producer's event at the same time as ingest, so the profile may
 * not have it yet: `wait` makes the handler fail the record, and SQS delivers it again later
 * (to the dead-letter queue, with its reason, after the queue's receive limit).
 */
export function decideEventRequest(event: BusinessEvent, profile: CustomerProfile | undefined, now: Date, freshnessDays: number): EventRequestDecision {
  const request = requestFromEvent(event);
  if (!request) return { kind: 'none', reason: 'no-campaign-for-event' };
  if (now.getTime() - Date.parse(event.detail.occurredAt) > freshnessDays * 86_400_000) return { kind: 'none', reason: 'stale-event' };
  if (!profile?.email) return { kind: 'wait', reason: 'no profile with an address yet' };
  if (event.type === 'OrderPlaced' || event.type === 'SubscriptionStarted') {
    const folded =
      event.type === 'OrderPlaced'
        ? profile.orders[(event.detail as InboundDetail<'OrderPlaced'>).orderId] !== undefined
        : profile.subscriptions[(event.detail as InboundDetail<'SubscriptionStarted'>).subscriptionId]?.startedAt !== undefined;
    if (!folded) return { kind: 'wait', reason: 'the purchase is not in the profile yet' };
    const purchases = profile.orderCount + Object.keys(profile.subscriptions).length;
    if (purchases !== 1) return { kind: 'none', reason: 'not-first-purchase' };
  }
  return { kind: 'request', request };
}

/**
 * `decideEventRequest` on the customer's stored profile, with one more answer: a `wait` for a
 * customer who was erased becomes `none` (`erased`). Ingest drops an erased customer's events
 * (docs/erasure.md), so her profile will never hold the event: waiting would only retry the record
 * into the dead-letter queue. The tombstone is read only when the decision is to wait.
 */
export async function decideStoredEventRequest(
  event: BusinessEvent,
  deps: { store: Pick<CustomerStore, 'getProfile'>; privacy: Pick<PrivacyStore, 'salt' | 'hasTombstone'>; now: () => Date; freshnessDays: number },
): Promise<EventRequestDecision> {
  const decision = decideEventRequest(event, await deps.store.getProfile(event.detail.customerId), deps.now(), deps.freshnessDays);
  if (decision.kind === 'wait' && (await isErased(event.detail.customerId, deps.privacy))) return { kind: 'none', reason: 'erased' };
  return decision;
}
