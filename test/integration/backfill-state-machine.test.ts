/**
 * The backfill's state machine as CDK synthesizes it, executed by an ASL interpreter
 * (aws-local-stepfunctions, through local/backfill-run.ts as `npm start` runs it) with its Lambda
 * tasks overridden by the real backfill handler, on DynamoDB Local and a captured bus: a CSV file
 * (the --import format) and a JSON Lines file, their summaries and BackfillCompleted; a batch
 * that keeps failing is retried, recorded with its lines and named in the summary while the
 * others go on; the rerun stores nothing twice and clears the failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { localBatches, runBackfillStateMachine } from '../../local/backfill-run.ts';
import { localDynamoDbClient } from '../../local/services.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { ENV } from '../../shared/wiring.ts';
import { businessEvent } from '../support/events.ts';
import { freshTable, startCaptureServer, startLocalAws, useLocalEndpoints, useLocalPrivacySalt, type LocalAws } from '../support/local-aws.ts';

let aws: LocalAws;
/** The erasure salt secret ingest, campaigns and the backfill read (docs/erasure.md). */
let salt: Awaited<ReturnType<typeof useLocalPrivacySalt>> | undefined;
let capture: Awaited<ReturnType<typeof startCaptureServer>>;
let handler: (e: unknown, c: Context) => Promise<unknown>;
let tableName: string;

beforeAll(async () => {
  [aws, capture] = await Promise.all([startLocalAws({ ses: false }), startCaptureServer()]);
  ({ tableName } = await freshTable(aws.dynamodb.endpoint));
  useLocalEndpoints({ dynamodb: aws.dynamodb.endpoint, eventbridge: capture.endpoint });
  Object.assign(process.env, { [ENV.tableName]: tableName, [ENV.busName]: 'clm-test-bus' });
  salt = await useLocalPrivacySalt();
  handler = (await import('../../functions/backfill/handler.ts')).handler as never;
}, 120_000);
afterAll(async () => {
  await salt?.close();
  await Promise.all([aws?.stop(), capture?.stop()]);
});

const orders = Array.from({ length: 1200 }, (_, i) => ({
  customer_id: `K${i % 300}`,
  order_id: `O-${i}`,
  amount: i === 7 ? 'twelve' : String(10 + (i % 13)),
  currency: 'EUR',
  placed_at: new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString(),
  status: i % 5 === 0 ? 'delivered' : '',
  status_at: '',
}));

describe('the synthesized backfill state machine (aws-local-stepfunctions, DynamoDB Local)', () => {
  it('batches the rows as the Map would: each with its index, 500 a batch, with the run, file and format', () => {
    const map = { ItemSelector: { 'index.$': '$$.Map.Item.Index', 'row.$': '$$.Map.Item.Value' }, ItemBatcher: { MaxItemsPerBatch: 500, BatchInput: { 'runId.$': '$.runId', 'file.$': '$.key', format: 'csv' } } };
    const batches = localBatches(map, { runId: 'r', key: 'up/orders.csv' }, orders);
    expect(batches.map((b) => (b.Items as unknown[]).length)).toEqual([500, 500, 200]);
    expect(batches[1]).toMatchObject({ BatchInput: { runId: 'r', file: 'up/orders.csv', format: 'csv' } });
    expect((batches[1]!.Items as unknown[])[0]).toEqual({ index: 500, row: orders[500] });
  });

  it('backfills a CSV file: rows read, rejected with their line, events stored, customers written; BackfillCompleted on the bus', async () => {
    const summary = await runBackfillStateMachine({ runId: 'run-csv', file: { key: 'upload-1/orders.csv', format: 'csv', rows: orders }, region: 'eu-west-1', handler, retryWaitMs: 0 });
    expect(summary).toMatchObject({ runId: 'run-csv', file: 'upload-1/orders.csv', batches: 3, failedBatches: 0, rowsRead: 1200, rowsRejected: 1, eventsStored: 1199 + 240, duplicates: 0, customersWritten: 300 + 300 + 200 });
    expect(summary.rejected).toEqual([{ file: 'upload-1/orders.csv', line: 9, reason: 'amount (value) is not a number' }]);
    const store = new DynamoCustomerStore(localDynamoDbClient(aws.dynamodb.endpoint), { tableName, profiles: { empty: emptyProfile, apply: applyEvent } });
    expect(await store.getProfile('K7')).toMatchObject({ orderCount: 3, eventCount: 3 });
    const completed = capture.putEvents().filter((e) => e.DetailType === 'BackfillCompleted').map((e) => JSON.parse(e.Detail));
    expect(completed).toEqual([expect.objectContaining({ runId: 'run-csv', file: 'upload-1/orders.csv', rowsRead: 1200, rowsRejected: 1, eventsStored: 1439, customersWritten: 800, failedBatches: 0 })]);
  }, 180_000);

  it('a batch that keeps failing is retried, recorded and named; the others finish; the rerun stores it once and nothing else twice', async () => {
    const events = Array.from({ length: 40 }, (_, i) => businessEvent('OrderPlaced', { customerId: `J${i % 4}`, orderId: `jo-${i}`, amount: 1, occurredAt: '2025-05-01T10:00:00Z' }));
    const rows = events.map((e) => ({ source: e.source, 'detail-type': e.type, detail: e.detail }));
    // 40 rows in batches of 500 is one batch: make the handler fail batches holding row 0 until told otherwise.
    let failing = true;
    let attempts = 0;
    const flaky = async (e: unknown, c: Context) => {
      const items = (e as { Items?: { index: number }[]; step?: string }).Items;
      if (failing && items && !(e as { step?: string }).step && items.some((i) => i.index === 0)) {
        attempts++;
        throw new Error('DynamoDB is down');
      }
      return handler(e, c);
    };
    const file = { key: 'upload-2/history.jsonl', format: 'jsonl' as const, rows };
    const first = await runBackfillStateMachine({ runId: 'run-j', file, region: 'eu-west-1', handler: flaky, retryWaitMs: 0 });
    expect(attempts).toBe(4);
    expect(first).toMatchObject({ batches: 0, failedBatches: 1, rowsRead: 0, eventsStored: 0, failed: [{ file: 'upload-2/history.jsonl', firstLine: 1, lastLine: 40, error: expect.stringContaining('DynamoDB is down') }] });
    failing = false;
    const rerun = await runBackfillStateMachine({ runId: 'run-j', file, region: 'eu-west-1', handler: flaky, retryWaitMs: 0 });
    expect(rerun).toMatchObject({ batches: 1, failedBatches: 0, failed: [], rowsRead: 40, eventsStored: 40, customersWritten: 4 });
    const again = await runBackfillStateMachine({ runId: 'run-j2', file, region: 'eu-west-1', handler, retryWaitMs: 0 });
    expect(again).toMatchObject({ rowsRead: 40, eventsStored: 0, duplicates: 40, customersWritten: 0 });
  }, 180_000);
});
