/**
 * WinbackStore on the single table: the customer's link `CUST#<id>` / `WINBACK#<leftAt>` and the
 * anonymous fact `LEAVERS#<YYYY-MM>` / `<factId>` of each leaving, created together once (a
 * transaction of two conditional puts); the fact's offers are a map by step (each set once), its
 * outcome set once. No TTL: the facts are what the reports count, also after an erasure.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SK, SK_PREFIX, customerPk, leaversPk } from '../data-model/keys.ts';
import type { LeaverFact } from '../winback/report.ts';
import type { LeavingLink, WinbackStore } from '../ports.ts';

type FactItem = Omit<LeaverFact, 'offers'> & { offers: Record<string, LeaverFact['offers'][number]> };

export class DynamoWinbackStore implements WinbackStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly options: { tableName: string },
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private get table() {
    return this.options.tableName;
  }

  private async link(customerId: string, leftAt: string): Promise<LeavingLink | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: customerPk(customerId), sk: SK.winback(leftAt) }, ConsistentRead: true }));
    return Item ? { customerId, leftAt, factId: String(Item.factId), leftOn: String(Item.leftOn) } : undefined;
  }

  async recordLeaving(customerId: string, leftAt: string, fact: Pick<LeaverFact, 'reasonCode' | 'inSequence'>): Promise<LeavingLink> {
    const held = await this.link(customerId, leftAt);
    if (held) return held;
    const link: LeavingLink = { customerId, leftAt, factId: randomUUID(), leftOn: leftAt.slice(0, 10) };
    const item: FactItem = { factId: link.factId, leftOn: link.leftOn, reasonCode: fact.reasonCode, inSequence: fact.inSequence, offers: {} };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: { pk: customerPk(customerId), sk: SK.winback(leftAt), entity: 'winback-link', factId: link.factId, leftOn: link.leftOn }, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: this.table, Item: { pk: leaversPk(link.leftOn.slice(0, 7)), sk: link.factId, entity: 'leaver-fact', ...item }, ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return link;
    } catch (e) {
      // Another worker recorded this leaving first: theirs stands.
      if ((e as Error).name !== 'TransactionCanceledException') throw e;
      const theirs = await this.link(customerId, leftAt);
      if (!theirs) throw e;
      return theirs;
    }
  }

  async latestLeaving(customerId: string): Promise<LeavingLink | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': customerPk(customerId), ':prefix': SK_PREFIX.winback },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const i = Items?.[0];
    return i ? { customerId, leftAt: String(i.sk).slice(SK_PREFIX.winback.length), factId: String(i.factId), leftOn: String(i.leftOn) } : undefined;
  }

  async updateFact(link: LeavingLink, change: Parameters<WinbackStore['updateFact']>[1]): Promise<void> {
    const sets: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    if (change.reasonCode !== undefined) (sets.push('reasonCode = :r'), (values[':r'] = change.reasonCode));
    if (change.inSequence !== undefined) (sets.push('inSequence = :q'), (values[':q'] = change.inSequence));
    if (change.offer) (sets.push('offers.#step = if_not_exists(offers.#step, :o)'), (names['#step'] = String(change.offer.step)), (values[':o'] = change.offer));
    if (change.outcome) (sets.push('outcome = if_not_exists(outcome, :out)'), (values[':out'] = change.outcome));
    if (sets.length === 0) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: leaversPk(link.leftOn.slice(0, 7)), sk: link.factId },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** The CLV of the customer's last nightly score (the SCORE item), if she was scored: her value when she left. */
  async formerClv(customerId: string): Promise<number | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: customerPk(customerId), sk: SK.score }, ProjectionExpression: 'clv' }));
    return typeof Item?.clv === 'number' ? Item.clv : undefined;
  }

  async facts(months: readonly string[]): Promise<LeaverFact[]> {
    const out: LeaverFact[] = [];
    for (const month of months) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await this.doc.send(
          new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': leaversPk(month) }, ExclusiveStartKey }),
        );
        for (const i of (page.Items ?? []) as (FactItem & { pk: string; sk: string; entity: string })[]) {
          const { pk: _pk, sk: _sk, entity: _entity, offers, ...fact } = i;
          out.push({ ...fact, offers: Object.values(offers ?? {}).sort((a, b) => a.step - b.step) });
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
    return out;
  }
}
