/**
 * ingest: bus rule → SQS → here. Each record's body is one EventBridge event.
 * Invalid events go to the rejected-events queue with their reason, once per
 * raw event however often it is redelivered (and count as processed); events that could not be stored are reported one by one as
 * batch item failures, so SQS retries only them and then moves them to the
 * queue's dead-letter queue. The batch is written grouped by customer.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ingestBatch } from '../../shared/ingest/ingest-event.ts';
import { consentLedger, customerStore, privacyStore, rejectedEventSink, rejectionLedger, settings } from '../commons/clients.ts';
import { loggableError } from '../commons/batch.ts';
import { INGEST_OUTCOME_METRICS } from '../commons/metric-names.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';

export const handler = middy(async (event: SQSEvent, _context: Context): Promise<SQSBatchResponse> => {
  const results = await ingestBatch(
    event.Records.map((r) => r.body),
    { store: customerStore(), rejected: rejectedEventSink(), rejections: rejectionLedger(), consent: consentLedger(), consentPolicy: settings.consentPolicy(), privacy: privacyStore(), now: () => new Date() },
    // A message received before (a batch that failed or timed out): some of its events may be stored already.
    event.Records.map((r) => Number(r.attributes?.ApproximateReceiveCount ?? 1) > 1),
  );
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const counts = { stored: 0, duplicate: 0, erased: 0, rejected: 0, rejectedBefore: 0, failed: 0 };
  results.forEach((result, i) => {
    const messageId = event.Records[i]!.messageId;
    counts[result.outcome === 'rejected' && result.repeated ? 'rejectedBefore' : result.outcome]++;
    if (result.outcome === 'rejected') {
      const { code, reason, detailType, source } = result.rejection;
      const { rejectionId, repeated } = result;
      if (repeated) logger.info('event rejected before; not sent to the rejected-events queue again', { code, rejectionId, messageId });
      else logger.warn('event rejected', { code, reason, detailType, source, rejectionId, messageId });
      if (result.ledgerError) logger.warn('rejection sent but not recorded; a redelivery may send it again', { rejectionId, messageId, error: loggableError(result.ledgerError) });
    } else if (result.outcome === 'failed') {
      logger.error('event not stored; it will be retried', { messageId, error: loggableError(result.error) });
      batchItemFailures.push({ itemIdentifier: messageId });
    }
  });
  for (const [outcome, n] of Object.entries(counts)) {
    if (n > 0) metrics.addMetric(INGEST_OUTCOME_METRICS[outcome as keyof typeof counts], MetricUnit.Count, n);
  }
  return { batchItemFailures };
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
