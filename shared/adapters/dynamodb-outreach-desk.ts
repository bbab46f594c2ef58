/**
 * OutreachDesk on the single table: the customer's SCORE item (written by the nightly run), and
 * the daily capacity of personal-outreach tasks — per UTC day one partition
 * `OUTREACHTASKS#<day>` with a `COUNT` item and one `TASK#<triggerId>` item per task. A claim is
 * one transaction: put the task item if it is not there, and add one to the count if it is below
 * the capacity. The task item already there means this trigger claimed before (a redelivery:
 * `claimed`); the count at the capacity means `full`. Both items expire after 30 days.
 */
import type { TransactionCanceledException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { OUTREACH_TASKS_COUNT_SK, SK, customerPk, outreachTaskSk, outreachTasksPk } from '../data-model/keys.ts';
import type { OutreachClaim, OutreachDesk, ValueSnapshot } from '../ports.ts';

const RETENTION_S = 30 * 86_400;

export class DynamoOutreachDesk implements OutreachDesk {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(client: DynamoDBClient, options: { tableName: string }) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.table = options.tableName;
  }

  async score(customerId: string): Promise<ValueSnapshot | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: customerPk(customerId), sk: SK.score }, ProjectionExpression: 'clv, valueTier, churnRisk, scoredOn' }));
    if (!Item || typeof Item.clv !== 'number' || typeof Item.valueTier !== 'string' || typeof Item.churnRisk !== 'number') return undefined;
    return { clv: Item.clv, valueTier: Item.valueTier, churnRisk: Item.churnRisk, scoredOn: String(Item.scoredOn ?? '') };
  }

  async claimTask(day: string, triggerId: string, customerId: string, capacity: number, now: Date): Promise<OutreachClaim> {
    if (capacity <= 0) return 'full';
    const pk = outreachTasksPk(day);
    const expiresAt = Math.floor(now.getTime() / 1000) + RETENTION_S;
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { pk, sk: outreachTaskSk(triggerId), entity: 'outreach-task', triggerId, customerId, claimedAt: now.toISOString(), expiresAt },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: { pk, sk: OUTREACH_TASKS_COUNT_SK },
                UpdateExpression: 'SET tasks = if_not_exists(tasks, :zero) + :one, entity = :entity, expiresAt = :exp',
                ConditionExpression: 'attribute_not_exists(tasks) OR tasks < :capacity',
                ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':capacity': capacity, ':entity': 'outreach-task-count', ':exp': expiresAt },
              },
            },
          ],
        }),
      );
      return 'claimed';
    } catch (e) {
      if ((e as Error).name !== 'TransactionCanceledException') throw e;
      const reasons = (e as TransactionCanceledException).CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'claimed';
      if (reasons[1]?.Code === 'ConditionalCheckFailed') return 'full';
      throw e;
    }
  }
}
