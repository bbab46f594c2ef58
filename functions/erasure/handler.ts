/**
 * erasure: bus rule (CustomerErasureRequested) → SQS → here. Each record's body is one EventBridge
 * event; the customer is erased (shared/privacy/erasure.ts, docs/erasure.md). An invalid request
 * erases nothing and is logged with its reason (ingest, which gets the same event, puts it on the
 * rejected-events queue); a record that fails is reported as a batch item failure, retried (every
 * step of an erasure is idempotent) and then moved to the queue's dead-letter queue.
 * Logs carry the erasure id and counts, never the customer's id or address.
 */
import middy from '@middy/core';
import { EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { eraseOnRequest } from '../../shared/privacy/erasure.ts';
import { customerStore, erasureScope, privacyStore } from '../commons/clients.ts';
import { LoggingBatchProcessor } from '../commons/batch.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';

const processor = new LoggingBatchProcessor(EventType.SQS);

const recordHandler = async (record: SQSRecord): Promise<void> => {
  const result = await eraseOnRequest(record.body, { store: customerStore(), privacy: privacyStore(), now: () => new Date(), ...erasureScope() });
  if (result.outcome === 'invalid') {
    logger.warn('erasure request invalid; nothing erased', { messageId: record.messageId, code: result.code, reason: result.reason });
    metrics.addMetric('ErasureRequestsInvalid', MetricUnit.Count, 1);
    return;
  }
  const { erasureId, deleted, anonymised, emailSuppressed } = result.record;
  logger.info('customer erased', { messageId: record.messageId, erasureId, deleted, anonymised, emailSuppressed });
  metrics.addMetric('CustomersErased', MetricUnit.Count, 1);
};

export const handler = middy((event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false }),
)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
