/**
 * email-feedback: SES configuration set → the account's default bus → rule → SQS → here. Each
 * record's body is one SES event; it is recorded on the customer's record
 * (shared/email-feedback/record-feedback.ts). Invalid ones go to the rejected-events queue with
 * their reason; ones that could not be stored are batch item failures (retried, then the DLQ).
 * Logs never carry an address: only kinds, ids and reasons.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { recordFeedbackBatch } from '../../shared/email-feedback/record-feedback.ts';
import { customerStore, deliverabilityTally, rejectedEventSink, rejectionLedger } from '../commons/clients.ts';
import { loggableError } from '../commons/batch.ts';
import { FAILED_RECORDS_METRIC } from '../commons/metric-names.ts';
import { logger, metrics, tracer } from '../commons/powertools.ts';

export const handler = middy(async (event: SQSEvent, _context: Context): Promise<SQSBatchResponse> => {
  const results = await recordFeedbackBatch(
    event.Records.map((r) => r.body),
    { store: customerStore(), rejected: rejectedEventSink(), rejections: rejectionLedger(), now: () => new Date(), deliverability: deliverabilityTally() },
  );
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  results.forEach((result, i) => {
    const messageId = event.Records[i]!.messageId;
    switch (result.outcome) {
      case 'stored':
      case 'duplicate':
        metrics.addMetric(`Feedback_${result.kind}${result.outcome === 'duplicate' ? '_duplicate' : ''}`, MetricUnit.Count, 1);
        if (result.confirmed) metrics.addMetric('Feedback_confirmed_submitted', MetricUnit.Count, 1);
        break;
      case 'accepted':
        metrics.addMetric('Feedback_send', MetricUnit.Count, 1);
        if (result.confirmed) {
          // A send whose worker died between the SES call and the record: SES took it (docs/campaigns.md, "Exactly once").
          logger.info('submitted send confirmed by SES', { customerId: result.customerId, messageId });
          metrics.addMetric('Feedback_confirmed_submitted', MetricUnit.Count, 1);
        }
        break;
      case 'ignored':
        logger.info('SES event not recorded', { reason: result.reason, detailType: result.detailType, messageId });
        metrics.addMetric('FeedbackIgnored', MetricUnit.Count, 1);
        break;
      case 'rejected': {
        const { code, reason, detailType } = result.rejection;
        if (!result.repeated) logger.warn('SES event rejected', { code, reason, detailType, rejectionId: result.rejectionId, messageId });
        metrics.addMetric('FeedbackRejected', MetricUnit.Count, 1);
        break;
      }
      case 'failed':
        logger.error('SES event not recorded; it will be retried', { messageId, error: loggableError(result.error) });
        metrics.addMetric(FAILED_RECORDS_METRIC, MetricUnit.Count, 1);
        batchItemFailures.push({ itemIdentifier: messageId });
        break;
    }
  });
  return { batchItemFailures };
})
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
