/**
 * Powertools' BatchProcessor, extended to make each failed record seen: the
 * processor reports it as a batch item failure (so only it is retried) but
 * keeps the error to itself, and the invocation succeeds, so no Errors metric
 * counts it. Here each failure is logged (the record's id and the error, no
 * personal data) and counted in the `FailedRecords` metric, which is alarmed.
 * A record that is only not ready yet (a `RetryLaterError`, shared/retry-later.ts:
 * an expected race, such as an event that ingest has not stored yet) is retried the same way but
 * logged at info and counted in `RecordsRetriedLater` instead: it is no fault.
 */
import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { FAILED_RECORDS_METRIC, RETRIED_LATER_METRIC } from './metric-names.ts';
import { RetryLaterError } from '../../shared/retry-later.ts';
import { logger, metrics } from './powertools.ts';

const EMAIL = /[^\s"'<>(),;:@]+@[^\s"'<>(),;:@]+\.[^\s"'<>(),;:@]+/g;
const QUOTED = /"(?:[^"\\]|\\.)*"/g;
const MAX_MESSAGE = 300;

/**
 * The error as it may be logged: its name and its message with e-mail
 * addresses and double-quoted text replaced and the rest cut at 300
 * characters. Messages can quote what they failed on: SES names the recipient
 * ("identities failed the check: someone@example.com"), JSON.parse quotes the
 * start of the text it could not parse, which may hold a name.
 */
export function loggableError(error: unknown): { name: string; message: string } {
  const name = error instanceof Error ? error.name : typeof error;
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw.replace(EMAIL, '<email>').replace(QUOTED, '"…"');
  return { name, message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message };
}

/** Identifies a record without its content: SQS message id, or stream event id and sequence number. */
function recordId(record: unknown): Record<string, string | undefined> {
  const r = record as Partial<SQSRecord> & Partial<DynamoDBRecord>;
  if (r.messageId !== undefined) return { messageId: r.messageId };
  return { eventId: r.eventID, sequenceNumber: r.dynamodb?.SequenceNumber };
}

/** A BatchProcessor that logs and counts every record that fails (and, apart, those retried later). */
export class LoggingBatchProcessor extends BatchProcessor {
  constructor(eventType: typeof EventType.SQS | typeof EventType.DynamoDBStreams) {
    super(eventType);
  }

  override failureHandler(...[record, error]: Parameters<BatchProcessor['failureHandler']>): ReturnType<BatchProcessor['failureHandler']> {
    if (error instanceof RetryLaterError) {
      logger.info('record not ready; reported for retry', { ...recordId(record), error: loggableError(error) });
      metrics.addMetric(RETRIED_LATER_METRIC, MetricUnit.Count, 1);
      return super.failureHandler(record, error);
    }
    logger.error('record failed; reported for retry', { ...recordId(record), error: loggableError(error) });
    metrics.addMetric(FAILED_RECORDS_METRIC, MetricUnit.Count, 1);
    return super.failureHandler(record, error);
  }
}
