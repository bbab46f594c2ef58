/**
 * The churn-triggers function on its real store paths (DynamoDB Local with its Streams API; the
 * bus and the rejected-events queue are a capture server): the ingest function stores the events,
 * the table's stream records (read back from DynamoDB Local, filtered as the subscription
 * filters them) go to the churn-triggers handler —
 *  - out of order (events arriving late, and a batch's records in another order) fire the same
 *    triggers and leave the same timers as in order;
 *  - redelivered (the same batch again, a record twice in a batch, a record whose publish
 *    failed) fire each trigger once and publish it once (a batch's records are handled
 *    concurrently, so two copies of an unpublished trigger's record in one batch could both
 *    publish it: at least once, as documented; campaigns' send ledger takes the second);
 *  - a poison record fails alone, the rest of its batch goes through;
 *  - the trigger record carries the customer's CLV, tier and churn risk from the nightly score,
 *    and the nightly run reads that boost back and lets it decay by the documented formula.
 */
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesAny } from '../../local/event-pattern.ts';
import { localDynamoDbClient } from '../../local/services.ts';
import { toLambdaRecord, type LambdaStreamRecord } from '../../local/stream-poller.ts';
import { DynamoScoringStore } from '../../shared/adapters/dynamodb-scoring-store.ts';
import { emptyProfile } from '../../shared/customers/profile.ts';
import { churnRiskWithTriggers } from '../../shared/scoring/risk.ts';
import { scoringDecay } from '../../shared/triggers/routing.ts';
import { ENV, subscriptions, type StreamSubscription } from '../../shared/wiring.ts';
import { detail, envelope, sqsEvent } from '../support/events.ts';
import { freshTable, sdkConfig, startCaptureServer, startLocalAws, useLocalEndpoints, useLocalPrivacySalt, type LocalAws } from '../support/local-aws.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
let aws: LocalAws;
let capture: Awaited<ReturnType<typeof startCaptureServer>>;
// ingest reads the erasure tombstones' salt from its secret (docs/erasure.md)
let salt: Awaited<ReturnType<typeof useLocalPrivacySalt>> | undefined;
let table: { tableName: string; streamArn: string };
let streams: DynamoDBStreamsClient;
let doc: DynamoDBDocumentClient;
let ingest: (e: unknown, c: Context) => Promise<SQSBatchResponse>;
let triggers: (e: unknown, c: Context) => Promise<DynamoDBBatchResponse>;
const context = { functionName: 'test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

beforeAll(async () => {
  [aws, capture] = await Promise.all([startLocalAws({ ses: false }), startCaptureServer()]);
  table = await freshTable(aws.dynamodb.endpoint);
  useLocalEndpoints({ dynamodb: aws.dynamodb.endpoint, eventbridge: capture.endpoint, sqs: capture.endpoint });
  Object.assign(process.env, {
    [ENV.tableName]: table.tableName,
    [ENV.busName]: 'clm-test-bus',
    [ENV.rejectedQueueUrl]: `${capture.endpoint}/000000000000/rejected-events`,
  });
  salt = await useLocalPrivacySalt();
  streams = new DynamoDBStreamsClient(sdkConfig(aws.dynamodb.endpoint));
  doc = DynamoDBDocumentClient.from(localDynamoDbClient(aws.dynamodb.endpoint));
  ingest = (await import('../../functions/ingest/handler.ts')).handler as never;
  triggers = (await import('../../functions/churn-triggers/handler.ts')).handler as never;
});
afterAll(async () => {
  streams?.destroy();
  doc?.destroy();
  await Promise.all([aws?.stop(), capture?.stop(), salt?.close()]);
});

const subscription = subscriptions.find((s): s is StreamSubscription => s.kind === 'stream' && s.function === 'churn-triggers')!;
const pkOf = (r: LambdaStreamRecord) => (r.dynamodb.Keys as { pk: { S: string } }).pk.S;

/** The customer's records on the table's stream that the subscription's filter passes, in stream order. */
async function streamRecordsOf(customerId: string): Promise<LambdaStreamRecord[]> {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: table.streamArn }));
  const out: LambdaStreamRecord[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: table.streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
    while (ShardIterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator }));
      out.push(...(page.Records ?? []).map((r) => toLambdaRecord(r, table.streamArn, 'eu-west-1')));
      if (!page.Records?.length) break;
      ShardIterator = page.NextShardIterator;
    }
  }
  return out.filter((r) => pkOf(r) === `CUST#${customerId}` && matchesAny(subscription.filters, r));
}

type Ev = { type: string; fields: Record<string, unknown> };
/** The events' times are relative to when the file started (each test's events within the freshness window). */
const NOW = Date.now();
const ago = (ms: number) => new Date(NOW - ms).toISOString();
async function store(customerId: string, events: Ev[]): Promise<void> {
  const bodies = events.map((e) => JSON.stringify(envelope(e.type, detail(e.type as never, { customerId, ...e.fields, eventId: `${customerId}-${e.fields.eventId}` }))));
  expect((await ingest(sqsEvent(bodies), context)).batchItemFailures).toEqual([]);
}
const handle = async (records: LambdaStreamRecord[]) => (await triggers({ Records: records } as DynamoDBStreamEvent, context)).batchItemFailures ?? [];

const detailOf = (e: { Detail: string }) => JSON.parse(e.Detail) as Record<string, any>;
const published = (type: string, customerId: string) => capture.putEvents().filter((e) => e.DetailType === type && detailOf(e).customerId === customerId).map(detailOf);
const firedIds = (customerId: string) => published('ChurnTriggerFired', customerId).map((t) => String(t.triggerId).replace(`#${customerId}#`, '#C#').replace(`${customerId}-`, 'C-'));
async function itemsOf(customerId: string, prefix: string): Promise<Record<string, any>[]> {
  const { Items } = await doc.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': `CUST#${customerId}`, ':p': prefix }, ConsistentRead: true }));
  return Items ?? [];
}
const pendingTimers = async (customerId: string) =>
  (await itemsOf(customerId, 'TIMER#')).filter((t) => t.firedAt === undefined && t.gaveUpAt === undefined).map((t) => ({ key: String(t.key).replace(`${customerId}-`, 'C-'), dueAt: t.dueAt }));

/** A customer's recent history: complaints of three kinds, two failed payments, a downgrade, an order prepared then shipped, another still preparing. */
const history = (): Ev[] => [
  { type: 'SupportCallLogged', fields: { eventId: 'call-net', occurredAt: ago(9 * HOUR), callId: 'k1', reason: 'network' } },
  { type: 'SupportCallLogged', fields: { eventId: 'call-tech', occurredAt: ago(8 * HOUR), callId: 'k2', reason: 'technical' } },
  { type: 'SupportCallLogged', fields: { eventId: 'call-bill', occurredAt: ago(7 * HOUR), callId: 'k3', reason: 'billing' } },
  { type: 'PaymentFailed', fields: { eventId: 'pay-1', occurredAt: ago(6 * HOUR), paymentId: 'p1' } },
  { type: 'PaymentFailed', fields: { eventId: 'pay-2', occurredAt: ago(5 * HOUR), paymentId: 'p2' } },
  { type: 'SubscriptionChanged', fields: { eventId: 'down', occurredAt: ago(5 * HOUR), subscriptionId: 's1', productId: 'fibre', plan: 'basic', monthlyPrice: 20, currency: 'EUR', change: 'downgrade' } },
  { type: 'OrderPlaced', fields: { eventId: 'o1', occurredAt: ago(4 * HOUR), orderId: 'ord-1', amount: 50, currency: 'EUR' } },
  { type: 'OrderStatusChanged', fields: { eventId: 'o1-prep', occurredAt: ago(3 * HOUR), orderId: 'ord-1', status: 'preparing' } },
  { type: 'OrderStatusChanged', fields: { eventId: 'o1-ship', occurredAt: ago(2 * HOUR), orderId: 'ord-1', status: 'shipped' } },
  { type: 'OrderPlaced', fields: { eventId: 'o2', occurredAt: ago(2 * HOUR), orderId: 'ord-2', amount: 30, currency: 'EUR' } },
  { type: 'OrderStatusChanged', fields: { eventId: 'o2-prep', occurredAt: ago(HOUR), orderId: 'ord-2', status: 'preparing' } },
];

describe('churn-triggers on DynamoDB Local', () => {
  it('out of order — events arriving in reverse and their records handled in reverse — fires the same triggers and leaves the same timers as in order', async () => {
    // In order: each event stored and its record handled before the next arrives.
    for (const e of history()) {
      await store('in-order', [e]);
      const records = await streamRecordsOf('in-order');
      expect(await handle(records.slice(-1))).toEqual([]);
    }
    // Reversed: the events arrive newest first, and the stream batch is handled from its end.
    await store('reversed', history().reverse());
    expect(await handle((await streamRecordsOf('reversed')).reverse())).toEqual([]);

    const expected = ['billing-complaint#C#C-call-bill', 'downgrade#C#C-down', `repeated-complaints#C#${ago(7 * HOUR).slice(0, 7)}`, `repeated-payment-failures#C#${ago(5 * HOUR).slice(0, 7)}`];
    expect(firedIds('in-order').sort()).toEqual(expected.sort());
    expect(firedIds('reversed').sort()).toEqual(expected.sort());
    // The shipped order's timer is cancelled (in order) or never set (its shipment came first); the one still preparing has one.
    const timers = await pendingTimers('in-order');
    expect(timers).toEqual([{ key: 'order-stuck-preparing#ord-2', dueAt: new Date(Date.parse(ago(HOUR)) + 10 * DAY).toISOString() }]);
    expect(await pendingTimers('reversed')).toEqual(timers);
  });

  it('redelivered — the batch again, a record twice in one batch — publishes each trigger once and arms no timer again', async () => {
    await store('again', history());
    const records = await streamRecordsOf('again');
    expect(await handle(records)).toEqual([]);
    const first = published('ChurnTriggerFired', 'again');
    expect(first).toHaveLength(4);
    const timers = await itemsOf('again', 'TIMER#');
    expect(await handle(records)).toEqual([]);
    expect(await handle([...records, ...records.slice(0, 3)])).toEqual([]);
    expect(published('ChurnTriggerFired', 'again')).toEqual(first);
    expect(await itemsOf('again', 'TIMER#')).toEqual(timers);
    expect((await itemsOf('again', 'TRIGGER#')).map((t) => t.publishedAt).every(Boolean)).toBe(true);
  });

  it('a record whose publish failed fails alone and, redelivered, publishes its trigger once with its first firing time', async () => {
    await store('flaky', [{ type: 'SupportCallLogged', fields: { eventId: 'bill', occurredAt: ago(HOUR), callId: 'k', reason: 'billing' } }]);
    const [record] = await streamRecordsOf('flaky');
    capture.failNext(10); // more than the SDK's own retries
    expect(await handle([record!])).toEqual([{ itemIdentifier: record!.dynamodb.SequenceNumber }]);
    capture.failNext(0);
    expect(published('ChurnTriggerFired', 'flaky')).toEqual([]);
    const [stored] = await itemsOf('flaky', 'TRIGGER#');
    expect(stored).toMatchObject({ rule: 'billing-complaint' });
    expect(stored!.publishedAt).toBeUndefined();
    expect(await handle([record!])).toEqual([]);
    expect(await handle([record!])).toEqual([]);
    expect(published('ChurnTriggerFired', 'flaky')).toEqual([expect.objectContaining({ rule: 'billing-complaint', firedAt: stored!.firedAt })]);
  });

  it('a poison record (an image that is not a business event, an event of no known customer) fails alone; the rest of its batch fires and arms its timers', async () => {
    await store('poisoned', history());
    const good = await streamRecordsOf('poisoned');
    const broken = structuredClone(good[0]!);
    broken.dynamodb.SequenceNumber = '900000000001';
    delete (broken.dynamodb.NewImage as Record<string, unknown>).detail;
    const stranger = structuredClone(good[2]!);
    stranger.dynamodb.SequenceNumber = '900000000002';
    const image = stranger.dynamodb.NewImage as { pk: { S: string }; detail: { M: Record<string, { S: string }> } };
    image.detail.M.customerId = { S: 'nobody-at-all' };
    image.pk = { S: 'CUST#nobody-at-all' };
    const failures = await handle([...good.slice(0, 4), broken, ...good.slice(4, 8), stranger, ...good.slice(8)]);
    expect(failures).toEqual([{ itemIdentifier: '900000000001' }, { itemIdentifier: '900000000002' }]);
    expect(firedIds('poisoned')).toHaveLength(4);
    expect(published('ChurnTriggerFired', 'nobody-at-all')).toEqual([]);
    expect((await pendingTimers('poisoned')).map((t) => t.key)).toEqual(['order-stuck-preparing#ord-2']);
  });

  it("the trigger record carries the customer's CLV, tier and churn risk; the nightly run reads its boost back, decaying by half every 14 days and gone after 90", async () => {
    const scoring = new DynamoScoringStore(localDynamoDbClient(aws.dynamodb.endpoint), { tableName: table.tableName, profiles: { empty: emptyProfile } });
    const score = (customerId: string, valueTier: 'high' | 'low', clv: number) => ({
      customerId, kind: 'adhoc' as const, modelId: 'm', scoredOn: new Date().toISOString().slice(0, 10), clv, pAlive: 0.6, modelChurnRisk: 0.25, churnRisk: 0.25,
      riskBand: 'low' as const, valueTier, nextBestAction: 'none' as const, nextBestActionRule: 'r', activeTriggerRules: [],
    });
    await scoring.writeScores([score('valued', 'high', 4200), score('ordinary', 'low', 80)]);
    const complaint = (c: string) => store(c, [{ type: 'SupportCallLogged', fields: { eventId: 'bill', occurredAt: ago(HOUR), callId: 'k', reason: 'billing' } }]);
    await complaint('valued');
    await complaint('ordinary');
    await complaint('unscored');
    for (const c of ['valued', 'ordinary', 'unscored']) expect(await handle(await streamRecordsOf(c))).toEqual([]);

    // The nightly risk 0.25 raised by the billing complaint's weight 0.2 at once: 1 − 0.75 · 0.8 = 0.4.
    const record = async (c: string) => (await doc.send(new GetCommand({ TableName: table.tableName, Key: { pk: `CUST#${c}`, sk: `TRIGGER#billing-complaint#${c}#${c}-bill` } }))).Item!;
    const valued = await record('valued');
    expect(valued).toMatchObject({ rule: 'billing-complaint', clv: 4200, valueTier: 'high', route: 'outreach', churnRiskBoost: 0.2 });
    expect(valued.churnRisk).toBeCloseTo(0.4, 12);
    expect(await record('ordinary')).toMatchObject({ clv: 80, valueTier: 'low', route: 'email', churnRisk: expect.closeTo(0.4, 12) });
    expect(await record('unscored')).toMatchObject({ route: 'email' });
    expect((await record('unscored')).clv).toBeUndefined();
    // What was published says the same; the high-tier customer's task for people too.
    expect(published('ChurnTriggerFired', 'valued')).toEqual([expect.objectContaining({ clv: 4200, valueTier: 'high', route: 'outreach', churnRisk: valued.churnRisk })]);
    expect(published('OutreachTaskCreated', 'valued')).toEqual([expect.objectContaining({ triggerId: valued.triggerId, clv: 4200, valueTier: 'high', churnRisk: valued.churnRisk })]);

    // The next nights: the stored boost, decayed — 0.2 at once, 0.1 after 14 days, 0.05 after 28, nothing after 90.
    const firedAt = Date.parse(String(valued.firedAt));
    const { customers } = await scoring.readCustomers(['valued'], new Date(firedAt - DAY));
    const read = customers[0]!.triggers;
    expect(read).toEqual([{ rule: 'billing-complaint', action: 'retention-save', churnRiskBoost: 0.2, firedAt: valued.firedAt }]);
    const riskAfter = (days: number) => churnRiskWithTriggers(0.25, read, new Date(firedAt + days * DAY), scoringDecay);
    expect(riskAfter(0)).toBeCloseTo(valued.churnRisk, 12);
    expect(riskAfter(14)).toBeCloseTo(1 - 0.75 * 0.9, 12);
    expect(riskAfter(28)).toBeCloseTo(1 - 0.75 * 0.95, 12);
    expect(riskAfter(91)).toBe(0.25);
  });
});
