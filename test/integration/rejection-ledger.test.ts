/**
 * The rejection ledger on DynamoDB Local and in memory: the same sequence of calls gives the
 * same answers (claim, busy within the lease, taken over after it, released, done), and ingest
 * on the DynamoDB ledger puts a redelivered batch's rejected events on the queue once.
 */
import { describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRejectionLedger } from '../../shared/adapters/dynamodb-rejection-ledger.ts';
import { InMemoryConsentLedger, InMemoryPrivacyStore, InMemoryRejectionLedger } from '../../shared/pipeline/in-memory-ports.ts';
import { ingestBatch, rejectionIdFor } from '../../shared/ingest/ingest-event.ts';
import type { CustomerStore, RejectedEventSink, RejectionLedger } from '../../shared/ports.ts';
import { freshTable, useLocalDynamoDb } from '../support/local-aws.ts';

const local = useLocalDynamoDb();
const t0 = new Date('2026-11-01T12:00:00.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

async function sequence(ledger: RejectionLedger): Promise<string[]> {
  return [
    await ledger.claim('a', t0, 60),
    await ledger.claim('a', at(60), 60), // the lease still runs (to and with its last millisecond)
    await ledger.claim('a', at(61), 60), // ran out: taken over
    await ledger.release('a').then(() => 'released'),
    await ledger.claim('a', at(62), 60), // released: taken at once
    await ledger.complete('a', at(63)).then(() => 'completed'),
    await ledger.claim('a', at(64), 60),
    await ledger.release('a').then(() => 'released'), // a done rejection stays done
    await ledger.claim('a', at(10_000), 60),
    await ledger.claim('b', at(10_000), 60),
  ];
}

describe('the rejection ledger', () => {
  it('answers the same on DynamoDB Local as in memory', async () => {
    const { tableName } = await freshTable(local.aws().dynamodb.endpoint);
    const expected = ['claimed', 'busy', 'claimed', 'released', 'claimed', 'completed', 'done', 'released', 'done', 'claimed'];
    expect(await sequence(new InMemoryRejectionLedger())).toEqual(expected);
    expect(await sequence(new DynamoRejectionLedger(local.client(), { tableName, retentionDays: 14 }))).toEqual(expected);
    const { Item } = await DynamoDBDocumentClient.from(local.client()).send(new GetCommand({ TableName: tableName, Key: { pk: 'REJECTED#a', sk: 'REJECTED' } }));
    expect(Item).toMatchObject({ entity: 'rejection', status: 'done', expiresAt: Math.floor(at(63).getTime() / 1000) + 14 * 86_400 });
  });

  it('ingest on it sends a redelivered batch\'s rejected events once', async () => {
    const { tableName } = await freshTable(local.aws().dynamodb.endpoint);
    const rejections = new DynamoRejectionLedger(local.client(), { tableName, retentionDays: 14 });
    const sent: string[] = [];
    const rejected: RejectedEventSink = { reject: async (_raw, _r, _at, id) => void sent.push(id) };
    const store = { recordEvents: async () => { throw new Error('no valid event here'); } } as unknown as CustomerStore;
    const batch = ['nope', '{"detail-type":"OrderPlaced"}'];
    for (let delivery = 0; delivery < 3; delivery++) {
      const results = await ingestBatch(batch, { store, rejected, rejections, consent: new InMemoryConsentLedger(), privacy: new InMemoryPrivacyStore(), now: () => t0 });
      expect(results.map((r) => r.outcome === 'rejected' && r.repeated)).toEqual([delivery > 0, delivery > 0]);
    }
    // Each rejection once; a batch's rejections are handled concurrently, so in no set order.
    expect([...sent].sort()).toEqual(batch.map(rejectionIdFor).sort());
  });
});
