/**
 * ingest: bus rule → SQS → here. Each record's body is one EventBridge event.
 * Invalid events go to the rejected-events queue with their reason (and count
 * as processed); a record that fails for another reason is reported alone as a
 * batch item failure, so SQS retries it and then moves it to the queue's DLQ.
 */
import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ingestEvent } from '../../shared/ingest/ingest-event.ts';
import { customerStore, rejectedEventSink } from '../commons/clients.ts';
import { serializeByKey } from '../commons/serialize-by-key.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';

const processor = new BatchProcessor(EventType.SQS);
const oneAtATimePerCustomer = serializeByKey();

/** The customer an event is about, if it can be told without validating it (validation comes next). */
function customerKey(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { detail?: { customerId?: unknown } }).detail?.customerId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

async function recordHandler(record: SQSRecord): Promise<void> {
  const result = await oneAtATimePerCustomer(customerKey(record.body), () =>
    ingestEvent(record.body, { store: customerStore(), rejected: rejectedEventSink(), now: () => new Date() }),
  );
  if (result.outcome === 'rejected') {
    const { code, reason, detailType, source } = result.rejection;
    logger.warn('event rejected', { code, reason, detailType, source, messageId: record.messageId });
    metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
    return;
  }
  metrics.addMetric(result.outcome === 'stored' ? 'EventsStored' : 'DuplicateEvents', MetricUnit.Count, 1);
  logger.debug('event ingested', { outcome: result.outcome, type: result.type, eventId: result.eventId });
}

export const handler = middy(
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false }),
)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
