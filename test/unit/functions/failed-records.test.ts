/**
 * Failed records are seen: the batch handlers log each record they report as a
 * batch item failure (its id and error, no personal data) and count it in the
 * FailedRecords metric the stack alarms on. Records here fail before any AWS
 * call (unparsable body, schema violation, missing stream image).
 */
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBBatchResponse, SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import { LoggingBatchProcessor, loggableError } from '../../../functions/commons/batch.ts';
import { ProfileNotReadyError } from '../../../functions/campaigns/handler.ts';
import { SendInProgressError } from '../../../shared/campaigns/send-campaign.ts';
import { logger, metrics } from '../../../functions/commons/powertools.ts';
import { FAILED_RECORDS_METRIC, RETRIED_LATER_METRIC } from '../../../functions/commons/metric-names.ts';
import { ENV } from '../../../shared/wiring.ts';
import { detail, envelope } from '../../support/events.ts';
import { capturePowertoolsOutput, metricSum } from '../../support/powertools-output.ts';

// The metrics are what is tested here: enable them (vitest.config.ts disables them) before powertools.ts is loaded.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

const context = { functionName: 'test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
type Handler<R> = (event: unknown, context: Context) => Promise<R>;
let ingest: Handler<SQSBatchResponse>;
let campaigns: Handler<SQSBatchResponse>;
let triggers: Handler<DynamoDBBatchResponse>;

const output = capturePowertoolsOutput();

beforeAll(async () => {
  ingest = (await import('../../../functions/ingest/handler.ts')).handler as never;
  campaigns = (await import('../../../functions/campaigns/handler.ts')).handler as never;
  triggers = (await import('../../../functions/churn-triggers/handler.ts')).handler as never;
});

const failureLogs = () => output.lines().filter((l) => l.message === 'record failed; reported for retry');
const failedRecordsMetric = () => metricSum(output.lines(), FAILED_RECORDS_METRIC);

const sqsRecord = (messageId: string, body: string) => ({
  messageId,
  receiptHandle: 'rh',
  body,
  attributes: {},
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:q',
  awsRegion: 'eu-west-1',
});

describe('campaigns', () => {
  it('logs each failed record with its message id and error, without the personal data in it, and counts it', async () => {
    const unparsable = 'Eve Smith <eve.smith@example.com>';
    const invalid = JSON.stringify({ detail: { customerId: 'c-1', email: 'eve.smith@example.com', firstName: 'Eve' } });
    const out = await campaigns({ Records: [sqsRecord('m-1', unparsable), sqsRecord('m-2', invalid)] }, context);

    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }]);
    const logs = failureLogs();
    expect(logs.map((l) => [l.level, l.messageId, l.error.name])).toEqual([
      ['ERROR', 'm-1', 'SyntaxError'],
      ['ERROR', 'm-2', 'ZodError'],
    ]);
    for (const l of logs) expect(l.error.message.length).toBeGreaterThan(0);
    const text = JSON.stringify(output.lines());
    expect(text).not.toContain('eve.smith@example.com');
    expect(text).not.toContain('Eve');
    expect(failedRecordsMetric()).toBe(2);
  });

  it('emits no FailedRecords when nothing fails', async () => {
    const out = await campaigns({ Records: [] }, context);
    expect(out.batchItemFailures).toEqual([]);
    expect(failureLogs()).toEqual([]);
    expect(failedRecordsMetric()).toBe(0);
  });
});

describe('churn-triggers', () => {
  it('logs a failed stream record with its event id and sequence number, and counts it', async () => {
    const record = { eventID: 'ev-9', eventName: 'INSERT', eventSource: 'aws:dynamodb', dynamodb: { SequenceNumber: '4200', Keys: {} } };
    const out = await triggers({ Records: [record] }, context);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: '4200' }]);
    expect(failureLogs()).toEqual([
      expect.objectContaining({ level: 'ERROR', eventId: 'ev-9', sequenceNumber: '4200', error: { name: 'Error', message: 'stream record ev-9 has no new image' } }),
    ]);
    expect(failedRecordsMetric()).toBe(1);
  });
});

describe('ingest', () => {
  // An error path DynamoDB Local cannot produce on demand: every table call fails.
  const dynamodb = mockClient(DynamoDBDocumentClient);
  // The erasure salt (read before the tombstones): Secrets Manager answers; the table does not.
  const secrets = mockClient(SecretsManagerClient);
  beforeAll(() => {
    Object.assign(process.env, { AWS_REGION: 'eu-west-1', [ENV.tableName]: 't', [ENV.rejectedQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/000000000000/rejected', [ENV.privacySaltSecret]: 'salt' });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'f'.repeat(64) });
  });
  afterAll(() => secrets.restore());
  afterEach(() => dynamodb.reset());

  it('logs an event it could not store with its message id and error, without the personal data in it, and counts it', async () => {
    dynamodb.onAnyCommand().rejects(Object.assign(new Error('Item for "ada@example.com" is invalid'), { name: 'ValidationException', $metadata: {} }));
    const body = JSON.stringify(envelope('CustomerProfileUpdated', detail('CustomerProfileUpdated', { customerId: 'c-7' }), 'com.example.crm'));
    const out = await ingest({ Records: [sqsRecord('m-7', body)] }, context);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-7' }]);
    expect(output.lines().filter((l) => l.message === 'event not stored; it will be retried')).toEqual([
      expect.objectContaining({ level: 'ERROR', messageId: 'm-7', error: { name: 'ValidationException', message: 'Item for "…" is invalid' } }),
    ]);
    expect(JSON.stringify(output.lines())).not.toContain('ada@example.com');
    expect(failedRecordsMetric()).toBe(1);
  });

  it('reads which events of a redelivered message (ApproximateReceiveCount above 1) are stored before writing them; not those of a first delivery', async () => {
    dynamodb.onAnyCommand().rejects(Object.assign(new Error('down'), { name: 'InternalServerError', $metadata: {} }));
    // Reads find nothing (no tombstone, no stored event); writes fail, so the records are retried.
    dynamodb.on(BatchGetCommand).resolves({ Responses: { t: [] } });
    const first = envelope('CustomerProfileUpdated', detail('CustomerProfileUpdated', { customerId: 'c-1', eventId: 'ev-first' }), 'com.example.crm');
    const again = envelope('CustomerProfileUpdated', detail('CustomerProfileUpdated', { customerId: 'c-2', eventId: 'ev-again' }), 'com.example.crm');
    const redelivered = { ...sqsRecord('m-2', JSON.stringify(again)), attributes: { ApproximateReceiveCount: '3' } };
    await ingest({ Records: [sqsRecord('m-1', JSON.stringify(first)), redelivered] }, context);
    const reads = dynamodb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems!['t']!).filter((r) => String(r.Keys![0]!.pk).startsWith('CUST#'));
    expect(reads).toEqual([expect.objectContaining({ ConsistentRead: true, Keys: [{ pk: 'CUST#c-2', sk: 'EVT#ev-again' }] })]);
  });
});

describe('LoggingBatchProcessor', () => {
  it('reports a record that is not ready yet (RetryLaterError: the profile lags, another worker holds the send) for retry like a failure, but logs it at info and counts it as RecordsRetriedLater, not FailedRecords', async () => {
    const processor = new LoggingBatchProcessor(EventType.SQS);
    const level = logger.getLevelName();
    logger.setLogLevel('INFO');
    onTestFinished(() => logger.setLogLevel(level));
    const records = [sqsRecord('m-1', 'not ready'), sqsRecord('m-2', 'broken'), sqsRecord('m-3', 'fine'), sqsRecord('m-4', 'busy')];
    const out = await processPartialResponse({ Records: records }, async (r: SQSRecord) => {
      if (r.body === 'not ready') throw new ProfileNotReadyError('event ev-1: the purchase is not in the profile yet; retried');
      if (r.body === 'broken') throw new Error('boom');
      if (r.body === 'busy') throw new SendInProgressError('send statement#ev-1 is being handled by another worker; retry later');
      return 'done';
    }, processor, { context });
    metrics.publishStoredMetrics();
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }, { itemIdentifier: 'm-4' }]);
    expect(output.lines().filter((l) => /reported for retry/.test(l.message)).map((l) => [l.level, l.message, l.messageId, l.error.name])).toEqual([
      ['INFO', 'record not ready; reported for retry', 'm-1', 'ProfileNotReadyError'],
      ['ERROR', 'record failed; reported for retry', 'm-2', 'Error'],
      ['INFO', 'record not ready; reported for retry', 'm-4', 'SendInProgressError'],
    ]);
    expect(failedRecordsMetric()).toBe(1);
    expect(metricSum(output.lines(), RETRIED_LATER_METRIC)).toBe(2);
  });
});

describe('loggableError', () => {
  it('replaces e-mail addresses and quoted text, and keeps the rest', () => {
    const ses = Object.assign(new Error('Email address is not verified. The following identities failed the check in region EU-WEST-1: eve.smith@example.com, bob@shop.example'), { name: 'MessageRejected' });
    expect(loggableError(ses)).toEqual({
      name: 'MessageRejected',
      message: 'Email address is not verified. The following identities failed the check in region EU-WEST-1: <email>, <email>',
    });
    expect(loggableError(new SyntaxError('Unexpected token \'E\', "Eve Smith "... is not valid JSON')).message).toBe('Unexpected token \'E\', "…"... is not valid JSON');
  });

  it('cuts long messages and accepts non-errors', () => {
    expect(loggableError(new Error('x'.repeat(1000))).message).toHaveLength(301);
    expect(loggableError('plain')).toEqual({ name: 'string', message: 'plain' });
  });
});
