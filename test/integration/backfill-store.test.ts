/**
 * The backfill on DynamoDB Local: DynamoBackfillStore beside the live ingest path
 * (DynamoCustomerStore) on one table. Customers whose events come partly by backfill (in
 * batches of a file whose rows are not sorted by customer, one batch crashing half-way) and
 * partly live end with the profiles of a table that got everything live; a rerun stores
 * nothing; live redeliveries are duplicates; and on the table stream only the live events
 * pass the churn-triggers filter.
 */
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { matchesAny } from '../../local/event-pattern.ts';
import { toLambdaRecord } from '../../local/stream-poller.ts';
import { LOCAL_REGION } from '../../local/services.ts';
import { DynamoBackfillStore } from '../../shared/adapters/dynamodb-backfill-store.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { backfillBatch, summarise, type BackfillBatch, type BackfillStore } from '../../shared/backfill/backfill.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../shared/events/catalog.ts';
import { ingestBatch } from '../../shared/ingest/ingest-event.ts';
import { InMemoryRejectedEventSink, InMemoryRejectionLedger, InMemoryConsentLedger, InMemoryPrivacyStore } from '../../shared/pipeline/in-memory-ports.ts';
import { subscriptions, type StreamSubscription } from '../../shared/wiring.ts';
import { businessEvent } from '../support/events.ts';
import { freshTable, sdkConfig, useLocalDynamoDb } from '../support/local-aws.ts';

const profiles = { empty: emptyProfile, apply: applyEvent };
const local = useLocalDynamoDb();
const now = new Date();
const line = (e: BusinessEvent) => ({ source: e.source, 'detail-type': e.type, detail: e.detail });
const batch = (runId: string, rows: unknown[], first: number): BackfillBatch => ({ Items: rows.map((row, k) => ({ index: first + k, row })), BatchInput: { runId, file: 'history/part-1.jsonl', format: 'jsonl' } });

async function table() {
  const { tableName, streamArn } = await freshTable(local.aws().dynamodb.endpoint);
  const backfill = new DynamoBackfillStore(local.client(), { tableName, profiles });
  const live = new DynamoCustomerStore(local.client(), { tableName, profiles });
  const ingest = (events: BusinessEvent[]) =>
    ingestBatch(events.map((e) => JSON.stringify({ id: `env-${e.detail.eventId}`, ...line(e) })), { store: live, rejected: new InMemoryRejectedEventSink(), rejections: new InMemoryRejectionLedger(), consent: new InMemoryConsentLedger(), privacy: new InMemoryPrivacyStore(), now: () => new Date() });
  return { tableName, streamArn, backfill, live, ingest };
}

/** Every record on the table's stream, as Lambda would get it. */
async function streamRecords(streamArn: string) {
  const client = new DynamoDBStreamsClient(sdkConfig(local.aws().dynamodb.endpoint));
  try {
    const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const records = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      let it = (await client.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      while (it) {
        const out = await client.send(new GetRecordsCommand({ ShardIterator: it }));
        records.push(...(out.Records ?? []).map((r) => toLambdaRecord(r, streamArn, LOCAL_REGION)));
        if (!out.Records?.length) break;
        it = out.NextShardIterator;
      }
    }
    return records;
  } finally {
    client.destroy();
  }
}

/** Recent events of several customers, interleaved (not sorted by customer), with trigger-relevant ones. */
function history(): BusinessEvent[] {
  const recent = (h: number) => new Date(now.getTime() - h * 3_600_000).toISOString();
  const events: BusinessEvent[] = [];
  for (let i = 0; i < 12; i++) {
    for (const c of ['a', 'b', 'c', 'd']) {
      events.push(
        i % 3 === 0
          ? businessEvent('SupportCallLogged', { customerId: c, callId: `${c}-k${i}`, reason: 'billing', occurredAt: recent(i + 1) })
          : businessEvent('OrderPlaced', { customerId: c, orderId: `${c}-o${i}`, amount: i + 1, occurredAt: recent(24 * i + 2) }),
      );
    }
  }
  return events;
}

describe('backfill on DynamoDB Local', () => {
  it('backfill and live ingest together give the all-live profiles; reruns and redeliveries count nothing twice; only live events reach the trigger filter', async () => {
    const events = history();
    const rows = events.map(line);
    const mixed = await table();

    // Live ingest already has some of the history (and one event only it has).
    const onlyLive = businessEvent('OrderPlaced', { customerId: 'a', orderId: 'live-1', amount: 99, occurredAt: new Date(now.getTime() - 3_600_000).toISOString() });
    await mixed.ingest([...events.slice(0, 10), onlyLive]);

    // The backfill in batches of 9 rows; the third batch crashes after its event writes and is retried.
    let crashed = false;
    const crashing: BackfillStore = {
      readCustomers: (w) => mixed.backfill.readCustomers(w),
      writeEvents: (e, at) => mixed.backfill.writeEvents(e, at),
      writeProfile: async (...args) => {
        if (!crashed) {
          crashed = true;
          throw new Error('crashed');
        }
        return mixed.backfill.writeProfile(...args);
      },
      recordBatch: (r) => mixed.backfill.recordBatch(r),
      recordFailure: (f) => mixed.backfill.recordFailure(f),
      runRecords: (r, f) => mixed.backfill.runRecords(r, f),
    };
    const deps = (store: BackfillStore) => ({ store, fold: profiles, now: () => new Date() });
    const fileSummary = async (runId: string) => {
      const { results, failures } = await mixed.backfill.runRecords(runId, 'history/part-1.jsonl');
      return summarise(runId, 'history/part-1.jsonl', results, failures);
    };
    for (let i = 0; i < rows.length; i += 9) {
      const b = batch('run-1', rows.slice(i, i + 9), i);
      if (i === 18) await expect(backfillBatch(b, deps(crashing))).rejects.toThrow('crashed');
      await backfillBatch(b, deps(mixed.backfill));
    }
    expect(crashed).toBe(true);
    const first = await fileSummary('run-1');
    expect(first).toMatchObject({ batches: 6, rowsRead: 48, rowsRejected: 0, eventsStored: 38, duplicates: 10, deferred: 0 });

    // A rerun of the whole file stores nothing; live redeliveries are duplicates.
    for (let i = 0; i < rows.length; i += 16) await backfillBatch(batch('run-2', rows.slice(i, i + 16), i), deps(mixed.backfill));
    expect(await fileSummary('run-2')).toMatchObject({ rowsRead: 48, eventsStored: 0, duplicates: 48, customersWritten: 0 });
    expect((await mixed.ingest(events)).every((o) => o.outcome === 'duplicate')).toBe(true);
    // Live ingest after the backfill keeps the profile's batch tokens (a later rerun still counts nothing).
    const later = businessEvent('OrderPlaced', { customerId: 'b', orderId: 'live-2', amount: 5, occurredAt: new Date(now.getTime() - 60_000).toISOString() });
    await mixed.ingest([later]);
    const doc = DynamoDBDocumentClient.from(local.client());
    const { Item } = await doc.send(new GetCommand({ TableName: mixed.tableName, Key: { pk: 'CUST#b', sk: 'PROFILE' } }));
    expect((Item!.backfillBatches as string[]).length).toBeGreaterThan(0);
    await backfillBatch(batch('run-3', rows, 0), deps(mixed.backfill));
    expect(await fileSummary('run-3')).toMatchObject({ eventsStored: 0, duplicates: 48 });

    // The same events, all live, on another table: the same profiles.
    const allLive = await table();
    await allLive.ingest([...events, onlyLive, later]);
    for (const c of ['a', 'b', 'c', 'd']) expect(await mixed.live.getProfile(c)).toEqual(await allLive.live.getProfile(c));
    expect((await mixed.live.getProfile('a'))?.eventCount).toBe(13);

    // On the stream: every event item was inserted once; the trigger filter passes the live ones only.
    const filters = (subscriptions.find((s) => s.id === 'NewEventsToChurnTriggers') as StreamSubscription).filters;
    const inserted = (await streamRecords(mixed.streamArn)).filter((r) => r.eventName === 'INSERT' && String((r.dynamodb.NewImage?.sk as { S: string }).S).startsWith('EVT#'));
    expect(inserted).toHaveLength(50);
    const passed = inserted.filter((r) => matchesAny(filters, r)).map((r) => (r.dynamodb.NewImage?.eventId as { S: string }).S);
    const live = [...events.slice(0, 10), onlyLive, later];
    const liveIds = new Set(live.map((e) => e.detail.eventId));
    const liveCalls = live.filter((e) => e.type === 'SupportCallLogged').map((e) => e.detail.eventId);
    // Only live events pass (of the types the triggers read: support calls, and now orders too), never a backfilled one.
    expect(passed.filter((id) => !liveIds.has(id))).toEqual([]);
    expect(passed).toEqual(expect.arrayContaining(liveCalls));
    expect(events.filter((e) => e.type === 'SupportCallLogged').length).toBeGreaterThan(liveCalls.length);
  });

  it('counts the read and write units it consumes', async () => {
    const t = await table();
    const many = Array.from({ length: 120 }, (_, i) => businessEvent('UsageRecorded', { customerId: `u${i % 7}`, productId: 'p', quantity: i, occurredAt: '2025-03-01T00:00:00Z' }));
    const r = await backfillBatch(batch('run-u', many.map(line), 0), { store: t.backfill, fold: profiles, now: () => new Date() });
    expect(r).toMatchObject({ eventsStored: 120, customersWritten: 7 });
    expect(t.backfill.consumed.writeUnits).toBeGreaterThanOrEqual(127);
    // A rerun reads the stored items (DynamoDB Local charges nothing for missing ones) and writes only its result.
    const before = { ...t.backfill.consumed };
    await backfillBatch(batch('run-v', many.map(line), 0), { store: t.backfill, fold: profiles, now: () => new Date() });
    expect(t.backfill.consumed.readUnits).toBeGreaterThan(before.readUnits);
    expect(t.backfill.consumed.writeUnits - before.writeUnits).toBe(1);
  });
});
