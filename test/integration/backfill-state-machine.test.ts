/**
 * The backfill's state machine as CDK synthesizes it, executed by an ASL interpreter
 * (aws-local-stepfunctions, through local/backfill-run.ts as `npm start` runs it) with its Lambda
 * tasks overridden by the real backfill handler, on DynamoDB Local and a captured bus: a CSV file
 * (the --import format) and a JSON Lines file, their summaries and BackfillCompleted; a batch
 * that keeps failing is retried, recorded with its lines and named in the summary while the
 * others go on; the rerun stores nothing twice and clears the failure; a history's stuck order
 * and stopped usage leave their pending timers (an overdue one none) and its consent changes
 * reach the ledger, once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { localBatches, runBackfillStateMachine } from '../../local/backfill-run.ts';
import { localDynamoDbClient } from '../../local/services.ts';
import { DynamoConsentLedger } from '../../shared/adapters/dynamodb-consent-ledger.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { DynamoTimerStore } from '../../shared/adapters/dynamodb-timer-store.ts';
import { QueryCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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

  it('a history with a stuck order, stopped usage and consent changes: pending timers (no overdue one), the ledger with source import; a rerun changes nothing', async () => {
    const base = Date.now();
    const ago = (days: number) => new Date(base - days * 86_400_000).toISOString();
    const events = [
      businessEvent('OrderPlaced', { customerId: 'T1', orderId: 't-o1', occurredAt: ago(6) }),
      businessEvent('OrderStatusChanged', { customerId: 'T1', orderId: 't-o1', status: 'preparing', occurredAt: ago(5) }),
      businessEvent('OrderPlaced', { customerId: 'T1', orderId: 't-o2', occurredAt: ago(13) }),
      businessEvent('OrderStatusChanged', { customerId: 'T1', orderId: 't-o2', status: 'preparing', occurredAt: ago(12) }),
      ...[80, 50, 20].map((d) => businessEvent('UsageRecorded', { customerId: 'T2', productId: 'p-9', occurredAt: ago(d) })),
      businessEvent('ConsentChanged', { customerId: 'T2', channel: 'email', purpose: 'marketing', granted: true, occurredAt: ago(90) }),
      businessEvent('ConsentChanged', { customerId: 'T2', channel: 'email', purpose: 'marketing', granted: false, source: 'unsubscribe-link', occurredAt: ago(10) }),
    ];
    const rows = events.map((e) => ({ source: e.source, 'detail-type': e.type, detail: e.detail }));
    const file = { key: 'upload-3/history.jsonl', format: 'jsonl' as const, rows };
    const first = await runBackfillStateMachine({ runId: 'run-t', file, region: 'eu-west-1', handler, retryWaitMs: 0 });
    expect(first).toMatchObject({ rowsRead: 9, eventsStored: 9, timersSet: 2, timersOverdue: 1, consentRecords: 2 });
    const client = localDynamoDbClient(aws.dynamodb.endpoint);
    const doc = DynamoDBDocumentClient.from(client);
    const partition = async (customerId: string, prefix: string) =>
      ((await doc.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': `CUST#${customerId}`, ':p': prefix }, ConsistentRead: true }))).Items ?? []);
    const timers = async () => [...(await partition('T1', 'TIMER#')), ...(await partition('T2', 'TIMER#'))].map((i) => [i.key, i.dueAt]);
    expect(await timers()).toEqual([
      ['order-stuck-preparing#t-o1', ago(5 - 10)],
      ['usage-stopped#p-9', ago(20 - 30)],
    ]);
    // Nothing is due: the next sweep fires nothing for this history.
    expect((await new DynamoTimerStore(client, { tableName }).due(new Date(), 100)).filter((t) => t.customerId.startsWith('T'))).toEqual([]);
    const ledger = await new DynamoConsentLedger(client, { tableName }).history('T2');
    expect(ledger.map((r) => [r.action, r.source, r.eventId])).toEqual([['granted', 'import', events[7]!.detail.eventId], ['withdrawn', 'import', events[8]!.detail.eventId]]);
    const completed = capture.putEvents().filter((e) => e.DetailType === 'BackfillCompleted').map((e) => JSON.parse(e.Detail));
    expect(completed).toContainEqual(expect.objectContaining({ runId: 'run-t', timersSet: 2, timersOverdue: 1, consentRecords: 2 }));
    // A rerun: every timer and consent item as it was.
    const before = [await partition('T1', 'TIMER#'), await partition('T2', 'TIMER#'), await partition('T2', 'CONSENT#')];
    expect(await runBackfillStateMachine({ runId: 'run-t2', file, region: 'eu-west-1', handler, retryWaitMs: 0 })).toMatchObject({ eventsStored: 0, duplicates: 9, timersSet: 0, consentRecords: 0 });
    expect([await partition('T1', 'TIMER#'), await partition('T2', 'TIMER#'), await partition('T2', 'CONSENT#')]).toEqual(before);
  }, 180_000);
});
