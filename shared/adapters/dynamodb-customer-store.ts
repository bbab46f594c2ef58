/**
 * CustomerStore on the single DynamoDB table (see docs/data-model.md).
 *
 * recordEvent: one transaction puts the event item (condition: not there yet,
 * which makes redelivery a no-op) and the new profile (condition: the version
 * we read, which makes concurrent writers retry instead of losing an update).
 */
import { batchGetAll } from './dynamodb-batch.ts';
import { recordOf } from './dynamodb-consent-ledger.ts';
import { consentHistory } from '../consent/ledger.ts';
import { createHash } from 'node:crypto';
import type { TransactionCanceledException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { toUtcIso, type CustomerProfile } from '../customers/profile.ts';
import { defaults } from '../defaults.ts';
import { SK, SK_PREFIX, customerPk, scoringShard } from '../data-model/keys.ts';
import { scoringViewOf } from '../scoring/scoring-view.ts';
import type { BusinessEvent } from '../events/catalog.ts';
import type {
  ClaimOptions,
  ClaimResult,
  CustomerReader,
  CustomerRecord,
  CustomerStore,
  ProfileFold,
  PublishedItem,
  RecordedTrigger,
  RecordEventResult,
  RecordEventsOptions,
  SendClaim,
  SendRecord,
  TriggerDecision,
  TriggerRecord,
} from '../ports.ts';

export type DynamoCustomerStoreOptions = {
  tableName: string;
  /** How events fold into a profile (the domain's `emptyProfile` and `applyEvent`). */
  profiles: ProfileFold;
  /** Days a stored event is kept before TTL removes it. */
  eventRetentionDays?: number;
  /** Days send-ledger entries and triggers are kept. */
  ledgerRetentionDays?: number;
  /** Attempts when concurrent writers race on one profile. */
  maxConflictRetries?: number;
};

const PROFILE_KEYS = ['pk', 'sk', 'scoringShard', 'scoringView', 'version', 'updatedAt', 'entity'] as const;
const DAY_S = 86_400;
/** Events per transaction (DynamoDB allows 100 items; one is the profile). */
const MAX_EVENTS_PER_TRANSACTION = 50;
/** Event bytes per transaction, under DynamoDB's 4 MB limit with room for the profile. */
const MAX_TRANSACTION_EVENT_BYTES = 3 * 1024 * 1024;

/** A business event's item: keyed on its customer and its eventId, as ingest and the backfill store it. */
export function eventItem(event: BusinessEvent, receivedAt: Date, ttlSeconds: number) {
  const d = event.detail;
  return {
    pk: customerPk(d.customerId),
    sk: SK.event(d.eventId),
    entity: 'event',
    type: event.type,
    source: event.source,
    customerId: d.customerId,
    eventId: d.eventId,
    occurredAt: toUtcIso(d.occurredAt),
    receivedAt: receivedAt.toISOString(),
    detail: d,
    expiresAt: Math.floor(receivedAt.getTime() / 1000) + ttlSeconds,
  };
}

/** Attributes of the profile item that are not the profile's but are kept by every write: the backfill's batch tokens (shared/backfill). */
export type ProfileItemExtras = { backfillBatches?: string[] };

/**
 * A profile's item, with its scoring view (JSON) for the `byScoringShard` index: every writer of a
 * profile item (ingest, the backfill) writes it here, so it never lags the profile.
 */
export function profileItemOf(customerId: string, profile: CustomerProfile, version: number, updatedAt: Date, extras: ProfileItemExtras = {}) {
  return {
    ...profile,
    ...extras,
    pk: customerPk(customerId),
    sk: SK.profile,
    entity: 'profile',
    scoringShard: scoringShard(customerId),
    scoringView: JSON.stringify(scoringViewOf(profile)),
    version,
    updatedAt: updatedAt.toISOString(),
  };
}

/** The profile, version and extras of a profile item (none: version 0). */
export function profileOfItem(customerId: string, Item: Record<string, unknown> | undefined, profiles: Pick<ProfileFold, 'empty'>): { profile?: CustomerProfile; version: number; extras: ProfileItemExtras } {
  if (!Item) return { version: 0, extras: {} };
  const { backfillBatches, ...profile } = Item as Record<string, unknown>;
  for (const k of PROFILE_KEYS) delete profile[k];
  // Defaults first: a profile written before a field existed still reads as a complete profile.
  return {
    profile: { ...profiles.empty(customerId), ...(profile as Partial<CustomerProfile>) },
    version: Number(Item.version ?? 0),
    extras: backfillBatches === undefined ? {} : { backfillBatches: backfillBatches as string[] },
  };
}

export class ConcurrentUpdateError extends Error {
  override name = 'ConcurrentUpdateError';
}

function isConditionalFailure(e: unknown): boolean {
  return (e as Error)?.name === 'ConditionalCheckFailedException';
}

/** A send-ledger item as the domain's SendRecord (the table's own attributes left out). */
function sendRecordOf(i: Record<string, unknown>): SendRecord {
  const { sendId, customerId, campaign, status, at, reason, messageId, publishedAt, deferredUntil } = i as SendRecord;
  return { sendId, customerId, campaign, status, at, reason, messageId, publishedAt, ...(deferredUntil ? { deferredUntil } : {}) };
}

export class DynamoCustomerStore implements CustomerStore, CustomerReader {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly eventTtlS: number;
  private readonly ledgerTtlS: number;
  private readonly maxRetries: number;
  private readonly profiles: ProfileFold;

  constructor(client: DynamoDBClient, options: DynamoCustomerStoreOptions) {
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
    this.table = options.tableName;
    this.eventTtlS = (options.eventRetentionDays ?? defaults.eventRetentionDays) * DAY_S;
    this.ledgerTtlS = (options.ledgerRetentionDays ?? defaults.ledgerRetentionDays) * DAY_S;
    this.maxRetries = options.maxConflictRetries ?? 25;
    this.profiles = options.profiles;
  }

  private async readProfileItem(customerId: string): Promise<{ profile?: CustomerProfile; version: number; extras: ProfileItemExtras }> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: customerPk(customerId), sk: SK.profile }, ConsistentRead: true }),
    );
    return profileOfItem(customerId, Item, this.profiles);
  }

  async getProfile(customerId: string): Promise<CustomerProfile | undefined> {
    return (await this.readProfileItem(customerId)).profile;
  }

  async recordEvent(event: BusinessEvent, receivedAt: Date): Promise<RecordEventResult> {
    const [result] = await this.recordEvents(event.detail.customerId, [event], receivedAt);
    return result!;
  }

  /**
   * Stores events of one customer and folds them into the profile with one read and one
   * transaction per chunk: event puts on the condition that each is new, and the profile put
   * on the condition that its version is the one read. A cancelled transaction tells which
   * events were already there (duplicates: dropped, the rest retried) and whether another
   * writer won the profile (re-read and retry).
   */
  async recordEvents(customerId: string, events: BusinessEvent[], receivedAt: Date, options: RecordEventsOptions = {}): Promise<RecordEventResult[]> {
    const results: RecordEventResult[] = new Array(events.length);
    const firstIndex = new Map<string, number>();
    let pending: number[] = [];
    events.forEach((e, i) => {
      if (e.detail.customerId !== customerId) throw new Error('recordEvents takes the events of one customer');
      if (firstIndex.has(e.detail.eventId)) results[i] = { status: 'duplicate' };
      else {
        firstIndex.set(e.detail.eventId, i);
        pending.push(i);
      }
    });
    if (options.mayBeStored && pending.length > 0) {
      // A redelivery: the events an earlier attempt stored are duplicates, known from one consistent read rather
      // than from a cancelled transaction (which costs its writes, and on DynamoDB Local a slow rollback).
      const keys = pending.map((i) => ({ pk: customerPk(customerId), sk: SK.event(events[i]!.detail.eventId) }));
      const { items } = await batchGetAll(this.doc, this.table, keys, { ConsistentRead: true, ProjectionExpression: 'sk' });
      const there = new Set(items.map((item) => String(item.sk)));
      for (const i of pending) if (there.has(SK.event(events[i]!.detail.eventId))) results[i] = { status: 'duplicate' };
      pending = pending.filter((i) => results[i] === undefined);
    }
    for (let start = 0; start < pending.length; ) {
      // A transaction holds at most 100 items and 4 MB: chunk by count and by size.
      let bytes = 0;
      let end = start;
      while (end < pending.length && end - start < MAX_EVENTS_PER_TRANSACTION) {
        const size = Buffer.byteLength(JSON.stringify(events[pending[end]!]!.detail), 'utf8') + 1024;
        if (end > start && bytes + size > MAX_TRANSACTION_EVENT_BYTES) break;
        bytes += size;
        end++;
      }
      const stored = await this.writeChunk(customerId, pending.slice(start, end).map((i) => events[i]!), receivedAt);
      stored.forEach((r, k) => (results[pending[start + k]!] = r));
      start = end;
    }
    return results;
  }

  private async writeChunk(customerId: string, chunk: BusinessEvent[], receivedAt: Date): Promise<RecordEventResult[]> {
    const pk = customerPk(customerId);
    const duplicate = new Set<number>();
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const live = chunk.map((_, i) => i).filter((i) => !duplicate.has(i));
      if (live.length === 0) break;
      const { profile, version, extras } = await this.readProfileItem(customerId);
      const folded: CustomerProfile[] = [];
      let next = profile ?? this.profiles.empty(customerId);
      for (const i of live) folded.push((next = this.profiles.apply(next, chunk[i]!)));
      const profileItem = profileItemOf(customerId, next, version + 1, receivedAt, extras);
      try {
        await this.doc.send(
          new TransactWriteCommand({
            // Same writes, same token: an SDK retry of a transaction that went through succeeds instead of
            // conflicting. The receipt time makes each delivery's token its own (a token reused with other
            // parameters within 10 minutes would be refused).
            ClientRequestToken: createHash('sha256')
              .update(`${pk}\n${version}\n${receivedAt.toISOString()}\n${live.map((i) => chunk[i]!.detail.eventId).join('\n')}`)
              .digest('base64url')
              .slice(0, 36),
            TransactItems: [
              ...live.map((i) => ({
                Put: { TableName: this.table, Item: eventItem(chunk[i]!, receivedAt, this.eventTtlS), ConditionExpression: 'attribute_not_exists(pk)' },
              })),
              {
                Put: {
                  TableName: this.table,
                  Item: profileItem,
                  ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
                  ExpressionAttributeValues: version === 0 ? undefined : { ':v': version },
                },
              },
            ],
          }),
        );
        return chunk.map((_, i) => (duplicate.has(i) ? { status: 'duplicate' } : { status: 'stored', profile: folded[live.indexOf(i)]! }));
      } catch (e) {
        if ((e as Error).name !== 'TransactionCanceledException') throw e;
        const reasons = (e as TransactionCanceledException).CancellationReasons ?? [];
        let found = false;
        live.forEach((i, k) => {
          if (reasons[k]?.Code === 'ConditionalCheckFailed') {
            duplicate.add(i);
            found = true;
          }
        });
        const profileReason = reasons[live.length]?.Code;
        const conflict = profileReason === 'ConditionalCheckFailed' || reasons.some((r) => r.Code === 'TransactionConflict');
        if (!found && !conflict) throw e;
        // Duplicates alone: retry at once without them. Lost a race: full-jitter exponential backoff, capped at 1 s.
        if (conflict) await new Promise((r) => setTimeout(r, Math.random() * Math.min(1000, 10 * 2 ** attempt)));
      }
    }
    if (chunk.every((_, i) => duplicate.has(i))) return chunk.map(() => ({ status: 'duplicate' }));
    throw new ConcurrentUpdateError(`profile of customer kept changing during ${this.maxRetries} attempts`);
  }

  async getTrigger(customerId: string, triggerId: string): Promise<RecordedTrigger | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: customerPk(customerId), sk: SK.trigger(triggerId) }, ConsistentRead: true }),
    );
    return Item ? { firedAt: String(Item.firedAt), published: Item.publishedAt !== undefined } : undefined;
  }

  async recordTrigger(trigger: TriggerDecision, firedAt: Date): Promise<RecordedTrigger> {
    const item = {
      pk: customerPk(trigger.customerId),
      sk: SK.trigger(trigger.triggerId),
      entity: 'trigger',
      // in the byScoringShard index, next to the customer's profile: the nightly run reads it there
      scoringShard: scoringShard(trigger.customerId),
      ...trigger,
      firedAt: firedAt.toISOString(),
      expiresAt: Math.floor(firedAt.getTime() / 1000) + this.ledgerTtlS,
    };
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return { firedAt: item.firedAt, published: false };
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
      return (await this.getTrigger(trigger.customerId, trigger.triggerId)) ?? { firedAt: item.firedAt, published: false };
    }
  }

  async markPublished(customerId: string, item: PublishedItem, at: Date): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: customerPk(customerId), sk: item.kind === 'trigger' ? SK.trigger(item.triggerId) : SK.send(item.sendId) },
        UpdateExpression: 'SET publishedAt = if_not_exists(publishedAt, :at)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      }),
    );
  }

  async recentSends(customerId: string, since: Date): Promise<{ records: SendRecord[]; ledgerVersion: number }> {
    // The version first: a claim made after this read bumps it, so a decision taken on these records cannot be claimed.
    const { Item: ledger } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: customerPk(customerId), sk: SK.sendLedger }, ConsistentRead: true }),
    );
    const items = await this.itemsWithPrefix(customerId, SK_PREFIX.send, since.toISOString());
    return { records: items.map(sendRecordOf), ledgerVersion: Number(ledger?.version ?? 0) };
  }

  async claimSend(entry: SendClaim, now: Date, leaseSeconds: number, ledgerVersion: number, options: ClaimOptions = {}): Promise<ClaimResult> {
    const timeout = options.submittedTimeoutSeconds;
    const pk = customerPk(entry.customerId);
    const key = { pk, sk: SK.send(entry.sendId) };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: {
                  ...key,
                  entity: 'send',
                  ...entry,
                  status: 'sending',
                  at: now.toISOString(),
                  leaseUntil: now.getTime() + leaseSeconds * 1000,
                  expiresAt: Math.floor(now.getTime() / 1000) + this.ledgerTtlS,
                },
                // Free: no entry, a deferred one (planned again), a claim whose lease ran out, or (with a timeout)
                // a submission no SES event confirmed within it: SES never took it.
                ConditionExpression:
                  'attribute_not_exists(pk) OR #s = :deferred OR (#s = :sending AND leaseUntil < :now)' +
                  (timeout === undefined ? '' : ' OR (#s = :submitted AND #at < :submittedBefore)'),
                ExpressionAttributeNames: { '#s': 'status', ...(timeout === undefined ? {} : { '#at': 'at' }) },
                ExpressionAttributeValues: {
                  ':sending': 'sending',
                  ':deferred': 'deferred',
                  ':now': now.getTime(),
                  ...(timeout === undefined ? {} : { ':submitted': 'submitted', ':submittedBefore': new Date(now.getTime() - timeout * 1000).toISOString() }),
                },
              },
            },
            {
              // The customer's ledger version: claims of one customer are serialised, so caps hold across workers.
              Update: {
                TableName: this.table,
                Key: { pk, sk: SK.sendLedger },
                // lastClaimAt: the nightly run reads the ledger entries only of customers claimed since its window began (campaign response)
                // scoringShard: in the byScoringShard index, where the nightly run reads lastClaimAt
                UpdateExpression: 'SET version = :next, entity = :entity, lastClaimAt = :at, scoringShard = :shard',
                ConditionExpression: ledgerVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
                ExpressionAttributeValues: {
                  ':next': ledgerVersion + 1,
                  ':entity': 'send-ledger',
                  ':at': now.toISOString(),
                  ':shard': scoringShard(entry.customerId),
                  ...(ledgerVersion === 0 ? {} : { ':v': ledgerVersion }),
                },
              },
            },
          ],
        }),
      );
      return { state: 'claimed' };
    } catch (e) {
      if ((e as Error).name !== 'TransactionCanceledException') throw e;
      const reasons = (e as TransactionCanceledException).CancellationReasons ?? [];
      if (reasons[0]?.Code !== 'ConditionalCheckFailed') {
        if (reasons[1]?.Code === 'ConditionalCheckFailed' || reasons.some((r) => r.Code === 'TransactionConflict')) return { state: 'stale' };
        throw e;
      }
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      if (!Item || Item.status === 'sending') return { state: 'busy' };
      return { state: 'done', record: sendRecordOf(Item) };
    }
  }

  async markSubmitted(entries: readonly { customerId: string; sendId: string }[], now: Date): Promise<void> {
    // One conditional update per entry (only a `sending` claim becomes `submitted`), in parallel.
    await Promise.all(
      entries.map(({ customerId, sendId }) =>
        this.doc
          .send(
            new UpdateCommand({
              TableName: this.table,
              Key: { pk: customerPk(customerId), sk: SK.send(sendId) },
              UpdateExpression: 'SET #s = :submitted, #at = :at REMOVE leaseUntil',
              ConditionExpression: '#s = :sending',
              ExpressionAttributeNames: { '#s': 'status', '#at': 'at' },
              ExpressionAttributeValues: { ':submitted': 'submitted', ':sending': 'sending', ':at': now.toISOString() },
            }),
          )
          .catch((e) => {
            if (!isConditionalFailure(e)) throw e;
          }),
      ),
    );
  }

  async completeSend(entry: SendRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: customerPk(entry.customerId),
          sk: SK.send(entry.sendId),
          entity: 'send',
          ...entry,
          expiresAt: Math.floor(Date.parse(entry.at) / 1000) + this.ledgerTtlS,
        },
      }),
    );
  }

  async confirmSubmitted(customerId: string, sendId: string, messageId: string, at: Date): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: customerPk(customerId), sk: SK.send(sendId) },
          UpdateExpression: 'SET #s = :sent, #at = :at, messageId = :m, reason = :reason',
          ConditionExpression: '#s = :submitted',
          ExpressionAttributeNames: { '#s': 'status', '#at': 'at' },
          ExpressionAttributeValues: { ':sent': 'sent', ':submitted': 'submitted', ':at': at.toISOString(), ':m': messageId, ':reason': 'confirmed-by-ses-event' },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionalFailure(e)) return false;
      throw e;
    }
  }

  async releaseSend(customerId: string, sendId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: customerPk(customerId), sk: SK.send(sendId) },
        ConditionExpression: '#s IN (:sending, :submitted)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':sending': 'sending', ':submitted': 'submitted' },
      }),
    ).catch((e) => {
      if (!isConditionalFailure(e)) throw e;
    });
  }

  /** Every item of the customer's partition whose sort key starts with `prefix` (and, if given, whose `at` is at or after `since`). */
  private async itemsWithPrefix(customerId: string, prefix: string, since?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ...(since === undefined ? {} : { FilterExpression: '#at >= :since', ExpressionAttributeNames: { '#at': 'at' } }),
          ExpressionAttributeValues: { ':pk': customerPk(customerId), ':prefix': prefix, ...(since === undefined ? {} : { ':since': since }) },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  /** The profile, every recorded trigger, the whole send ledger and the consent ledger of a customer (for operators: `clm customer`). */
  async readCustomer(customerId: string): Promise<CustomerRecord> {
    const [{ profile }, triggerItems, sendItems, consentItems] = await Promise.all([
      this.readProfileItem(customerId),
      this.itemsWithPrefix(customerId, SK_PREFIX.trigger),
      this.itemsWithPrefix(customerId, SK_PREFIX.send),
      this.itemsWithPrefix(customerId, SK_PREFIX.consent),
    ]);
    const triggers = triggerItems.map((i) => {
      const { pk: _pk, sk: _sk, entity: _entity, expiresAt: _expiresAt, ...trigger } = i;
      return trigger as TriggerRecord;
    });
    return { customerId, profile, triggers, sends: sendItems.map(sendRecordOf), consent: consentHistory(consentItems.map(recordOf)) };
  }
}
