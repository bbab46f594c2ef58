/**
 * BackfillStore on the single table (shared/backfill/backfill.ts; docs/backfill.md).
 *
 * - readCustomers: BatchGetItem (strongly consistent) of the PROFILE items; then, for a
 *   customer with a profile, BatchGetItem of the batch's EVT# keys, and for one without, a
 *   Query of the partition's EVT# items (empty unless a batch stored events and has not folded
 *   them yet): only their key and backfill marker projected.
 * - writeEvents: BatchWriteItem of the EVT# items exactly as ingest writes them
 *   (shared/adapters/dynamodb-customer-store.ts), plus `backfill` (the batch token) and
 *   `backfillAt`; unprocessed items retried with backoff. The churn-triggers stream filter
 *   leaves out items with a `backfill` attribute, so backfilled history fires nothing.
 * - writeProfile: PutItem of the profile item as ingest writes it, plus `backfillBatches` (the
 *   tokens folded into it), on the condition that its version is the one read.
 * - recordBatch / recordFailure / runRecords: one item per batch result or failure under
 *   `BACKFILL#<runId>`, sorted by file (TTL'd); a file's are read with one Query.
 *
 * Read and write units consumed are added up in `consumed` (ReturnConsumedCapacity).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { BackfillCustomerState, BackfillEventWrite, BackfillStore, BatchResult, FailedBatch } from '../backfill/backfill.ts';
import type { CustomerProfile } from '../customers/profile.ts';
import { backfillBatchSk, backfillFailureSk, backfillFilePrefix, backfillRunPk, customerIdFromPk, customerPk, SK, SK_PREFIX } from '../data-model/keys.ts';
import { defaults } from '../defaults.ts';
import type { ProfileFold } from '../ports.ts';
import { batchGetAll, batchPutAll, type BatchOptions } from './dynamodb-batch.ts';
import { eventItem, profileItemOf, profileOfItem } from './dynamodb-customer-store.ts';

export type DynamoBackfillStoreOptions = BatchOptions & {
  tableName: string;
  profiles: ProfileFold;
  /** Days a stored business event is kept before TTL removes it (as ingest keeps it). */
  eventRetentionDays?: number;
  /** Days a run's batch results are kept. */
  resultRetentionDays?: number;
};

type Capacity = { CapacityUnits?: number } | undefined;
const DAY_S = 86_400;

export class DynamoBackfillStore implements BackfillStore {
  readonly consumed = { readUnits: 0, writeUnits: 0 };
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly profiles: ProfileFold;
  private readonly eventTtlS: number;
  private readonly resultTtlS: number;
  private readonly batch: BatchOptions;

  constructor(client: DynamoDBClient, options: DynamoBackfillStoreOptions) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
    this.table = options.tableName;
    this.profiles = options.profiles;
    this.eventTtlS = (options.eventRetentionDays ?? defaults.eventRetentionDays) * DAY_S;
    this.resultTtlS = (options.resultRetentionDays ?? 90) * DAY_S;
    this.batch = { concurrency: options.concurrency, maxAttempts: options.maxAttempts, backoffBaseMs: options.backoffBaseMs };
  }

  private count(c: Capacity, kind: 'readUnits' | 'writeUnits'): void {
    this.consumed[kind] += c?.CapacityUnits ?? 0;
  }

  async readCustomers(wanted: { customerId: string; eventIds: string[] }[]): Promise<Map<string, BackfillCustomerState>> {
    const profiles = await batchGetAll(this.doc, this.table, wanted.map(({ customerId }) => ({ pk: customerPk(customerId), sk: SK.profile })), { ConsistentRead: true }, this.batch);
    this.consumed.readUnits += profiles.consumedReadUnits;
    const states = new Map<string, BackfillCustomerState>(wanted.map(({ customerId }) => [customerId, { version: 0, batches: [], stored: new Map() }]));
    for (const item of profiles.items) {
      const customerId = customerIdFromPk(String(item.pk));
      const { profile, version, extras } = profileOfItem(customerId, item, this.profiles);
      states.set(customerId, { ...states.get(customerId)!, profile, version, batches: extras.backfillBatches ?? [] });
    }
    const mark = (item: Record<string, unknown>) => {
      const eventId = String(item.sk).slice(SK_PREFIX.event.length);
      states.get(customerIdFromPk(String(item.pk)))?.stored.set(eventId, item.backfill === undefined ? {} : { token: String(item.backfill), at: String(item.backfillAt) });
    };
    // A customer with a profile: the batch's event keys. One without: at most the events of a batch that
    // has not folded them yet, so one Query of the partition's EVT# items (usually empty) reads them all.
    const known = wanted.filter(({ customerId }) => states.get(customerId)!.version > 0);
    const unknown = wanted.filter(({ customerId }) => states.get(customerId)!.version === 0);
    const [events] = await Promise.all([
      batchGetAll(
        this.doc,
        this.table,
        known.flatMap(({ customerId, eventIds }) => eventIds.map((id) => ({ pk: customerPk(customerId), sk: SK.event(id) }))),
        { ConsistentRead: true, ProjectionExpression: 'pk, sk, backfill, backfillAt' },
        this.batch,
      ),
      ...unknown.map(async ({ customerId }) => {
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        do {
          const page = await this.doc.send(
            new QueryCommand({
              TableName: this.table,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)',
              ExpressionAttributeValues: { ':pk': customerPk(customerId), ':evt': SK_PREFIX.event },
              ProjectionExpression: 'pk, sk, backfill, backfillAt',
              ConsistentRead: true,
              ExclusiveStartKey,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          );
          this.count(page.ConsumedCapacity, 'readUnits');
          for (const item of page.Items ?? []) mark(item);
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
      }),
    ]);
    this.consumed.readUnits += events.consumedReadUnits;
    for (const item of events.items) mark(item);
    return states;
  }

  async writeEvents(events: BackfillEventWrite[], at: Date): Promise<void> {
    const items = events.map(({ event, token }) => ({ ...eventItem(event, at, this.eventTtlS), backfill: token, backfillAt: at.toISOString() }));
    const { consumedWriteUnits } = await batchPutAll(this.doc, this.table, items, this.batch);
    this.consumed.writeUnits += consumedWriteUnits;
  }

  async writeProfile(customerId: string, profile: CustomerProfile, batches: string[], expectedVersion: number, at: Date): Promise<'written' | 'conflict'> {
    try {
      const out = await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: profileItemOf(customerId, profile, expectedVersion + 1, at, { backfillBatches: batches }),
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
          ExpressionAttributeValues: expectedVersion === 0 ? undefined : { ':v': expectedVersion },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      this.count(out.ConsumedCapacity, 'writeUnits');
      return 'written';
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') return 'conflict';
      throw e;
    }
  }

  private async putRecord(sk: string, entity: string, record: BatchResult | FailedBatch): Promise<void> {
    const out = await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: backfillRunPk(record.runId), sk, entity, ...record, expiresAt: Math.floor(Date.now() / 1000) + this.resultTtlS },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    this.count(out.ConsumedCapacity, 'writeUnits');
  }

  recordBatch(result: BatchResult): Promise<void> {
    return this.putRecord(backfillBatchSk(result.file, result.token), 'backfill-batch', result);
  }

  recordFailure(failure: FailedBatch): Promise<void> {
    return this.putRecord(backfillFailureSk(failure.file, failure.token), 'backfill-failure', failure);
  }

  async runRecords(runId: string, file: string): Promise<{ results: BatchResult[]; failures: FailedBatch[] }> {
    const results: BatchResult[] = [];
    const failures: FailedBatch[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :file)',
          ExpressionAttributeValues: { ':pk': backfillRunPk(runId), ':file': backfillFilePrefix(file) },
          ConsistentRead: true,
          ExclusiveStartKey,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      this.count(page.ConsumedCapacity, 'readUnits');
      for (const i of page.Items ?? []) {
        const { pk: _pk, sk: _sk, entity, expiresAt: _x, ...r } = i;
        if (entity === 'backfill-failure') failures.push(r as FailedBatch);
        else results.push(r as BatchResult);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return { results, failures };
  }
}
