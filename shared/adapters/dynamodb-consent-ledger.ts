/**
 * ConsentLedger on the single table: one item per record, `CUST#<id>` / `CONSENT#<at>#<recordId>`,
 * put once (`attribute_not_exists`), never updated, no TTL: the records stay until the customer
 * is erased. The sort key orders a customer's history by time, so an auditor's read is one Query.
 * In bulk (`appendAbsent`, the backfill's): one consistent BatchGetItem of the keys, then
 * BatchWriteItem of the absent records — three requests for a backfill batch's ~40 records
 * instead of 40 conditional PutItems.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SK, SK_PREFIX, customerPk } from '../data-model/keys.ts';
import { consentHistory, type ConsentRecord } from '../consent/ledger.ts';
import { batchGetAll, batchPutAll } from './dynamodb-batch.ts';
import type { ConsentLedger } from '../ports.ts';

const conditionFailed = (e: unknown): boolean => (e as Error)?.name === 'ConditionalCheckFailedException';

/** The record's own fields of an item (the table's attributes left out). */
/** A stored consent item as its record (the keys dropped). */
export function recordOf(item: Record<string, unknown>): ConsentRecord {
  const { pk: _pk, sk: _sk, entity: _entity, ...record } = item;
  return record as ConsentRecord;
}

export class DynamoConsentLedger implements ConsentLedger {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly options: { tableName: string },
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private item(r: ConsentRecord) {
    return { pk: customerPk(r.customerId), sk: SK.consent(r.at, r.recordId), entity: 'consent', ...r };
  }

  async append(records: readonly ConsentRecord[]): Promise<void> {
    await Promise.all(
      records.map(async (r) => {
        try {
          await this.doc.send(
            new PutCommand({
              TableName: this.options.tableName,
              Item: this.item(r),
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
        } catch (e) {
          // Already recorded (a redelivery): append-only, the first one stays.
          if (!conditionFailed(e)) throw e;
        }
      }),
    );
  }

  async appendAbsent(records: readonly ConsentRecord[]): Promise<void> {
    const id = (i: { pk: string; sk: string }) => `${i.pk}\n${i.sk}`;
    const items = [...new Map(records.map((r) => this.item(r)).map((i) => [id(i), i])).values()];
    if (items.length === 0) return;
    const { items: present } = await batchGetAll(this.doc, this.options.tableName, items.map(({ pk, sk }) => ({ pk, sk })), { ConsistentRead: true, ProjectionExpression: 'pk, sk' });
    const there = new Set(present.map((i) => id(i as { pk: string; sk: string })));
    await batchPutAll(this.doc, this.options.tableName, items.filter((i) => !there.has(id(i))));
  }

  async history(customerId: string): Promise<ConsentRecord[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': customerPk(customerId), ':prefix': SK_PREFIX.consent },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return consentHistory(items.map(recordOf));
  }
}
