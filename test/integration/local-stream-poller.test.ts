/**
 * The stream poller against DynamoDB Local's real Streams API, with small test
 * handlers (so it is tested apart from the real handlers).
 */
import { PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, createTable, localDynamoDbClient, startDynamoDbLocal, type RunningService } from '../../local/services.ts';
import { StreamPoller, type LambdaStreamRecord, type OnFailureRecord, type StreamBatchResult } from '../../local/stream-poller.ts';
import { subscriptions, type StreamSubscription } from '../../shared/wiring.ts';

let ddbService: RunningService;
let ddb: DynamoDBClient;
let streams: DynamoDBStreamsClient;
const sub = subscriptions.find((s) => s.kind === 'stream') as StreamSubscription;
let tableCounter = 0;

beforeAll(async () => {
  ddbService = await startDynamoDbLocal();
  ddb = localDynamoDbClient(ddbService.endpoint);
  streams = new DynamoDBStreamsClient({ endpoint: ddbService.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}, 60_000);
afterAll(async () => {
  ddb?.destroy();
  streams?.destroy();
  await ddbService?.stop();
});

async function newTable() {
  const name = `poller-${++tableCounter}`;
  const { streamArn } = await createTable(ddb, name);
  return { name, streamArn };
}

const putEvent = (table: string, customer: string, eventId: string, type: string) =>
  ddb.send(
    new PutItemCommand({
      TableName: table,
      Item: { pk: { S: `CUST#${customer}` }, sk: { S: `EVT#${eventId}` }, type: { S: type }, payload: { B: new Uint8Array([1, 2, 3]) } },
    }),
  );

function makePoller(streamArn: string, handler: (records: LambdaStreamRecord[]) => Promise<StreamBatchResult>, extra: Partial<ConstructorParameters<typeof StreamPoller>[0]> = {}) {
  const failures: OnFailureRecord[] = [];
  const poller = new StreamPoller({
    client: streams,
    streamArn,
    region: LOCAL_REGION,
    filters: sub.filters,
    batchSize: sub.batchSize,
    retryAttempts: sub.retryAttempts,
    maxRecordAgeSeconds: sub.maxRecordAgeSeconds,
    pollIntervalMs: 20,
    retryDelayMs: 1,
    handler: (event) => handler(event.Records),
    onFailure: (f) => {
      failures.push(f);
    },
    ...extra,
  });
  return { poller, failures };
}

async function until(cond: () => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('stream poller on DynamoDB Local', () => {
  it('reads real stream records, applies the wiring filter and delivers Lambda-shaped batches', async () => {
    const { name, streamArn } = await newTable();
    const batches: LambdaStreamRecord[][] = [];
    const { poller } = makePoller(streamArn, async (records) => {
      batches.push(records);
    });
    // Written before the poller starts: TRIM_HORIZON must still see them.
    await putEvent(name, 'c1', 'e1', 'SupportCallLogged');
    await putEvent(name, 'c1', 'e2', 'InvoiceIssued'); // not a trigger type → skipped
    await ddb.send(new PutItemCommand({ TableName: name, Item: { pk: { S: 'CUST#c1' }, sk: { S: 'PROFILE' }, type: { S: 'SupportCallLogged' } } })); // not EVT#
    poller.start();
    await putEvent(name, 'c2', 'e3', 'PaymentFailed');
    await ddb.send(
      new UpdateItemCommand({ TableName: name, Key: { pk: { S: 'CUST#c1' }, sk: { S: 'EVT#e1' } }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': { N: '1' } } }),
    ); // MODIFY → skipped
    await until(() => poller.stats.recordsRead >= 5);
    await poller.waitRounds(2);
    await poller.stop();

    const delivered = batches.flat();
    expect(delivered.map((r) => r.dynamodb.Keys)).toEqual([
      { pk: { S: 'CUST#c1' }, sk: { S: 'EVT#e1' } },
      { pk: { S: 'CUST#c2' }, sk: { S: 'EVT#e3' } },
    ]);
    const r = delivered[0];
    expect(r).toMatchObject({ eventName: 'INSERT', eventSource: 'aws:dynamodb', awsRegion: LOCAL_REGION, eventSourceARN: streamArn });
    expect(r.eventID).toBeTruthy();
    expect(r.dynamodb.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
    expect(typeof r.dynamodb.ApproximateCreationDateTime).toBe('number');
    expect(typeof r.dynamodb.SizeBytes).toBe('number');
    expect(r.dynamodb.SequenceNumber).toMatch(/^\d+$/);
    expect(r.dynamodb.NewImage?.payload).toEqual({ B: 'AQID' }); // binary as base64, as Lambda delivers it
    expect(poller.stats.recordsSkipped).toBe(3);
    expect(poller.shardIds().length).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('batches by batchSize', async () => {
    const { name, streamArn } = await newTable();
    const sizes: number[] = [];
    const { poller } = makePoller(
      streamArn,
      async (records) => {
        sizes.push(records.length);
      },
      { batchSize: 3 },
    );
    for (let i = 0; i < 7; i++) await putEvent(name, 'c', `e${i}`, 'UsageRecorded');
    poller.start();
    await until(() => sizes.reduce((a, b) => a + b, 0) >= 7);
    await poller.stop();
    expect(sizes).toEqual([3, 3, 1]);
  }, 30_000);

  it('honours batchItemFailures: retries from the first failed sequence number', async () => {
    const { name, streamArn } = await newTable();
    const calls: string[][] = [];
    let failedOnce = false;
    const { poller, failures } = makePoller(streamArn, async (records) => {
      calls.push(records.map((r) => (r.dynamodb.Keys?.sk as { S: string }).S));
      const third = records.find((r) => (r.dynamodb.Keys?.sk as { S: string }).S === 'EVT#e2');
      if (third && !failedOnce) {
        failedOnce = true;
        return { batchItemFailures: [{ itemIdentifier: third.dynamodb.SequenceNumber }] };
      }
      return { batchItemFailures: [] };
    });
    for (let i = 0; i < 4; i++) await putEvent(name, 'c', `e${i}`, 'SupportCallLogged');
    poller.start();
    await until(() => calls.length >= 2);
    await poller.waitRounds(2);
    await poller.stop();
    expect(calls).toEqual([
      ['EVT#e0', 'EVT#e1', 'EVT#e2', 'EVT#e3'],
      ['EVT#e2', 'EVT#e3'],
    ]);
    expect(failures).toHaveLength(0);
    expect(poller.stats.retries).toBe(1);
  }, 30_000);

  it('a thrown error fails the whole batch; after retryAttempts the batch info goes to the on-failure destination and polling moves on', async () => {
    const { name, streamArn } = await newTable();
    const seen: string[] = [];
    const { poller, failures } = makePoller(
      streamArn,
      async (records) => {
        const keys = records.map((r) => (r.dynamodb.Keys?.sk as { S: string }).S);
        seen.push(keys.join(','));
        if (keys.includes('EVT#poison')) throw new Error('boom');
      },
      { batchSize: 2, retryAttempts: 2 },
    );
    await putEvent(name, 'c', 'ok1', 'SupportCallLogged');
    await putEvent(name, 'c', 'poison', 'SupportCallLogged');
    await putEvent(name, 'c', 'ok2', 'SupportCallLogged');
    poller.start();
    await until(() => seen.includes('EVT#ok2'));
    await poller.stop();
    expect(seen).toEqual(['EVT#ok1,EVT#poison', 'EVT#ok1,EVT#poison', 'EVT#ok1,EVT#poison', 'EVT#ok2']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      responseContext: { functionError: 'Unhandled' },
      DDBStreamBatchInfo: { batchSize: 2, streamArn },
    });
  }, 30_000);

  it('an unknown itemIdentifier fails the whole batch, as in Lambda', async () => {
    const { name, streamArn } = await newTable();
    let calls = 0;
    const { poller, failures } = makePoller(
      streamArn,
      async () => {
        calls++;
        return calls === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] } : undefined;
      },
      { retryAttempts: 3 },
    );
    await putEvent(name, 'c', 'a', 'SupportCallLogged');
    await putEvent(name, 'c', 'b', 'SupportCallLogged');
    poller.start();
    await until(() => calls >= 2);
    await poller.waitRounds(1);
    await poller.stop();
    expect(calls).toBe(2);
    expect(failures).toHaveLength(0);
    expect(poller.stats.failedInvocations).toBe(1);
  }, 30_000);
});
