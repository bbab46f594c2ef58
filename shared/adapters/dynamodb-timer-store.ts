/**
 * TimerStore on the single table (docs/triggers.md, "Timers"): one item per timer under the
 * customer's partition (`TIMER#<kind>#<key>`), indexed while pending by the sparse `byTimerDue`
 * index — partition `TIMER#<hour>#<shard>` (the hour it is due in, or the hour it was set in if
 * it was already due then), sort key its due time. A sweep queries the hour buckets of the
 * last `lookbackHours` up to now; firing or giving up removes the index attributes, so the
 * index holds pending timers only and an empty past bucket costs one small Query.
 *
 * A timer goes into the bucket of max(its due time, the time it is set), never into an hour
 * already past, so a bucket of an hour before the last one that was found empty stays empty:
 * the store remembers those and a warm sweeper reads only the recent buckets (and any past
 * bucket still holding a timer, e.g. one whose handler failed and is retried).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isDeepStrictEqual } from 'node:util';
import { SK, customerPk, timerBucket, timerBuckets, timerHour } from '../data-model/keys.ts';
import { batchGetAll, batchPutAll } from './dynamodb-batch.ts';
import { defaults } from '../defaults.ts';
import { TIMER_SHARDS } from '../data-model/table.ts';
import type { PendingTimer, TimerKey, TimerSpec, TimerStore } from '../ports.ts';

export const TIMER_INDEX = 'byTimerDue';
const HOUR_MS = 3_600_000;
const DAY_S = 86_400;

export type DynamoTimerStoreOptions = {
  tableName: string;
  /** Hours back from now whose buckets a sweep reads (timers left by a sweeper stopped longer than this wait for a sweep with a longer look-back). */
  lookbackHours?: number;
  /** Days after its due time a timer item (pending, fired or given up) expires. */
  retentionDays?: number;
  /** Buckets queried at once. */
  queryConcurrency?: number;
};

function isConditionalFailure(e: unknown): boolean {
  return (e as Error)?.name === 'ConditionalCheckFailedException';
}

function pendingOf(i: Record<string, unknown>): PendingTimer {
  const { customerId, kind, key, dueAt, payload, setAt, attempts, lastError } = i as PendingTimer;
  return { customerId, kind, key, dueAt, ...(payload ? { payload } : {}), setAt, attempts: Number(attempts ?? 0), ...(lastError ? { lastError } : {}) };
}

export class DynamoTimerStore implements TimerStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly lookbackHours: number;
  private readonly retentionS: number;
  private readonly queryConcurrency: number;
  /** Buckets of hours before the previous one that were read empty: no timer can go into them any more. */
  private readonly emptyBuckets = new Set<string>();

  constructor(client: DynamoDBClient, options: DynamoTimerStoreOptions) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
    this.table = options.tableName;
    this.lookbackHours = options.lookbackHours ?? defaults.timerLookbackHours;
    this.retentionS = (options.retentionDays ?? defaults.timerRetentionDays) * DAY_S;
    this.queryConcurrency = options.queryConcurrency ?? 16;
  }

  private key(t: TimerKey) {
    return { pk: customerPk(t.customerId), sk: SK.timer(t.kind, t.key) };
  }

  async set(timer: TimerSpec, now: Date, options: { keepEarlier?: boolean } = {}): Promise<'set' | 'moved' | 'unchanged' | 'already-fired'> {
    const dueAt = new Date(timer.dueAt);
    if (Number.isNaN(dueAt.getTime())) throw new Error(`timer ${timer.kind} has an invalid due time`);
    const due = dueAt.toISOString();
    const key = this.key(timer);
    // A read (half the price of a write) spares the write when nothing changes, e.g. a redelivered record.
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    if (Item && Item.dueAt === due) {
      if (Item.firedAt !== undefined || Item.gaveUpAt !== undefined) return 'already-fired';
      // Compared as values: DynamoDB gives a map's keys back in an order of its own.
      if (isDeepStrictEqual(Item.payload ?? null, timer.payload ?? null)) return 'unchanged';
    }
    if (options.keepEarlier && Item && Item.timerBucket !== undefined && String(Item.dueAt) <= due) return 'unchanged';
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: this.item(timer, now),
          // Never re-arms a timer that fired (or was given up) for this same due time since the read.
          ConditionExpression: 'attribute_not_exists(pk) OR dueAt <> :due OR (attribute_not_exists(firedAt) AND attribute_not_exists(gaveUpAt))',
          ExpressionAttributeValues: { ':due': due },
        }),
      );
    } catch (e) {
      if (isConditionalFailure(e)) return 'already-fired';
      throw e;
    }
    return Item && Item.timerBucket !== undefined ? 'moved' : 'set';
  }

  /** The item of a pending timer, as `set` writes it. */
  private item(timer: TimerSpec, now: Date): Record<string, unknown> {
    const dueAt = new Date(timer.dueAt);
    if (Number.isNaN(dueAt.getTime())) throw new Error(`timer ${timer.kind} has an invalid due time`);
    const due = dueAt.toISOString();
    const key = this.key(timer);
    // Already due: into the current hour's bucket, which the next sweep reads whatever the look-back.
    const hour = timerHour(new Date(Math.max(dueAt.getTime(), now.getTime())));
    return {
      ...key,
      entity: 'timer',
      customerId: timer.customerId,
      kind: timer.kind,
      key: timer.key,
      dueAt: due,
      payload: timer.payload,
      setAt: now.toISOString(),
      attempts: 0,
      timerBucket: timerBucket(hour, key.pk, key.sk),
      timerDue: due,
      expiresAt: Math.floor(dueAt.getTime() / 1000) + this.retentionS,
    };
  }

  /** Sets timers none of which exists yet: batch writes (25 a call), no read, no condition. */
  async setNew(timers: readonly TimerSpec[], now: Date): Promise<void> {
    const items = timers.map((t) => this.item(t, now));
    await batchPutAll(this.doc, this.table, items);
  }

  async pendingAmong(timers: readonly TimerKey[]): Promise<TimerKey[]> {
    const { items } = await batchGetAll(this.doc, this.table, timers.map((t) => this.key(t)), { ConsistentRead: true, ProjectionExpression: 'pk, sk, timerBucket' });
    const pending = new Set(items.filter((i) => i.timerBucket !== undefined).map((i) => `${String(i.pk)}\n${String(i.sk)}`));
    return timers.filter((t) => {
      const k = this.key(t);
      return pending.has(`${k.pk}\n${k.sk}`);
    });
  }

  async cancel(timer: TimerKey): Promise<void> {
    await this.doc
      .send(new DeleteCommand({ TableName: this.table, Key: this.key(timer), ConditionExpression: 'attribute_exists(timerBucket)' }))
      .catch((e) => {
        if (!isConditionalFailure(e)) throw e;
      });
  }

  async due(now: Date, limit: number): Promise<PendingTimer[]> {
    const nowIso = now.toISOString();
    const currentHour = Math.floor(now.getTime() / HOUR_MS);
    const buckets: { bucket: string; settled: boolean }[] = [];
    for (let h = currentHour - this.lookbackHours; h <= currentHour; h++) {
      // Settled: an hour before the previous one (the previous hour's last sets may still be reaching the index).
      for (const bucket of timerBuckets(timerHour(new Date(h * HOUR_MS)))) if (!this.emptyBuckets.has(bucket)) buckets.push({ bucket, settled: h < currentHour - 1 });
    }
    const found: PendingTimer[] = [];
    // Oldest buckets first, a few at once; stop once `limit` timers are in hand (every older bucket was read).
    for (let i = 0; i < buckets.length && found.length < limit; i += this.queryConcurrency) {
      const chunk = buckets.slice(i, i + this.queryConcurrency);
      const pages = await Promise.all(chunk.map((b) => this.queryBucket(b.bucket, nowIso, limit)));
      pages.forEach((p, k) => {
        if (p.length === 0 && chunk[k]!.settled) this.emptyBuckets.add(chunk[k]!.bucket);
        found.push(...p);
      });
    }
    if (this.emptyBuckets.size > 4 * (this.lookbackHours + 2) * TIMER_SHARDS) this.emptyBuckets.clear();
    return found.sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0)).slice(0, limit);
  }

  private async queryBucket(bucket: string, nowIso: string, limit: number): Promise<PendingTimer[]> {
    const out: PendingTimer[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: TIMER_INDEX,
          KeyConditionExpression: 'timerBucket = :b AND timerDue <= :now',
          ExpressionAttributeValues: { ':b': bucket, ':now': nowIso },
          Limit: limit - out.length,
          ExclusiveStartKey,
        }),
      );
      out.push(...(page.Items ?? []).map(pendingOf));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && out.length < limit);
    return out;
  }

  async markFired(timer: PendingTimer, at: Date): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(timer),
          UpdateExpression: 'SET firedAt = :at REMOVE timerBucket, timerDue',
          ConditionExpression: 'dueAt = :due AND attribute_exists(timerBucket)',
          ExpressionAttributeValues: { ':at': at.toISOString(), ':due': timer.dueAt },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionalFailure(e)) return false;
      throw e;
    }
  }

  async markFailed(timer: PendingTimer, error: string, at: Date, maxAttempts: number): Promise<'retry' | 'gave-up'> {
    const giveUp = timer.attempts + 1 >= maxAttempts;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(timer),
          UpdateExpression: giveUp
            ? 'SET attempts = :attempts, lastError = :error, gaveUpAt = :at REMOVE timerBucket, timerDue'
            : 'SET attempts = :attempts, lastError = :error',
          ConditionExpression: 'dueAt = :due AND attribute_exists(timerBucket)',
          ExpressionAttributeValues: { ':attempts': timer.attempts + 1, ':error': error, ':due': timer.dueAt, ...(giveUp ? { ':at': at.toISOString() } : {}) },
        }),
      );
    } catch (e) {
      // Moved or cancelled meanwhile: nothing to record against it.
      if (isConditionalFailure(e)) return 'retry';
      throw e;
    }
    return giveUp ? 'gave-up' : 'retry';
  }
}
