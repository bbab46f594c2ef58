/** DynamoBackfillStore's error paths, which DynamoDB Local does not produce on demand: unprocessed batch items and keys, refused conditions. */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoBackfillStore } from '../../../shared/adapters/dynamodb-backfill-store.ts';
import { UnprocessedBatchError } from '../../../shared/adapters/dynamodb-batch.ts';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { businessEvent } from '../../support/events.ts';

const doc = mockClient(DynamoDBDocumentClient);
const store = () => new DynamoBackfillStore(new DynamoDBClient({ region: 'eu-west-1' }), { tableName: 't', profiles: { empty: emptyProfile, apply: applyEvent }, maxAttempts: 3, backoffBaseMs: 1 });
const at = new Date('2026-11-01T00:00:00Z');

describe('DynamoBackfillStore error paths', () => {
  beforeEach(() => doc.reset());

  it('writes the unprocessed items again, and only those, 25 a call, adding up the units', async () => {
    const events = Array.from({ length: 30 }, (_, i) => ({ event: businessEvent('OrderPlaced', { customerId: `c${i}` }), token: 'T' }));
    doc
      .on(BatchWriteCommand)
      .callsFakeOnce((input) => ({ UnprocessedItems: { t: input.RequestItems.t.slice(0, 2) }, ConsumedCapacity: [{ TableName: 't', CapacityUnits: 23 }] }))
      .resolves({ ConsumedCapacity: [{ TableName: 't', CapacityUnits: 2 }] });
    const s = store();
    await s.writeEvents(events, at);
    const calls = doc.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems!.t!.length);
    expect(calls.sort()).toEqual([2, 25, 5].sort());
    const item = (doc.commandCalls(BatchWriteCommand)[0]!.args[0].input.RequestItems!.t![0] as { PutRequest: { Item: Record<string, unknown> } }).PutRequest.Item;
    expect(item).toMatchObject({ sk: expect.stringMatching(/^EVT#/), entity: 'event', backfill: 'T', backfillAt: at.toISOString() });
    expect(s.consumed.writeUnits).toBe(27);
  });

  it('gives up with an error when items stay unprocessed', async () => {
    doc.on(BatchWriteCommand).callsFake((input) => ({ UnprocessedItems: { t: input.RequestItems.t } }));
    await expect(store().writeEvents([{ event: businessEvent('OrderPlaced'), token: 'T' }], at)).rejects.toThrow(UnprocessedBatchError);
    expect(doc.commandCalls(BatchWriteCommand)).toHaveLength(3);
  });

  it('reads the unprocessed keys again; a customer with a profile by its event keys, one without by a Query of its events', async () => {
    let eventCalls = 0;
    doc.on(BatchGetCommand).callsFake((input) => {
      const keys = input.RequestItems.t.Keys as { pk: string; sk: string }[];
      if (keys[0]!.sk === 'PROFILE') return { Responses: { t: [{ pk: 'CUST#a', sk: 'PROFILE', version: 4, orderCount: 2, backfillBatches: ['S'] }] } };
      return eventCalls++ === 0
        ? { Responses: { t: [] }, UnprocessedKeys: { t: { Keys: keys } } }
        : { Responses: { t: [{ pk: 'CUST#a', sk: 'EVT#e1', backfill: 'S', backfillAt: 'x' }, { pk: 'CUST#a', sk: 'EVT#e2' }] } };
    });
    doc
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ pk: 'CUST#b', sk: 'EVT#f1', backfill: 'T', backfillAt: 'y' }], LastEvaluatedKey: { pk: 'CUST#b', sk: 'EVT#f1' } })
      .resolves({ Items: [{ pk: 'CUST#b', sk: 'EVT#f9', backfill: 'T', backfillAt: 'y' }] });
    const states = await store().readCustomers([{ customerId: 'a', eventIds: ['e1', 'e2', 'e3'] }, { customerId: 'b', eventIds: ['f1'] }]);
    expect(states.get('a')).toMatchObject({ version: 4, batches: ['S'], profile: { customerId: 'a', orderCount: 2 } });
    expect(states.get('a')!.profile).not.toHaveProperty('backfillBatches');
    expect([...states.get('a')!.stored]).toEqual([['e1', { token: 'S', at: 'x' }], ['e2', {}]]);
    expect(states.get('b')).toMatchObject({ version: 0, batches: [] });
    expect([...states.get('b')!.stored]).toEqual([['f1', { token: 'T', at: 'y' }], ['f9', { token: 'T', at: 'y' }]]);
    expect(doc.commandCalls(QueryCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ ExpressionAttributeValues: { ':pk': 'CUST#b', ':evt': 'EVT#' }, ConsistentRead: true }),
      expect.objectContaining({ ExclusiveStartKey: { pk: 'CUST#b', sk: 'EVT#f1' } }),
    ]);
    expect(eventCalls).toBe(2);
  });

  it('a refused version condition is a conflict; other errors are thrown', async () => {
    doc.on(PutCommand).rejectsOnce(Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' })).rejects(new Error('boom'));
    expect(await store().writeProfile('a', emptyProfile('a'), ['T'], 3, at)).toBe('conflict');
    await expect(store().writeProfile('a', emptyProfile('a'), ['T'], 3, at)).rejects.toThrow('boom');
    expect(doc.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({ ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': 3 }, Item: { version: 4, backfillBatches: ['T'] } });
  });
});
