/** Error paths of the adapters that DynamoDB Local and the emulators cannot produce on demand. */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ConcurrentUpdateError, DynamoCustomerStore } from '../../../shared/adapters/dynamodb-customer-store.ts';
import { EventBridgePublisher } from '../../../shared/adapters/eventbridge-publisher.ts';
import { SqsRejectedEventSink } from '../../../shared/adapters/sqs-rejected-sink.ts';
import { businessEvent } from '../../support/events.ts';
import { applyEvent as apply, emptyProfile as empty } from '../../../shared/customers/profile.ts';
const profiles = { empty, apply };

const doc = mockClient(DynamoDBDocumentClient);
const canceled = (codes: string[]) =>
  new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

describe('DynamoCustomerStore.recordEvent error paths', () => {
  beforeEach(() => {
    doc.reset();
    doc.on(GetCommand).resolves({ Item: { pk: 'CUST#c-1', sk: 'PROFILE', customerId: 'c-1', version: 3, orderCount: 1 } });
  });
  const store = () => new DynamoCustomerStore(new DynamoDBClient({ region: 'eu-west-1' }), { tableName: 't', maxConflictRetries: 4, profiles });

  it('retries when another writer changed the profile, then stores', async () => {
    doc.on(TransactWriteCommand).rejectsOnce(canceled(['None', 'ConditionalCheckFailed'])).resolves({});
    expect((await store().recordEvent(businessEvent('OrderPlaced'), new Date())).status).toBe('stored');
    const calls = doc.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(2);
    const profilePut = calls[1]!.args[0].input.TransactItems![1]!.Put!;
    expect(profilePut.ConditionExpression).toBe('version = :v');
    expect(profilePut.Item).toMatchObject({ version: 4, orderCount: 2 });
  });

  it('retries a transaction conflict', async () => {
    doc.on(TransactWriteCommand).rejectsOnce(canceled(['TransactionConflict', 'None'])).resolves({});
    expect((await store().recordEvent(businessEvent('OrderPlaced'), new Date())).status).toBe('stored');
  });

  it('reports a duplicate when the event item exists already', async () => {
    doc.on(TransactWriteCommand).rejects(canceled(['ConditionalCheckFailed', 'None']));
    expect((await store().recordEvent(businessEvent('OrderPlaced'), new Date())).status).toBe('duplicate');
    expect(doc.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('gives up with a clear error when the profile keeps changing', async () => {
    doc.on(TransactWriteCommand).rejects(canceled(['None', 'ConditionalCheckFailed']));
    await expect(store().recordEvent(businessEvent('OrderPlaced'), new Date())).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(doc.commandCalls(TransactWriteCommand)).toHaveLength(4);
  });

  it('lets throttling surface after the SDK retries, so the record is retried by SQS', async () => {
    doc.on(TransactWriteCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    await expect(store().recordEvent(businessEvent('OrderPlaced'), new Date())).rejects.toThrow(/slow down/);
  });
});

describe('EventBridgePublisher', () => {
  const eb = mockClient(EventBridgeClient);
  beforeEach(() => eb.reset());
  it('fails loudly when any entry is not accepted, and chunks by 10', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
    const pub = new EventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'bus');
    const detail = { sendId: 's', customerId: 'c', campaign: 'x', reason: 'r', skippedAt: '2026-01-01T00:00:00Z', schemaVersion: 1 as const };
    await expect(pub.publish([{ detailType: 'EmailSkipped', detail }])).rejects.toThrow(/InternalFailure: boom/);
    eb.reset();
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await pub.publish(Array.from({ length: 23 }, () => ({ detailType: 'EmailSkipped' as const, detail })));
    expect(eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!.length)).toEqual([10, 10, 3]);
    expect(eb.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]).toMatchObject({ Source: 'clm.campaigns', EventBusName: 'bus' });
  });
});

describe('SqsRejectedEventSink', () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());
  it('keeps the reason with the event, truncating what SQS cannot carry', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const sink = new SqsRejectedEventSink(new SQSClient({ region: 'eu-west-1' }), 'https://sqs/q');
    await sink.reject('{"x":1}', { ok: false, code: 'invalid-detail', reason: 'OrderPlaced: amount: bad' }, new Date('2026-01-01T00:00:00Z'), 'r-1');
    await sink.reject('y'.repeat(300 * 1024), { ok: false, code: 'too-large', reason: 'big' }, new Date('2026-01-01T00:00:00Z'), 'r-2');
    const [small, big] = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input);
    expect(JSON.parse(small!.MessageBody!)).toEqual({ rejectionId: 'r-1', code: 'invalid-detail', reason: 'OrderPlaced: amount: bad', receivedAt: '2026-01-01T00:00:00.000Z', event: '{"x":1}' });
    expect(small!.MessageAttributes?.code?.StringValue).toBe('invalid-detail');
    expect(small!.MessageAttributes?.rejectionId?.StringValue).toBe('r-1');
    expect(Buffer.byteLength(big!.MessageBody!)).toBeLessThanOrEqual(256 * 1024);
    expect(JSON.parse(big!.MessageBody!)).toMatchObject({ rejectionId: 'r-2', code: 'too-large', truncated: true });
  });
});
