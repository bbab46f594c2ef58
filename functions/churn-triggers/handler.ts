/**
 * churn-triggers: table stream (filtered to newly stored business events of the
 * types the rules read) → here. Fires single and collective churn triggers.
 * A record that fails is reported alone (by sequence number), so the rest of
 * the batch goes through; retries are bounded and bisected by the event source.
 */
import middy from '@middy/core';
import { EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { storedEventFromImage } from '../../shared/adapters/stream-image.ts';
import { fireTriggers } from '../../shared/triggers/fire-triggers.ts';
import { customerStore, eventPublisher, outreachDesk, settings, timerStore, winbackStore } from '../commons/clients.ts';
import { trackWinback, winbackEventTypes } from '../../shared/winback/track.ts';
import { LoggingBatchProcessor } from '../commons/batch.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';

// Logs and counts (FailedRecords) each record that fails; only those are retried.
const processor = new LoggingBatchProcessor(EventType.DynamoDBStreams);

async function recordHandler(record: DynamoDBRecord): Promise<void> {
  const image = record.dynamodb?.NewImage;
  if (!image) throw new Error(`stream record ${record.eventID} has no new image`);
  const event = storedEventFromImage(image);
  const fired = await fireTriggers(event, { store: customerStore(), publisher: eventPublisher(), timers: timerStore(), desk: outreachDesk(), now: () => new Date() });
  // The winback sequence: a leaving arms its steps, a withdrawal or a return stops them (shared/winback/track.ts).
  if ((winbackEventTypes as readonly string[]).includes(event.type)) {
    const profile = await customerStore().getProfile(event.detail.customerId);
    if (profile) await trackWinback(event, profile, { winback: winbackStore(), timers: timerStore(), now: () => new Date(), policy: settings.winbackPolicy() });
  }
  for (const t of fired) {
    logger.info('churn trigger fired', { rule: t.rule, kind: t.kind, action: t.action, triggerId: t.triggerId });
    metrics.addMetric('ChurnTriggersFired', MetricUnit.Count, 1);
  }
}

export const handler = middy(
  async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false }),
)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
