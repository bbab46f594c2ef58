/**
 * ConsentLedger on the single table: one item per record, `CUST#<id>` / `CONSENT#<at>#<recordId>`,
 * put once (`attribute_not_exists`), never updated, no TTL: the records stay until the customer
 * is erased. The sort key orders a customer's history by time, so an auditor's read is one Query.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SK, SK_PREFIX, customerPk } from '../data-model/keys.ts';
import { consentHistory, type ConsentRecord } from '../consent/ledger.ts';
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

  async append(records: readonly ConsentRecord[]): Promise<void> {
    await Promise.all(
      records.map(async (r) => {
        try {
          await this.doc.send(
            new PutCommand({
              TableName: this.options.tableName,
              Item: { pk: customerPk(r.customerId), sk: SK.consent(r.at, r.recordId), entity: 'consent', ...r },
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
