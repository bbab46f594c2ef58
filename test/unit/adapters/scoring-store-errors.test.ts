/** DynamoScoringStore's retries of unprocessed batch items, which DynamoDB Local does not produce on demand. */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoScoringStore, UnprocessedItemsError } from '../../../shared/adapters/dynamodb-scoring-store.ts';
import { emptyProfile } from '../../../shared/customers/profile.ts';
import type { CustomerScore } from '../../../shared/scoring/index.ts';

const doc = mockClient(DynamoDBDocumentClient);
const store = () => new DynamoScoringStore(new DynamoDBClient({ region: 'eu-west-1' }), { tableName: 't', profiles: { empty: emptyProfile }, maxBatchAttempts: 3, backoffBaseMs: 1 });
const score = (customerId: string) => ({ customerId, clv: 1 }) as CustomerScore;
const put = (customerId: string) => ({ PutRequest: { Item: { customerId, clv: 1, pk: `CUST#${customerId}`, sk: 'SCORE', entity: 'score' } } });

describe('DynamoScoringStore batch retries', () => {
  beforeEach(() => doc.reset());

  it('writes the unprocessed items again, and only those, adding up the consumed units', async () => {
    doc
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { t: [put('b')] }, ConsumedCapacity: [{ TableName: 't', CapacityUnits: 2 }] })
      .resolves({ ConsumedCapacity: [{ TableName: 't', CapacityUnits: 1 }] });
    expect(await store().writeScores([score('a'), score('b')])).toEqual({ consumedWriteUnits: 3 });
    const calls = doc.commandCalls(BatchWriteCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.RequestItems!.t).toHaveLength(2);
    expect(calls[1]!.args[0].input.RequestItems!.t).toEqual([put('b')]);
  });

  it('gives up with an error when items stay unprocessed', async () => {
    doc.on(BatchWriteCommand).resolves({ UnprocessedItems: { t: [put('a')] } });
    await expect(store().writeScores([score('a')])).rejects.toThrow(UnprocessedItemsError);
    expect(doc.commandCalls(BatchWriteCommand)).toHaveLength(3);
  });

  it('reads the unprocessed keys again', async () => {
    doc
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { t: [{ pk: 'CUST#a', sk: 'PROFILE', orderCount: 2 }] }, UnprocessedKeys: { t: { Keys: [{ pk: 'CUST#a', sk: 'SCORE' }] } } })
      .resolves({ Responses: { t: [{ pk: 'CUST#a', sk: 'SCORE', entity: 'score', customerId: 'a', clv: 7 }] } });
    const { customers } = await store().readCustomers(['a'], new Date());
    expect(customers[0]).toMatchObject({ customerId: 'a', profile: { customerId: 'a', orderCount: 2 }, stored: { customerId: 'a', clv: 7 }, triggers: [] });
    expect(doc.commandCalls(BatchGetCommand)[1]!.args[0].input.RequestItems!.t!.Keys).toEqual([{ pk: 'CUST#a', sk: 'SCORE' }]);
  });
});
