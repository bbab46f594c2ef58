/**
 * PrivacyStore on the single table (docs/erasure.md): the salt item (`PRIVACY`/`SALT`, created
 * once with a conditional put), tombstones (`ERASED#<hash>`), the suppression list
 * (`SUPPRESS#<hash>`), erasure records (`ERASURE#<YYYY-MM>`/`<erasureId>`), all without TTL; and
 * the deletion of a customer's partition (Query of its keys, BatchWriteItem deletes, 25 a call,
 * unprocessed ones retried with full-jitter backoff).
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { PRIVACY, customerPk } from '../data-model/keys.ts';
import { itemKind, type ErasureRecord } from '../privacy/erasure.ts';
import type { PrivacyStore } from '../ports.ts';

const conditionFailed = (e: unknown): boolean => (e as Error)?.name === 'ConditionalCheckFailedException';
const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * Math.min(1000, 20 * 2 ** attempt)));
const MAX_ATTEMPTS = 10;

export class DynamoPrivacyStore implements PrivacyStore {
  private readonly doc: DynamoDBDocumentClient;
  private cachedSalt: Promise<string> | undefined;

  constructor(
    client: DynamoDBClient,
    private readonly options: { tableName: string },
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  private get table() {
    return this.options.tableName;
  }

  salt(): Promise<string> {
    this.cachedSalt ??= this.readOrCreateSalt().catch((e) => {
      this.cachedSalt = undefined;
      throw e;
    });
    return this.cachedSalt;
  }

  private async readOrCreateSalt(): Promise<string> {
    const key = { pk: PRIVACY.saltPk, sk: PRIVACY.saltSk };
    const read = async () => (await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }))).Item?.salt as string | undefined;
    const held = await read();
    if (held) return held;
    try {
      const salt = randomBytes(32).toString('hex');
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...key, entity: 'privacy-salt', salt }, ConditionExpression: 'attribute_not_exists(pk)' }));
      return salt;
    } catch (e) {
      // Another worker created it first: theirs is the salt.
      if (!conditionFailed(e)) throw e;
      return (await read())!;
    }
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
      for (let i = 0; i < keys.length; i += 25) {
        let requests = keys.slice(i, i + 25).map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt >= MAX_ATTEMPTS) throw new Error(`deletes still unprocessed after ${MAX_ATTEMPTS} attempts`);
          if (attempt > 0) await pause(attempt);
          const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } }));
          requests = (out.UnprocessedItems?.[this.table] as typeof requests | undefined) ?? [];
        }
      }
      for (const k of keys) deleted[itemKind(k.sk)] = (deleted[itemKind(k.sk)] ?? 0) + 1;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return deleted;
  }

  async recordErasure(record: ErasureRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { pk: PRIVACY.erasurePk(record.erasedAt.slice(0, 7)), sk: record.erasureId, entity: 'erasure', ...record } }),
    );
  }
}
