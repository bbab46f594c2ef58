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
import { campaignOfAction, type CampaignName } from './catalog.ts';

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
};

export function requestFromTrigger(trigger: ChurnTriggerFired): CampaignRequest | undefined {
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
