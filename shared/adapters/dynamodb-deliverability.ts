/**
 * The deliverability circuit breaker's counts on the single table (docs/campaigns.md, "The
 * deliverability circuit breaker"; docs/data-model.md).
 *
 * - Hour buckets: `DELIVERABILITY#<shard>` / `HOUR#<yyyy-mm-ddThh>` with `sends`, `bounces`,
 *   `complaints`, added to with an atomic `ADD` and expiring (TTL) `retentionHours` after the hour.
 *   A writer picks one of `shards` partitions at random, so concurrent feedback invocations do not
 *   all write one item; a reader sums every shard's buckets of the window (one Query per shard).
 * - Counted once: each SES event is counted in one transaction with the put of its marker
 *   `DELIVERABILITY#COUNTED#<eventId>` (if absent, TTL'd like the buckets). A redelivered event finds
 *   its marker, the transaction is cancelled and taken again without it: nothing is counted twice,
 *   and nothing is counted without its marker.
 */
import type { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliverabilityCount, DeliverabilityFigures, DeliverabilityKind } from '../campaigns/circuit-breaker.ts';
import type { DeliverabilityTally } from '../ports.ts';
import { DELIVERABILITY_COUNTED_SK, deliverabilityCountedPk, deliverabilityHourSk, deliverabilityPk } from '../data-model/keys.ts';

export type DynamoDeliverabilityOptions = {
  tableName: string;
  /** Partitions the buckets are spread over (writers pick one at random; readers read all). */
  shards?: number;
  /** Hours after its hour a bucket (and a marker) expires: at least the longest window. */
  retentionHours?: number;
  /** Attempts of a transaction that conflicts with another writer of the same bucket. */
  maxAttempts?: number;
  random?: () => number;
};

const HOUR_MS = 3_600_000;
const KINDS: readonly DeliverabilityKind[] = ['sends', 'bounces', 'complaints'];
/** Markers and buckets per transaction, under DynamoDB's 100 items. */
const MAX_EVENTS_PER_TRANSACTION = 40;

/** The hour bucket of a time: `yyyy-mm-ddThh` (UTC). */
export const hourOf = (at: Date): string => at.toISOString().slice(0, 13);

export class DeliverabilityCountError extends Error {
  override name = 'DeliverabilityCountError';
}

export class DynamoDeliverability implements DeliverabilityTally {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly shards: number;
  private readonly retentionHours: number;
  private readonly maxAttempts: number;
  private readonly random: () => number;

  constructor(client: DynamoDBClient, options: DynamoDeliverabilityOptions) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.table = options.tableName;
    this.shards = options.shards ?? 8;
    this.retentionHours = options.retentionHours ?? 8 * 24;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.random = options.random ?? Math.random;
  }

  async count(entries: readonly DeliverabilityCount[]): Promise<void> {
    const unique = [...new Map(entries.map((e) => [e.eventId, e])).values()];
    for (let i = 0; i < unique.length; i += MAX_EVENTS_PER_TRANSACTION) await this.countChunk(unique.slice(i, i + MAX_EVENTS_PER_TRANSACTION));
  }

  private async countChunk(chunk: DeliverabilityCount[]): Promise<void> {
    const counted = new Set<string>();
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const live = chunk.filter((e) => !counted.has(e.eventId));
      if (live.length === 0) return;
      const shard = Math.floor(this.random() * this.shards) % this.shards;
      const byHour = new Map<string, Record<DeliverabilityKind, number>>();
      for (const e of live) {
        const hour = hourOf(e.at);
        const sums = byHour.get(hour) ?? { sends: 0, bounces: 0, complaints: 0 };
        sums[e.kind] += 1;
        byHour.set(hour, sums);
      }
      const expiresAt = (at: Date) => Math.floor(at.getTime() / 1000) + this.retentionHours * 3600;
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              ...live.map((e) => ({
                Put: {
                  TableName: this.table,
                  Item: { pk: deliverabilityCountedPk(e.eventId), sk: DELIVERABILITY_COUNTED_SK, entity: 'deliverability-counted', kind: e.kind, at: e.at.toISOString(), expiresAt: expiresAt(e.at) },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              })),
              ...[...byHour].map(([hour, sums]) => ({
                Update: {
                  TableName: this.table,
                  Key: { pk: deliverabilityPk(shard), sk: deliverabilityHourSk(hour) },
                  UpdateExpression: 'ADD sends :s, bounces :b, complaints :c SET entity = :entity, expiresAt = :exp',
                  ExpressionAttributeValues: {
                    ':s': sums.sends,
                    ':b': sums.bounces,
                    ':c': sums.complaints,
                    ':entity': 'deliverability',
                    ':exp': expiresAt(new Date(`${hour}:00:00Z`)),
                  },
                },
              })),
            ],
          }),
        );
        return;
      } catch (e) {
        if ((e as Error).name !== 'TransactionCanceledException') throw e;
        const reasons = (e as TransactionCanceledException).CancellationReasons ?? [];
        let found = false;
        live.forEach((entry, k) => {
          if (reasons[k]?.Code === 'ConditionalCheckFailed') {
            counted.add(entry.eventId);
            found = true;
          }
        });
        const conflict = reasons.some((r) => r.Code === 'TransactionConflict');
        if (!found && !conflict) throw e;
        // Counted before: again at once without them. Another writer on the bucket: full-jitter backoff, capped at 1 s.
        if (conflict) await new Promise((r) => setTimeout(r, this.random() * Math.min(1000, 20 * 2 ** attempt)));
      }
    }
    throw new DeliverabilityCountError(`deliverability counts kept conflicting during ${this.maxAttempts} attempts`);
  }

  async figures(now: Date, windowHours: number): Promise<DeliverabilityFigures> {
    const from = deliverabilityHourSk(hourOf(new Date(now.getTime() - windowHours * HOUR_MS)));
    const to = deliverabilityHourSk(hourOf(now));
    const totals: DeliverabilityFigures = { sends: 0, bounces: 0, complaints: 0 };
    await Promise.all(
      Array.from({ length: this.shards }, async (_, shard) => {
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        do {
          const page = await this.doc.send(
            new QueryCommand({
              TableName: this.table,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
              ExpressionAttributeValues: { ':pk': deliverabilityPk(shard), ':from': from, ':to': to },
              ExclusiveStartKey,
            }),
          );
          for (const item of page.Items ?? []) for (const k of KINDS) totals[k] += Number(item[k] ?? 0);
          ExclusiveStartKey = page.LastEvaluatedKey;
        } while (ExclusiveStartKey);
      }),
    );
    return totals;
  }
}
