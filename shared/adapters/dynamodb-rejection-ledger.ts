/**
 * RejectionLedger on the single table: one item per rejection id (`REJECTED#<id>` /
 * `REJECTED`), claimed with a conditional PutItem and a lease before the rejected event is
 * sent, marked `done` after; TTL (`expiresAt`) removes it after the retention.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { REJECTION_SK, rejectionPk } from '../data-model/keys.ts';
import type { RejectionClaim, RejectionLedger } from '../ports.ts';

const conditionFailed = (e: unknown): boolean => (e as Error)?.name === 'ConditionalCheckFailedException';

export class DynamoRejectionLedger implements RejectionLedger {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly options: { tableName: string; retentionDays: number },
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  private item(rejectionId: string, now: Date, status: 'claimed' | 'done', leaseUntil: number) {
    return {
      pk: rejectionPk(rejectionId),
      sk: REJECTION_SK,
      entity: 'rejection',
      status,
      at: now.toISOString(),
      leaseUntil,
      expiresAt: Math.floor(now.getTime() / 1000) + this.options.retentionDays * 86_400,
    };
  }

  async claim(rejectionId: string, now: Date, leaseSeconds: number): Promise<RejectionClaim> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: this.item(rejectionId, now, 'claimed', now.getTime() + leaseSeconds * 1000),
          ConditionExpression: 'attribute_not_exists(pk) OR (#s = :claimed AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':claimed': 'claimed', ':now': now.getTime() },
        }),
      );
      return 'claimed';
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.options.tableName, Key: { pk: rejectionPk(rejectionId), sk: REJECTION_SK }, ConsistentRead: true }),
    );
    return Item?.status === 'done' ? 'done' : 'busy';
  }

  async complete(rejectionId: string, now: Date): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.options.tableName, Item: this.item(rejectionId, now, 'done', 0) }));
  }

  async release(rejectionId: string): Promise<void> {
    try {
      // An expired lease, not a delete: ingest's role has PutItem on the table, and the claim's TTL still holds.
      await this.doc.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: this.item(rejectionId, new Date(), 'claimed', 0),
          ConditionExpression: '#s = :claimed',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':claimed': 'claimed' },
        }),
      );
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
  }
}
