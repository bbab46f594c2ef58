/**
 * CustomerStore on the single DynamoDB table (see docs/data-model.md).
 *
 * recordEvent: one transaction puts the event item (condition: not there yet,
 * which makes redelivery a no-op) and the new profile (condition: the version
 * we read, which makes concurrent writers retry instead of losing an update).
 */
import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { applyEvent, emptyProfile, toUtcIso, type CustomerProfile } from '../customers/profile.ts';
import { SK, SK_PREFIX, customerPk, scoringShard } from '../data-model/keys.ts';
import type { BusinessEvent } from '../events/catalog.ts';
import type { SendRecord } from '../campaigns/guardrails.ts';
import type { TriggerDecision } from '../triggers/rules.ts';
import type { CustomerStore, RecordEventResult } from '../ports.ts';

export type DynamoCustomerStoreOptions = {
  tableName: string;
  /** Days a stored event is kept before TTL removes it. */
  eventRetentionDays?: number;
  /** Days send-ledger entries and triggers are kept. */
  ledgerRetentionDays?: number;
  /** Attempts when concurrent writers race on one profile. */
  maxConflictRetries?: number;
};

const PROFILE_KEYS = ['pk', 'sk', 'scoringShard', 'version', 'updatedAt', 'entity'] as const;
const DAY_S = 86_400;

export class ConcurrentUpdateError extends Error {
  override name = 'ConcurrentUpdateError';
}

function isConditionalFailure(e: unknown): boolean {
  return (e as Error)?.name === 'ConditionalCheckFailedException';
}

export class DynamoCustomerStore implements CustomerStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly eventTtlS: number;
  private readonly ledgerTtlS: number;
  private readonly maxRetries: number;

  constructor(client: DynamoDBClient, options: DynamoCustomerStoreOptions) {
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
    this.table = options.tableName;
    this.eventTtlS = (options.eventRetentionDays ?? 400) * DAY_S;
    this.ledgerTtlS = (options.ledgerRetentionDays ?? 400) * DAY_S;
    this.maxRetries = options.maxConflictRetries ?? 25;
  }

  private async readProfileItem(customerId: string): Promise<{ profile?: CustomerProfile; version: number }> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: customerPk(customerId), sk: SK.profile }, ConsistentRead: true }),
    );
    if (!Item) return { version: 0 };
    const profile = { ...Item } as Record<string, unknown>;
    for (const k of PROFILE_KEYS) delete profile[k];
    // Defaults first: a profile written before a field existed still reads as a complete profile.
    return { profile: { ...emptyProfile(customerId), ...(profile as Partial<CustomerProfile>) }, version: Number(Item.version ?? 0) };
  }

  async getProfile(customerId: string): Promise<CustomerProfile | undefined> {
    return (await this.readProfileItem(customerId)).profile;
  }

  async recordEvent(event: BusinessEvent, receivedAt: Date): Promise<RecordEventResult> {
    const d = event.detail;
    const pk = customerPk(d.customerId);
    const receivedIso = receivedAt.toISOString();
    const eventItem = {
      pk,
      sk: SK.event(d.eventId),
      entity: 'event',
      type: event.type,
      source: event.source,
      customerId: d.customerId,
      eventId: d.eventId,
      occurredAt: toUtcIso(d.occurredAt),
      receivedAt: receivedIso,
      detail: d,
      expiresAt: Math.floor(receivedAt.getTime() / 1000) + this.eventTtlS,
    };
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const { profile, version } = await this.readProfileItem(d.customerId);
      const next = applyEvent(profile ?? emptyProfile(d.customerId), event);
      const profileItem = {
        ...next,
        pk,
        sk: SK.profile,
        entity: 'profile',
        scoringShard: scoringShard(d.customerId),
        version: version + 1,
        updatedAt: receivedIso,
      };
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: this.table, Item: eventItem, ConditionExpression: 'attribute_not_exists(pk)' } },
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
        return { status: 'stored', profile: next };
      } catch (e) {
        if (!(e instanceof TransactionCanceledException) && (e as Error).name !== 'TransactionCanceledException') throw e;
        const reasons = (e as TransactionCanceledException).CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') return { status: 'duplicate' };
        const retryable = reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict');
        if (!retryable) throw e;
        // full-jitter exponential backoff, capped at 1 s
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(1000, 10 * 2 ** attempt)));
      }
    }
    throw new ConcurrentUpdateError(`profile of customer kept changing during ${this.maxRetries} attempts`);
  }

  async recordTrigger(trigger: TriggerDecision, firedAt: Date): Promise<{ firedAt: string; published: boolean }> {
    const item = {
      pk: customerPk(trigger.customerId),
      sk: SK.trigger(trigger.triggerId),
      entity: 'trigger',
      ...trigger,
      firedAt: firedAt.toISOString(),
      expiresAt: Math.floor(firedAt.getTime() / 1000) + this.ledgerTtlS,
    };
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return { firedAt: item.firedAt, published: false };
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }),
      );
      return { firedAt: String(Item?.firedAt ?? item.firedAt), published: Item?.publishedAt !== undefined };
    }
  }

  async markTriggerPublished(customerId: string, triggerId: string, at: Date): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: customerPk(customerId), sk: SK.trigger(triggerId) },
        UpdateExpression: 'SET publishedAt = if_not_exists(publishedAt, :at)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      }),
    );
  }

  async recentSends(customerId: string, since: Date): Promise<SendRecord[]> {
    const out: SendRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          FilterExpression: '#at >= :since',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':pk': customerPk(customerId), ':prefix': SK_PREFIX.send, ':since': since.toISOString() },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const i of page.Items ?? []) {
        out.push({
          sendId: i.sendId,
          customerId: i.customerId,
          campaign: i.campaign,
          status: i.status,
          at: i.at,
          reason: i.reason,
          messageId: i.messageId,
        });
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  async claimSend(entry: { sendId: string; customerId: string; campaign: string }, now: Date, leaseSeconds: number): Promise<'claimed' | 'done' | 'busy'> {
    const key = { pk: customerPk(entry.customerId), sk: SK.send(entry.sendId) };
    try {
      await this.doc.send(
        new PutCommand({
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
          ConditionExpression: 'attribute_not_exists(pk) OR (#s = :sending AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':sending': 'sending', ':now': now.getTime() },
        }),
      );
      return 'claimed';
    } catch (e) {
      if (!isConditionalFailure(e)) throw e;
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      return Item?.status === 'sending' ? 'busy' : 'done';
    }
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

  async releaseSend(customerId: string, sendId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: customerPk(customerId), sk: SK.send(sendId) },
        ConditionExpression: '#s = :sending',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':sending': 'sending' },
      }),
    ).catch((e) => {
      if (!isConditionalFailure(e)) throw e;
    });
  }
}
