/**
 * campaigns: bus rule → SQS → here. A batch of requests is planned one by one and its emails
 * go out through SES v2 SendBulkEmail (shared/campaigns/send-batch.ts). Three kinds of request, each becoming at most one
 * email within the guardrails (shared/campaigns/guardrails.ts): a churn trigger
 * (ChurnTriggerFired), the nightly next best action (CustomerRescored), and a producer's
 * business event that asks for an email (a first order or subscription: the welcome;
 * a statement or invoice; a failed payment: the collection notice), validated here as
 * ingest validates it.
 */
import middy from '@middy/core';
import { EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { emittedSchemas } from '../../shared/events/catalog.ts';
import { validateInbound } from '../../shared/events/validate.ts';
import { defaultSendPolicy } from '../../shared/campaigns/guardrails.ts';
import { decideStoredEventRequest, requestEventTypes, requestFromRescore, requestFromTrigger, type CampaignRequest } from '../../shared/campaigns/requests.ts';
import { sendBatch } from '../../shared/campaigns/send-batch.ts';
import type { CampaignDeps, CampaignOutcome } from '../../shared/campaigns/send-campaign.ts';
import { defaults } from '../../shared/defaults.ts';
import { ENV } from '../../shared/wiring.ts';
import { bulkMailer, bulkPacer, consentLedger, customerStore, deliverabilityCounter, eventPublisher, mailer, pageKeys, privacyStore, requireEnv, settings, timerStore } from '../commons/clients.ts';
import { requestFromSendDue, timerDeferredSends } from '../../shared/campaigns/deferred-sends.ts';
import { signedLinks } from '../../shared/campaigns/messages.ts';
import { LoggingBatchProcessor } from '../commons/batch.ts';
import { RetryLaterError } from '../../shared/retry-later.ts';
import { CIRCUIT_BREAKER_PAUSED_METRIC } from '../commons/metric-names.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';

// Logs and counts (FailedRecords) each record that fails; only those are retried.
const processor = new LoggingBatchProcessor(EventType.SQS);
const TriggerEvent = EventBridgeSchema.extend({ detail: emittedSchemas.ChurnTriggerFired });
const RescoredEvent = EventBridgeSchema.extend({ detail: emittedSchemas.CustomerRescored });
const SendDueEvent = EventBridgeSchema.extend({ detail: emittedSchemas.CampaignSendDue });

/**
 * The record's event is not in the customer's profile yet (this function gets a producer's event when ingest
 * does, often first): the record is reported for retry and SQS delivers it again; counted as retried later, not failed.
 */
export class ProfileNotReadyError extends RetryLaterError {
  override name = 'ProfileNotReadyError';
}

const deps = (): CampaignDeps => ({
  store: customerStore(),
  mailer: mailer(),
  publisher: eventPublisher(),
  now: () => new Date(),
  privacy: privacyStore(),
  links: { unsubscribeBaseUrl: requireEnv(ENV.unsubscribeBaseUrl), helpBaseUrl: requireEnv(ENV.helpBaseUrl) },
  policy: {
    ...defaultSendPolicy,
    controlGroupPercent: settings.controlGroupPercent(),
    controlGroupExperiment: settings.controlGroupExperiment(),
    frequencyCapPerWeek: settings.frequencyCapPerWeek(),
    breaker: settings.breakerPolicy(),
  },
  // The circuit breaker's window (SES's sends, hard bounces and complaints, counted by email-feedback).
  deliverability: deliverabilityCounter(),
  // A welcome that went records the double opt-in's request (on the customer and in the consent ledger).
  consent: consentLedger(),
  consentPolicy: settings.consentPolicy(),
});

type Resolved = { request: CampaignRequest } | { outcome: CampaignOutcome | { outcome: 'no-request'; reason: string } };

/** What one record asks for: a campaign request, or an outcome already (not a campaign, an unknown trigger). Throws to retry it. */
async function resolve(record: SQSRecord, deps: () => CampaignDeps): Promise<Resolved> {
  const body = JSON.parse(record.body) as { 'detail-type'?: unknown };
  if (body['detail-type'] === 'CampaignSendDue') {
    const request = requestFromSendDue(SendDueEvent.parse(body).detail);
    return request ? { request } : { outcome: { outcome: 'not-a-campaign' } };
  }
  if (body['detail-type'] === 'CustomerRescored') {
    const request = requestFromRescore(RescoredEvent.parse(body).detail);
    return request ? { request } : { outcome: { outcome: 'not-a-campaign' } };
  }
  if (!(requestEventTypes as readonly unknown[]).includes(body['detail-type'])) {
    // A churn trigger; nothing else is routed here: a message of another shape fails (and reaches the dead-letter queue).
    const trigger = TriggerEvent.parse(body).detail;
    if (!(await deps().store.getTrigger(trigger.customerId, trigger.triggerId))) return { outcome: { outcome: 'unknown-trigger' } };
    const request = requestFromTrigger(trigger);
    return request ? { request } : { outcome: { outcome: 'not-a-campaign' } };
  }
  // A producer's business event: validated as ingest validates it. A bad one asks for nothing: ingest,
  // which gets the same event, puts it on the rejected-events queue with its reason (one owner of rejections).
  const valid = validateInbound(record.body);
  if (!valid.ok) return { outcome: { outcome: 'no-request', reason: `invalid-event: ${valid.code}` } };
  const d = deps();
  // An erased customer's late event asks for nothing (shared/campaigns/requests.ts); another `wait` is retried.
  const decision = await decideStoredEventRequest(valid.event, { store: d.store, privacy: privacyStore(), now: d.now, freshnessDays: defaults.triggerFreshnessDays });
  if (decision.kind === 'wait') throw new ProfileNotReadyError(`event ${valid.event.detail.eventId}: ${decision.reason}; retried`);
  if (decision.kind === 'none') return { outcome: { outcome: 'no-request', reason: decision.reason } };
  return { request: decision.request };
}

/**
 * The whole batch at once: each record resolved to a request, the requests planned and claimed one
 * by one, the emails that may go sent through SendBulkEmail (paced to the send rate). Then each
 * record's result goes through the batch processor: a failed one is logged, counted and retried.
 */
async function decideBatch(records: SQSRecord[]): Promise<Map<string, Error | Record<string, unknown>>> {
  let built: CampaignDeps | undefined;
  const d = () => (built ??= deps());
  const results = new Map<string, Error | Record<string, unknown>>();
  const toSend: { messageId: string; request: CampaignRequest }[] = [];
  for (const record of records) {
    try {
      const r = await resolve(record, d);
      if ('request' in r) toSend.push({ messageId: record.messageId, request: r.request });
      else results.set(record.messageId, r.outcome);
    } catch (e) {
      results.set(record.messageId, e as Error);
    }
  }
  if (toSend.length === 0) return results;
  const base = d();
  // The page links signed with the current page key (one token per customer and purpose). The stack
  // (CDK and the local stack) always sets the key's secret; without one (handler tests) the links carry
  // the unsigned token of shared/campaigns/messages.ts.
  const personalLinks = process.env[ENV.pageKeysSecret]
    ? signedLinks(await pageKeys().keyRing(), requireEnv(ENV.pagesBaseUrl), base.links.helpBaseUrl, base.now())
    : undefined;
  const outcomes = await sendBatch(
    toSend.map((t) => t.request),
    { ...base, personalLinks, bulkMailer: bulkMailer(), pace: bulkPacer()?.pace, deferred: timerDeferredSends(timerStore(), base.now) },
  );
  toSend.forEach((t, i) => {
    const o = outcomes[i]!;
    if (o.outcome === 'failed') results.set(t.messageId, o.error);
    else if (o.outcome === 'retry') results.set(t.messageId, new Error(`send ${o.sendId} not taken by SES (${o.reason}); retried`));
    else results.set(t.messageId, o);
  });
  return results;
}

export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const results = await decideBatch(event.Records);
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const result = results.get(record.messageId);
    if (result === undefined || result instanceof Error) throw result ?? new Error('record not handled');
    // No personal data: ids, outcome and reason codes only.
    logger.info('campaign decision', { messageId: record.messageId, ...result });
    metrics.addMetric(`Campaign_${String(result.outcome)}`, MetricUnit.Count, 1);
    // A marketing send the deliverability circuit breaker paused (deferred, planned again later): the alarm's metric.
    if (result.outcome === 'deferred' && String(result.reason).startsWith('circuit-breaker')) metrics.addMetric(CIRCUIT_BREAKER_PAUSED_METRIC, MetricUnit.Count, 1);
  };
  return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
