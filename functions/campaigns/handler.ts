/**
 * campaigns: bus rule → SQS → here. Three kinds of request, each becoming at most one
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
import { decideEventRequest, requestEventTypes, requestFromRescore } from '../../shared/campaigns/requests.ts';
import { handleRequest, sendCampaign, type CampaignDeps, type CampaignOutcome } from '../../shared/campaigns/send-campaign.ts';
import { defaults } from '../../shared/defaults.ts';
import { ENV } from '../../shared/wiring.ts';
import { customerStore, eventPublisher, mailer, requireEnv, settings } from '../commons/clients.ts';
import { LoggingBatchProcessor } from '../commons/batch.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';
import { serializeByKey } from '../commons/serialize-by-key.ts';

// Logs and counts (FailedRecords) each record that fails; only those are retried.
const processor = new LoggingBatchProcessor(EventType.SQS);
const TriggerEvent = EventBridgeSchema.extend({ detail: emittedSchemas.ChurnTriggerFired });
const RescoredEvent = EventBridgeSchema.extend({ detail: emittedSchemas.CustomerRescored });
const oneAtATimePerCustomer = serializeByKey();

/** The record's event is not in the customer's profile yet: the record fails and SQS delivers it again. */
export class ProfileNotReadyError extends Error {
  override name = 'ProfileNotReadyError';
}

const deps = (): CampaignDeps => ({
  store: customerStore(),
  mailer: mailer(),
  publisher: eventPublisher(),
  now: () => new Date(),
  links: { unsubscribeBaseUrl: requireEnv(ENV.unsubscribeBaseUrl), helpBaseUrl: requireEnv(ENV.helpBaseUrl) },
  policy: {
    ...defaultSendPolicy,
    controlGroupPercent: settings.controlGroupPercent(),
    controlGroupExperiment: settings.controlGroupExperiment(),
    frequencyCapPerWeek: settings.frequencyCapPerWeek(),
  },
});

async function decide(body: { 'detail-type'?: unknown; source?: unknown; detail?: { customerId?: unknown } }, raw: string): Promise<{ customerId?: string; outcome: CampaignOutcome | { outcome: 'no-request'; reason: string } }> {
  if (body['detail-type'] === 'ChurnTriggerFired') {
    const event = TriggerEvent.parse(body);
    return { customerId: event.detail.customerId, outcome: await oneAtATimePerCustomer(event.detail.customerId, () => sendCampaign(event.detail, deps())) };
  }
  if (body['detail-type'] === 'CustomerRescored') {
    const event = RescoredEvent.parse(body);
    const request = requestFromRescore(event.detail);
    if (!request) return { customerId: event.detail.customerId, outcome: { outcome: 'not-a-campaign' } };
    return { customerId: request.customerId, outcome: await oneAtATimePerCustomer(request.customerId, () => handleRequest(request, deps())) };
  }
  if (!(requestEventTypes as readonly unknown[]).includes(body['detail-type'])) {
    // Nothing else is routed here: a message of another shape fails (and reaches the dead-letter queue).
    TriggerEvent.parse(body);
  }
  // A producer's business event: validated as ingest validates it. A bad one asks for nothing: ingest,
  // which gets the same event, puts it on the rejected-events queue with its reason (one owner of rejections).
  const valid = validateInbound(raw);
  if (!valid.ok) return { outcome: { outcome: 'no-request', reason: `invalid-event: ${valid.code}` } };
  const customerId = valid.event.detail.customerId;
  const outcome = await oneAtATimePerCustomer(customerId, async () => {
    const d = deps();
    const profile = await d.store.getProfile(customerId);
    const decision = decideEventRequest(valid.event, profile, d.now(), defaults.triggerFreshnessDays);
    if (decision.kind === 'wait') throw new ProfileNotReadyError(`event ${valid.event.detail.eventId}: ${decision.reason}; retried`);
    if (decision.kind === 'none') return { outcome: 'no-request' as const, reason: decision.reason };
    return handleRequest(decision.request, d, profile);
  });
  return { customerId, outcome };
}

async function recordHandler(record: SQSRecord): Promise<void> {
  const { outcome } = await decide(JSON.parse(record.body), record.body);
  // No personal data: ids, outcome and reason codes only.
  logger.info('campaign decision', { messageId: record.messageId, ...outcome });
  metrics.addMetric(`Campaign_${outcome.outcome}`, MetricUnit.Count, 1);
}

export const handler = middy(
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false }),
)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
