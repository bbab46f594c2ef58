/**
 * PrivacyStore on the single table (docs/erasure.md): tombstones (`ERASED#<hash>`), the suppression list
 * (`SUPPRESS#<hash>`), erasure records (`ERASURE#<YYYY-MM>`/`<erasureId>`), all without TTL; and
 * the deletion of a customer's partition (Query of its keys, BatchWriteItem deletes, 25 a call,
 * unprocessed ones retried with full-jitter backoff). The salt of the hashes is not in the table: it
 * comes from `salt` (the Secrets Manager secret in AWS and in the local stack:
 * shared/adapters/secrets-manager-privacy-salt.ts), so reading the table is not enough to test
 * guessed addresses against the suppression list.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { OUTREACH_UNPUBLISHED_PK, PRIVACY, customerPk, erasedOutreachSk, outreachPk, outreachSk, outreachTaskSk, outreachTasksPk, outreachUnpublishedSk } from '../data-model/keys.ts';
import type { ErasedOutreach } from '../privacy/outreach-residue.ts';
import type { OutreachAssignment } from '../scoring/outreach.ts';
import { itemKind, type ErasureRecord } from '../privacy/erasure.ts';
import type { PrivacyStore } from '../ports.ts';

const conditionFailed = (e: unknown): boolean => (e as Error)?.name === 'ConditionalCheckFailedException';
const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(1000, 20 * 2 ** attempt)));
const MAX_ATTEMPTS = 10;

export class DynamoPrivacyStore implements PrivacyStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly options: { tableName: string; salt: () => Promise<string> },
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  private get table() {
    return this.options.tableName;
  }

  salt(): Promise<string> {
    return this.options.salt();
  }

  private async putOnce(pk: string, item: Record<string, unknown>): Promise<void> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk, sk: PRIVACY.sk, ...item }, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
  }

  putTombstone(customerHash: string, at: Date): Promise<void> {
    return this.putOnce(PRIVACY.tombstonePk(customerHash), { entity: 'tombstone', erasedAt: at.toISOString() });
  }

  suppress(emailHash: string, at: Date): Promise<void> {
    return this.putOnce(PRIVACY.suppressionPk(emailHash), { entity: 'suppression', suppressedAt: at.toISOString() });
  }

  async isSuppressedHash(emailHash: string): Promise<boolean> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: PRIVACY.suppressionPk(emailHash), sk: PRIVACY.sk }, ConsistentRead: true }));
    return Item !== undefined;
  }

  async hasTombstone(customerHash: string): Promise<boolean> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: PRIVACY.tombstonePk(customerHash), sk: PRIVACY.sk }, ProjectionExpression: 'pk', ConsistentRead: true }));
    return Item !== undefined;
  }

  async tombstonesAmong(customerHashes: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const unique = [...new Set(customerHashes)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] = unique.slice(i, i + 100).map((h) => ({ pk: PRIVACY.tombstonePk(h), sk: PRIVACY.sk }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= MAX_ATTEMPTS) throw new Error(`tombstones still unprocessed after ${MAX_ATTEMPTS} attempts`);
        if (attempt > 0) await pause(attempt);
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ProjectionExpression: 'pk', ConsistentRead: true } } }));
        for (const item of out.Responses?.[this.table] ?? []) found.add(String(item.pk).slice('ERASED#'.length));
        keys = (out.UnprocessedKeys?.[this.table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    }
    return found;
  }

  /** BatchWriteItem deletes, 25 a call, unprocessed ones retried with backoff. */
  private async deleteKeys(keys: readonly { pk: string; sk: string }[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      let requests = keys.slice(i, i + 25).map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= MAX_ATTEMPTS) throw new Error(`deletes still unprocessed after ${MAX_ATTEMPTS} attempts`);
        if (attempt > 0) await pause(attempt);
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } }));
        requests = (out.UnprocessedItems?.[this.table] as typeof requests | undefined) ?? [];
      }
    }
  }

  async deletePartition(customerId: string): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': customerPk(customerId) },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      const keys = (page.Items ?? []) as { pk: string; sk: string }[];
      await this.deleteKeys(keys);
      for (const k of keys) deleted[itemKind(k.sk)] = (deleted[itemKind(k.sk)] ?? 0) + 1;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return deleted;
  }

  async outreachAssignmentsOf(customerId: string, experimentIds: readonly string[], periods: readonly string[]): Promise<OutreachAssignment[]> {
    const keys = experimentIds.flatMap((e) => periods.map((p) => ({ pk: outreachPk(e, p), sk: outreachSk(customerId) })));
    const found: OutreachAssignment[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let batch: Record<string, unknown>[] = keys.slice(i, i + 100);
      for (let attempt = 0; batch.length > 0; attempt++) {
        if (attempt >= MAX_ATTEMPTS) throw new Error(`outreach assignments still unprocessed after ${MAX_ATTEMPTS} attempts`);
        if (attempt > 0) await pause(attempt);
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: batch, ConsistentRead: true } } }));
        for (const item of out.Responses?.[this.table] ?? []) {
          const { pk: _pk, sk: _sk, entity: _e, ...assignment } = item;
          found.push(assignment as OutreachAssignment);
        }
        batch = (out.UnprocessedKeys?.[this.table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    }
    return found.sort((a, b) => a.period.localeCompare(b.period) || a.experimentId.localeCompare(b.experimentId));
  }

  async replaceOutreachAssignment(assignment: OutreachAssignment, residue: ErasedOutreach): Promise<boolean> {
    const pk = outreachPk(assignment.experimentId, assignment.period);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: this.table, Key: { pk, sk: outreachSk(assignment.customerId) }, ConditionExpression: 'attribute_exists(pk)' } },
            { Put: { TableName: this.table, Item: { pk, sk: erasedOutreachSk(randomUUID()), entity: 'outreach-erased', ...residue } } },
            { Delete: { TableName: this.table, Key: { pk: OUTREACH_UNPUBLISHED_PK, sk: outreachUnpublishedSk(assignment.experimentId, assignment.period, assignment.customerId) } } },
          ],
        }),
      );
      return true;
    } catch (e) {
      // Gone already: an earlier attempt replaced it.
      const reasons = (e as TransactionCanceledException).CancellationReasons ?? [];
      if ((e as Error).name === 'TransactionCanceledException' && reasons[0]?.Code === 'ConditionalCheckFailed') return false;
      throw e;
    }
  }

  async deleteOutreachTasks(customerId: string, days: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const day of days) {
      const { Items } = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :task)',
          FilterExpression: 'customerId = :id',
          ExpressionAttributeValues: { ':pk': outreachTasksPk(day), ':task': outreachTaskSk(''), ':id': customerId },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
        }),
      );
      await this.deleteKeys((Items ?? []) as { pk: string; sk: string }[]);
      deleted += Items?.length ?? 0;
    }
    return deleted;
  }

  async recordErasure(record: ErasureRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { pk: PRIVACY.erasurePk(record.erasedAt.slice(0, 7)), sk: record.erasureId, entity: 'erasure', ...record } }),
    );
  }
}
