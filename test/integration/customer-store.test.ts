/** DynamoCustomerStore against the real DynamoDB Local. */
import { describe, expect, it, onTestFinished } from 'vitest';
import { GetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { scoringShard } from '../../shared/data-model/keys.ts';
import { businessEvent } from '../support/events.ts';
import { freshTable, useLocalDynamoDb } from '../support/local-aws.ts';
const profiles = { empty: emptyProfile, apply: applyEvent };

const local = useLocalDynamoDb();

async function newStore() {
  const { tableName } = await freshTable(local.aws().dynamodb.endpoint);
  return { tableName, store: new DynamoCustomerStore(local.client(), { tableName, profiles }) };
}

describe('DynamoCustomerStore (DynamoDB Local)', () => {
  it('creates the customer on the first event, even before a profile event', async () => {
    const { store, tableName } = await newStore();
    const e = businessEvent('OrderPlaced', { customerId: 'new-1', amount: 12.5 });
    expect(await store.recordEvent(e, new Date())).toMatchObject({ status: 'stored' });
    const profile = await store.getProfile('new-1');
    expect(profile).toMatchObject({ customerId: 'new-1', orderCount: 1, totalSpend: 12.5 });
    const doc = DynamoDBDocumentClient.from(local.client());
    const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: 'CUST#new-1', sk: 'PROFILE' } }));
    expect(Item).toMatchObject({ scoringShard: scoringShard('new-1'), version: 1, entity: 'profile' });
    const { Item: stored } = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: 'CUST#new-1', sk: `EVT#${e.detail.eventId}` } }));
    expect(stored).toMatchObject({ type: 'OrderPlaced', eventId: e.detail.eventId, detail: { amount: 12.5 } });
    expect(stored!.expiresAt).toBeGreaterThan(Date.now() / 1000 + 300 * 86400);
  });

  it('stores and counts a redelivered event once', async () => {
    const { store } = await newStore();
    const e = businessEvent('OrderPlaced', { customerId: 'dup', amount: 7 });
    expect((await store.recordEvent(e, new Date())).status).toBe('stored');
    expect((await store.recordEvent(e, new Date())).status).toBe('duplicate');
    expect((await store.recordEvent(e, new Date())).status).toBe('duplicate');
    expect(await store.getProfile('dup')).toMatchObject({ orderCount: 1, totalSpend: 7, eventCount: 1 });
  });

  it('loses no update when many events for one customer arrive at once, in any order', async () => {
    const { store } = await newStore();
    const events = Array.from({ length: 24 }, (_, i) =>
      businessEvent('OrderPlaced', { customerId: 'hot', amount: 1 + i, occurredAt: `2026-0${1 + (i % 9)}-1${i % 10}T10:00:00Z` }),
    );
    const results = await Promise.all(events.map((e) => store.recordEvent(e, new Date())));
    expect(results.every((r) => r.status === 'stored')).toBe(true);
    const expected = events.reduce((p, e) => applyEvent(p, e), emptyProfile('hot'));
    const profile = await store.getProfile('hot');
    expect(profile).toEqual(expected);
    expect(profile?.orderCount).toBe(24);
  });

  it("stores a customer's batch in one go: new events once, duplicates (earlier or within the batch) not again", async () => {
    const { store } = await newStore();
    const early = businessEvent('OrderPlaced', { customerId: 'b-1', amount: 1 });
    await store.recordEvent(early, new Date());
    const fresh = Array.from({ length: 120 }, (_, i) => businessEvent('UsageRecorded', { customerId: 'b-1', quantity: i }));
    const batch = [fresh[0]!, early, ...fresh, fresh[5]!];
    const results = await store.recordEvents('b-1', batch, new Date());
    expect(results.map((r) => r.status)).toEqual(['stored', 'duplicate', 'duplicate', ...fresh.slice(1).map(() => 'stored'), 'duplicate']);
    const profile = await store.getProfile('b-1');
    expect(profile?.eventCount).toBe(121); // 1 order + 120 usage records, over three transactions
    expect(profile?.orderCount).toBe(1);
    expect(await store.recordEvents('b-1', fresh, new Date())).toEqual(fresh.map(() => ({ status: 'duplicate' })));
    await expect(store.recordEvents('someone-else', [early], new Date())).rejects.toThrow(/one customer/);
  });

  it('a redelivery (mayBeStored) learns which events are stored from one consistent read: no transaction for them, the same results and profile', async () => {
    const { store, tableName } = await newStore();
    const events = Array.from({ length: 130 }, (_, i) => businessEvent('UsageRecorded', { customerId: 'r-1', quantity: i }));
    // An earlier attempt stored the first 110 (two transactions went through, the third did not).
    await store.recordEvents('r-1', events.slice(0, 110), new Date());
    const sent: string[] = [];
    const client = local.client();
    client.middlewareStack.add((next, context) => async (args) => (sent.push(String(context.commandName)), next(args)), { step: 'initialize', name: 'countCommands' });
    onTestFinished(() => void client.middlewareStack.remove('countCommands'));
    const again = new DynamoCustomerStore(client, { tableName, profiles });
    const results = await again.recordEvents('r-1', [...events, events[3]!], new Date(), { mayBeStored: true });
    expect(results.map((r) => r.status)).toEqual([...events.slice(0, 110).map(() => 'duplicate'), ...events.slice(110).map(() => 'stored'), 'duplicate']);
    // One read of the keys, one read of the profile, one transaction of the 20 new ones: none failed.
    expect(sent.filter((c) => c === 'TransactWriteItemsCommand')).toHaveLength(1);
    expect(sent.filter((c) => c === 'BatchGetItemCommand')).toHaveLength(2); // 130 keys: 100 a call
    expect((await store.getProfile('r-1'))?.eventCount).toBe(130);
    // Everything stored: no transaction at all.
    sent.length = 0;
    expect(await again.recordEvents('r-1', events, new Date(), { mayBeStored: true })).toEqual(events.map(() => ({ status: 'duplicate' })));
    expect(sent.filter((c) => c === 'TransactWriteItemsCommand')).toHaveLength(0);
  });

  it('records a trigger once and remembers whether it was published', async () => {
    const { store } = await newStore();
    const t = { triggerId: 'r#c#e', customerId: 'c', rule: 'r', kind: 'single' as const, action: 'retention-save' as const, reasons: ['x'], churnRiskBoost: 0.1, sourceEventIds: ['e'] };
    const first = await store.recordTrigger(t, new Date('2026-11-01T00:00:00Z'));
    expect(first).toEqual({ firedAt: '2026-11-01T00:00:00.000Z', published: false });
    expect(await store.recordTrigger(t, new Date('2026-11-02T00:00:00Z'))).toEqual({ firedAt: '2026-11-01T00:00:00.000Z', published: false });
    await store.markPublished('c', { kind: 'trigger', triggerId: 'r#c#e' }, new Date());
    expect((await store.recordTrigger(t, new Date())).published).toBe(true);
  });

  it('lets one worker claim a send; others see it busy, then done', async () => {
    const { store, tableName } = await newStore();
    const entry = { sendId: 's#1', customerId: 'c', campaign: 'retention-save' };
    const now = new Date('2026-11-01T00:00:00Z');
    const claims = await Promise.all([1, 2, 3, 4].map(() => store.claimSend(entry, now, 60, 0)));
    expect(claims.filter((c) => c.state === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.state === 'busy' || c.state === 'stale')).toHaveLength(3);
    // a claim whose lease ran out (the worker died) can be taken over
    expect(await store.claimSend(entry, new Date(now.getTime() + 61_000), 60, 0)).toEqual({ state: 'stale' }); // decided on an old ledger
    expect(await store.claimSend(entry, new Date(now.getTime() + 61_000), 60, 1)).toEqual({ state: 'claimed' });
    await store.releaseSend('c', 's#1');
    expect(await store.claimSend(entry, now, 60, 2)).toEqual({ state: 'claimed' });
    await store.completeSend({ ...entry, status: 'sent', at: now.toISOString(), messageId: 'm1' });
    expect(await store.claimSend(entry, new Date(now.getTime() + 10 * 60_000), 60, 3)).toMatchObject({ state: 'done', record: { status: 'sent', messageId: 'm1' } });
    const sends = await store.recentSends('c', new Date('2026-10-01T00:00:00Z'));
    expect(sends).toEqual({ ledgerVersion: 3, records: [{ ...entry, status: 'sent', at: now.toISOString(), messageId: 'm1', reason: undefined, publishedAt: undefined }] });
    expect((await store.recentSends('c', new Date('2026-11-02T00:00:00Z'))).records).toEqual([]);
    const doc = DynamoDBDocumentClient.from(local.client());
    const all = await doc.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'CUST#c' } }));
    expect(all.Items?.map((i) => i.sk)).toEqual(['SEND#s#1', 'SENDS']);
  });
});
