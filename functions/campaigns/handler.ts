/**
 * campaigns: bus rule (ChurnTriggerFired) → SQS → here. Each trigger becomes at
 * most one email, within consent, suppression, frequency caps and control groups.
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
import { defaultSendPolicy } from '../../shared/campaigns/guardrails.ts';
import { sendCampaign } from '../../shared/campaigns/send-campaign.ts';
import { ENV } from '../../shared/wiring.ts';
import { customerStore, eventPublisher, mailer, privacyStore, requireEnv, settings } from '../commons/clients.ts';
import { LoggingBatchProcessor } from '../commons/batch.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';
import { serializeByKey } from '../commons/serialize-by-key.ts';

// Logs and counts (FailedRecords) each record that fails; only those are retried.
const processor = new LoggingBatchProcessor(EventType.SQS);
const TriggerEvent = EventBridgeSchema.extend({ detail: emittedSchemas.ChurnTriggerFired });
const oneAtATimePerCustomer = serializeByKey();

async function recordHandler(record: SQSRecord): Promise<void> {
  const event = TriggerEvent.parse(JSON.parse(record.body));
  const outcome = await oneAtATimePerCustomer(event.detail.customerId, () => sendCampaign(event.detail, {
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
    },
  }));
  logger.info('campaign decision', { triggerId: event.detail.triggerId, ...outcome });
  metrics.addMetric(`Campaign_${outcome.outcome}`, MetricUnit.Count, 1);
}

export const handler = middy(
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false }),
)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
