/**
 * ScoringStore on the single DynamoDB table (docs/data-model.md, "Nightly scoring items").
 *
 * - readSegment: what the nightly run reads, from the sparse index `byScoringShard` alone: a
 *   Query of one shard returns each customer's PROFILE entry (its compact scoring view,
 *   shared/scoring/scoring-view.ts), SCORE entry (the values of the last score written that a
 *   night compares with) and TRIGGER# entries,
 *   next to each other (sorted by `pk`), billed per 4 KB read rather than per item. A page ends
 *   on a whole customer: when `Limit` cuts a customer's entries, the page stops before her and
 *   the checkpoint is the key of the previous customer's last entry (entries of a checkpoint's own
 *   customer met again later, a trigger recorded meanwhile, are hers: skipped). A profile whose
 *   view is missing or of another version (written before the view existed) is read in full
 *   with BatchGetItem.
 * - segmentPage: the keys of a shard's customers (profile entries), `Limit` a page.
 * - readCustomers: BatchGetItem of the PROFILE and SCORE items (eventually consistent, 50
 *   customers = 100 keys a call), UnprocessedKeys retried with backoff; then a Query of the
 *   TRIGGER# items only for the customers whose profile was written recently enough for a
 *   trigger to have fired since `triggersSince` (a trigger fires from the stream of an event
 *   write, at most `maxTriggerDelaySeconds` after it), so a quiet customer costs no Query.
 *   With `sendsSince` (the report's campaign response), the BatchGetItem also takes each
 *   customer's send-ledger version item (`SENDS`, 33 customers a call), and the `SEND#` entries
 *   are queried only for customers whose last claim (`lastClaimAt`) is at or after it.
 * - writeScores: BatchWriteItem of SCORE items (with `scoringShard`: in the index), 25 a call,
 *   four calls in flight, UnprocessedItems retried with full-jitter backoff.
 * - models: one item per run under `MODEL`, put once (a rerun keeps the first); the record is
 *   kept as JSON (it may hold an infinite tier cut, which DynamoDB numbers cannot).
 * - outreach: one item per customer under `OUTREACH#<experiment>#<period>`, put on the
 *   condition that there is none (never reassigned); a treated one is put in one transaction with
 *   a copy under `OUTREACH_UNPUBLISHED` (any experiment and period: what an attempt still has to
 *   publish); once its OutreachPlanned is published, one transaction sets `publishedAt` (the first
 *   mark stays) and deletes the copy.
 * - run parts: a step's part kept out of the state machine's state (a segment's gathered
 *   summaries, its outreach top N) as gzipped JSON under `NIGHTLY#<runId>`, `PART#<name>#<uuid>#<n>`,
 *   split into items of at most `RUN_PART_CHUNK_BYTES` (DynamoDB's item limit is 400 KB), with a
 *   TTL (`runPartTtlDays`); read back by a strongly consistent Query of the key's prefix, 8 parts at once.
 * Every call asks for ReturnConsumedCapacity TOTAL; the units are returned for the run summary.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { CustomerProfile } from '../customers/profile.ts';
import {
  MODEL_PK,
  MODEL_SK_PREFIX,
  OUTREACH_UNPUBLISHED_PK,
  RUN_PART_SK_PREFIX,
  SK,
  SK_PREFIX,
  customerIdFromPk,
  customerPk,
  modelSk,
  OUTREACH_ERASED_PREFIX,
  OUTREACH_PLAN_PREFIX,
  outreachPk,
  outreachSk,
  outreachUnpublishedSk,
  runPartsPk,
  scoringShard,
} from '../data-model/keys.ts';
import type { ProfileFold, PutAssignmentResult, ScoringCustomer, SendRecord, ScoringStore, SegmentCursor, SegmentPage, SegmentRead } from '../ports.ts';
import { isScoringView, profileOfScoringView } from '../scoring/scoring-view.ts';
import type { ModelRecord } from '../scoring/fit.ts';
import type { OutreachAssignment } from '../scoring/outreach.ts';
import type { ErasedOutreach } from '../privacy/outreach-residue.ts';
import type { ActiveTrigger } from '../scoring/risk.ts';
import type { CustomerScore } from '../scoring/score-customer.ts';
import type { StoredScore } from '../scoring/score-diff.ts';

export type DynamoScoringStoreOptions = {
  tableName: string;
  /** The empty profile, so a profile written before a field existed reads complete (as the customer store does). */
  profiles: Pick<ProfileFold, 'empty'>;
  /** Attempts of a batch call whose unprocessed items keep coming back. */
  maxBatchAttempts?: number;
  /** Longest time between an event's write and a trigger it fires (the stream's maximum record age, plus margin). */
  maxTriggerDelaySeconds?: number;
  /** Backoff base in ms (full jitter, doubling, capped at 2 s). */
  backoffBaseMs?: number;
  /** Days a run part is kept (TTL): it only has to outlive its run's execution (at most 8 hours). */
  runPartTtlDays?: number;
};

/** Bytes of gzipped JSON per run-part item: below DynamoDB's 400 KB item limit with room for the keys. */
export const RUN_PART_CHUNK_BYTES = 350_000;

const INDEX = 'byScoringShard';
const PROFILE_ATTRIBUTES = ['pk', 'sk', 'scoringShard', 'scoringView', 'version', 'updatedAt', 'entity'] as const;
const SCORE_ATTRIBUTES = ['pk', 'sk', 'entity', 'scoringShard'] as const;
/** Index entries a customer has on a quiet night (profile and score): a page's `Limit` is this × the customers wanted. */
const ENTRIES_PER_CUSTOMER = 2;
/** BatchGetItem takes 100 keys: two per customer (three with the send ledger's version item). */
const MAX_KEYS_PER_GET = 100;
const CUSTOMERS_PER_GET = 50;
const ITEMS_PER_WRITE = 25;
/** BatchWriteItem calls of one writeScores in flight. */
const WRITES_AT_ONCE = 4;
/** Run parts read at once (the fit and finish steps read one a segment invocation). */
const RUN_PARTS_READ_AT_ONCE = 8;
/** Concurrent trigger Queries of one readCustomers call. */
const TRIGGER_QUERY_CONCURRENCY = 16;

export class UnprocessedItemsError extends Error {
  override name = 'UnprocessedItemsError';
}

type Capacity = { CapacityUnits?: number }[] | { CapacityUnits?: number } | undefined;
const units = (c: Capacity): number => (Array.isArray(c) ? c : c ? [c] : []).reduce((s, x) => s + (x.CapacityUnits ?? 0), 0);

/** JSON that keeps non-finite numbers (an infinite tier cut), which DynamoDB numbers and plain JSON cannot. */
const encodeRecord = (m: ModelRecord): string =>
  JSON.stringify(m, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v));
const decodeRecord = (s: string): ModelRecord =>
  JSON.parse(s, (_k, v) => (v && typeof v === 'object' && typeof v.$number === 'string' && Object.keys(v).length === 1 ? Number(v.$number) : v));

/** A failed condition, of a single write or of a transaction's. */
const conditionFailed = (e: unknown): boolean =>
  (e as Error).name === 'ConditionalCheckFailedException' ||
  ((e as Error).name === 'TransactionCanceledException' && ((e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed'));

/** The values of a score entry of the index (what it projects: those a night compares with). */
function storedScoreOf(e: Record<string, unknown>): StoredScore {
  const { kind, clv, pAlive, churnRisk, riskBand, valueTier, potentialSpend, nextBestAction } = e as StoredScore;
  return { kind, clv, pAlive, churnRisk, riskBand, valueTier, nextBestAction, ...(potentialSpend !== undefined && { potentialSpend }) };
}

function strip<T extends Record<string, unknown>>(item: T, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...item };
  for (const k of keys) delete out[k];
  return out;
}

export class DynamoScoringStore implements ScoringStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly profiles: Pick<ProfileFold, 'empty'>;
  private readonly maxAttempts: number;
  private readonly maxTriggerDelayMs: number;
  private readonly backoffBaseMs: number;
  private readonly runPartTtlS: number;

  constructor(client: DynamoDBClient, options: DynamoScoringStoreOptions) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
    this.table = options.tableName;
    this.profiles = options.profiles;
    this.maxAttempts = options.maxBatchAttempts ?? 10;
    this.maxTriggerDelayMs = (options.maxTriggerDelaySeconds ?? 86_400) * 1000;
    this.backoffBaseMs = options.backoffBaseMs ?? 50;
    this.runPartTtlS = (options.runPartTtlDays ?? 7) * 86_400;
  }

  private backoff(attempt: number): Promise<void> {
    return new Promise((r) => setTimeout(r, Math.random() * Math.min(2000, this.backoffBaseMs * 2 ** attempt)));
  }

  async segmentPage(segment: string, cursor: SegmentCursor | undefined, limit: number): Promise<SegmentPage> {
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: INDEX,
        KeyConditionExpression: 'scoringShard = :s',
        // the index holds SCORE and TRIGGER# entries too: a page lists the customers of its profile entries
        FilterExpression: 'sk = :profile',
        ExpressionAttributeValues: { ':s': segment, ':profile': SK.profile },
        ExclusiveStartKey: cursor,
        Limit: limit,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    const customerIds = (page.Items ?? []).map((i) => customerIdFromPk(String(i.pk)));
    const next = page.LastEvaluatedKey as SegmentCursor | undefined;
    return { customerIds, ...(next && { next }), consumedReadUnits: units(page.ConsumedCapacity) };
  }

  async readSegment(segment: string, cursor: SegmentCursor | undefined, limit: number, options: { triggersSince?: Date; scores?: boolean; sendsSince?: Date } = {}): Promise<SegmentRead> {
    const entries: Record<string, unknown>[] = [];
    let consumed = 0;
    let start: Record<string, unknown> | undefined = cursor;
    let more: Record<string, unknown> | undefined;
    for (;;) {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEX,
          KeyConditionExpression: 'scoringShard = :s',
          ExpressionAttributeValues: { ':s': segment },
          ExclusiveStartKey: start,
          Limit: limit * ENTRIES_PER_CUSTOMER,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      consumed += units(page.ConsumedCapacity);
      // a customer whose last entry is the checkpoint was read whole by the page that made it
      for (const item of page.Items ?? []) if (item.pk !== cursor?.pk) entries.push(item);
      more = page.LastEvaluatedKey;
      // on to the next page while this one holds no whole customer (the last one may go on)
      if (!more || (entries.length > 0 && entries[0]!.pk !== entries.at(-1)!.pk)) break;
      start = more;
    }
    let kept = entries;
    let next: SegmentCursor | undefined;
    if (more) {
      const lastPk = entries.at(-1)!.pk;
      const cut = entries.findIndex((e) => e.pk === lastPk);
      kept = entries.slice(0, cut);
      const end = kept.at(-1)!;
      next = { scoringShard: segment, pk: String(end.pk), sk: String(end.sk) };
    }
    const since = options.triggersSince?.toISOString();
    const byCustomer = new Map<string, { profile?: Record<string, unknown>; score?: Record<string, unknown>; ledger?: Record<string, unknown>; triggers: ActiveTrigger[] }>();
    for (const e of kept) {
      const id = customerIdFromPk(String(e.pk));
      let c = byCustomer.get(id);
      if (!c) byCustomer.set(id, (c = { triggers: [] }));
      const sk = String(e.sk);
      if (sk === SK.profile) c.profile = e;
      else if (sk === SK.score) c.score = e;
      else if (sk === SK.sendLedger) c.ledger = e;
      else if (sk.startsWith(SK_PREFIX.trigger) && since !== undefined && String(e.firedAt) >= since) {
        c.triggers.push({ rule: e.rule, action: e.action, churnRiskBoost: e.churnRiskBoost, firedAt: e.firedAt } as ActiveTrigger);
      }
    }
    // profiles without a view this code reads (written before it existed): read in full
    const views = new Map<string, CustomerProfile>();
    const without: string[] = [];
    for (const [id, c] of byCustomer) {
      if (!c.profile) continue;
      const raw = c.profile.scoringView;
      const view = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : undefined;
      if (isScoringView(view)) views.set(id, profileOfScoringView(this.profiles.empty(id), view));
      else without.push(id);
    }
    if (without.length > 0) {
      const read = await this.readCustomers(without, undefined, { scores: false });
      consumed += read.consumedReadUnits;
      for (const c of read.customers) if (c.profile) views.set(c.customerId, c.profile);
    }
    // The ledger entries (campaign response) only of customers whose send ledger (its SENDS entry) was claimed since `sendsSince`.
    const sendsSince = options.sendsSince?.toISOString();
    const needSends = sendsSince ? [...byCustomer].filter(([id, c]) => views.has(id) && c.ledger && !(typeof c.ledger.lastClaimAt === 'string' && c.ledger.lastClaimAt < sendsSince)).map(([id]) => id) : [];
    const sends = new Map<string, SendRecord[]>();
    for (let at = 0; at < needSends.length; at += TRIGGER_QUERY_CONCURRENCY) {
      const got = await Promise.all(needSends.slice(at, at + TRIGGER_QUERY_CONCURRENCY).map((id) => this.sendsOf(id, sendsSince!)));
      got.forEach((g, k) => {
        if (g.sends.length) sends.set(needSends[at + k]!, g.sends);
        consumed += g.consumed;
      });
    }
    const customers = [...byCustomer].map(([customerId, c]): ScoringCustomer => {
      const profile = views.get(customerId);
      const ledger = sends.get(customerId);
      return {
        customerId,
        ...(profile && { profile }),
        ...(c.score && options.scores !== false && { stored: storedScoreOf(c.score) }),
        triggers: c.triggers,
        ...(ledger && { sends: ledger }),
      };
    });
    return { customers, ...(next && { next }), consumedReadUnits: consumed };
  }

  async readCustomers(customerIds: readonly string[], triggersSince?: Date, options: { scores?: boolean; sendsSince?: Date } = {}): Promise<{ customers: ScoringCustomer[]; consumedReadUnits: number }> {
    const withScores = options.scores !== false;
    const profiles = new Map<string, Record<string, unknown>>();
    const scores = new Map<string, Record<string, unknown>>();
    const ledgers = new Map<string, Record<string, unknown>>();
    let consumed = 0;
    // With the send ledgers' SENDS items: three keys a customer.
    const perGet = options.sendsSince ? Math.floor(MAX_KEYS_PER_GET / 3) : CUSTOMERS_PER_GET;
    for (let start = 0; start < customerIds.length; start += perGet) {
      const ids = [...new Set(customerIds.slice(start, start + perGet))];
      let keys: Record<string, unknown>[] = ids.flatMap((id) => [
        { pk: customerPk(id), sk: SK.profile },
        ...(withScores ? [{ pk: customerPk(id), sk: SK.score }] : []),
        ...(options.sendsSince ? [{ pk: customerPk(id), sk: SK.sendLedger }] : []),
      ]);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= this.maxAttempts) throw new UnprocessedItemsError(`BatchGetItem left ${keys.length} keys unprocessed after ${this.maxAttempts} attempts`);
        if (attempt > 0) await this.backoff(attempt);
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: false } }, ReturnConsumedCapacity: 'TOTAL' }),
        );
        consumed += units(out.ConsumedCapacity);
        for (const item of out.Responses?.[this.table] ?? []) {
          const id = customerIdFromPk(String(item.pk));
          (item.sk === SK.profile ? profiles : item.sk === SK.sendLedger ? ledgers : scores).set(id, item);
        }
        keys = (out.UnprocessedKeys?.[this.table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      }
    }
    const since = triggersSince?.getTime() ?? Infinity;
    const needTriggers = [...profiles.entries()]
      .filter(([, item]) => typeof item.updatedAt === 'string' && Date.parse(item.updatedAt) >= since - this.maxTriggerDelayMs)
      .map(([id]) => id);
    const triggers = new Map<string, ActiveTrigger[]>();
    for (let start = 0; start < needTriggers.length; start += TRIGGER_QUERY_CONCURRENCY) {
      const got = await Promise.all(needTriggers.slice(start, start + TRIGGER_QUERY_CONCURRENCY).map((id) => this.triggersOf(id, triggersSince!)));
      got.forEach((g, k) => {
        triggers.set(needTriggers[start + k]!, g.triggers);
        consumed += g.consumed;
      });
    }
    // The ledger entries only of customers with a claim since `sendsSince` (a ledger from before lastClaimAt was kept: read).
    const sendsSince = options.sendsSince?.toISOString();
    const needSends = sendsSince ? [...ledgers.entries()].filter(([id, l]) => profiles.has(id) && !(typeof l.lastClaimAt === 'string' && l.lastClaimAt < sendsSince)).map(([id]) => id) : [];
    const sends = new Map<string, SendRecord[]>();
    for (let start = 0; start < needSends.length; start += TRIGGER_QUERY_CONCURRENCY) {
      const got = await Promise.all(needSends.slice(start, start + TRIGGER_QUERY_CONCURRENCY).map((id) => this.sendsOf(id, sendsSince!)));
      got.forEach((g, k) => {
        if (g.sends.length) sends.set(needSends[start + k]!, g.sends);
        consumed += g.consumed;
      });
    }
    const customers = customerIds.map((customerId): ScoringCustomer => {
      const p = profiles.get(customerId);
      const s = scores.get(customerId);
      const ledger = sends.get(customerId);
      return {
        customerId,
        ...(p && { profile: { ...this.profiles.empty(customerId), ...(strip(p, PROFILE_ATTRIBUTES) as Partial<CustomerProfile>) } }),
        ...(s && { stored: strip(s, SCORE_ATTRIBUTES) as CustomerScore }),
        triggers: triggers.get(customerId) ?? [],
        ...(ledger && { sends: ledger }),
      };
    });
    return { customers, consumedReadUnits: consumed };
  }

  /** Every item of a Query, page after page, and the read units consumed. */
  private async queryAll(input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'ReturnConsumedCapacity'>): Promise<{ items: Record<string, unknown>[]; consumed: number }> {
    const items: Record<string, unknown>[] = [];
    let consumed = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey, ReturnConsumedCapacity: 'TOTAL' }));
      consumed += units(page.ConsumedCapacity);
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return { items, consumed };
  }

  /** The customer's send ledger entries whose time is at or after `since` (the campaign response's decisions). */
  private async sendsOf(customerId: string, since: string): Promise<{ sends: SendRecord[]; consumed: number }> {
    const { items, consumed } = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: '#at >= :since',
      ProjectionExpression: 'sendId, customerId, campaign, #status, #at, reason, messageId',
      ExpressionAttributeNames: { '#at': 'at', '#status': 'status' },
      ExpressionAttributeValues: { ':pk': customerPk(customerId), ':prefix': SK_PREFIX.send, ':since': since },
    });
    const sends = items.map((i) => ({ sendId: i.sendId, customerId: i.customerId, campaign: i.campaign, status: i.status, at: i.at, ...(i.reason !== undefined && { reason: i.reason }), ...(i.messageId !== undefined && { messageId: i.messageId }) }) as SendRecord);
    return { sends, consumed };
  }

  private async triggersOf(customerId: string, since: Date): Promise<{ triggers: ActiveTrigger[]; consumed: number }> {
    const { items, consumed } = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: 'firedAt >= :since',
      ProjectionExpression: '#rule, #action, churnRiskBoost, firedAt',
      ExpressionAttributeNames: { '#rule': 'rule', '#action': 'action' },
      ExpressionAttributeValues: { ':pk': customerPk(customerId), ':prefix': SK_PREFIX.trigger, ':since': since.toISOString() },
    });
    const triggers = items.map((i) => ({ rule: i.rule, action: i.action, churnRiskBoost: i.churnRiskBoost, firedAt: i.firedAt }) as ActiveTrigger);
    return { triggers, consumed };
  }

  async writeScores(scores: readonly CustomerScore[]): Promise<{ consumedWriteUnits: number }> {
    const calls: CustomerScore[][] = [];
    for (let start = 0; start < scores.length; start += ITEMS_PER_WRITE) calls.push(scores.slice(start, start + ITEMS_PER_WRITE));
    let consumed = 0;
    // WRITES_AT_ONCE calls in flight; each retries its unprocessed items on its own
    for (let at = 0; at < calls.length; at += WRITES_AT_ONCE) {
      const done = await Promise.all(calls.slice(at, at + WRITES_AT_ONCE).map((call) => this.writeScoreBatch(call)));
      consumed += done.reduce((a, b) => a + b, 0);
    }
    return { consumedWriteUnits: consumed };
  }

  /** One BatchWriteItem of at most 25 scores, its unprocessed items retried with backoff; the write units consumed. */
  private async writeScoreBatch(batch: readonly CustomerScore[]): Promise<number> {
    let consumed = 0;
    // One write per customer within a call (BatchWriteItem refuses two requests for one key): the last score wins.
    const byId = new Map(batch.map((s) => [s.customerId, s]));
    let requests: Record<string, unknown>[] = [...byId.values()].map((s) => ({
      // in the byScoringShard index, next to the customer's profile: the next night reads it there
      PutRequest: { Item: { ...s, pk: customerPk(s.customerId), sk: SK.score, entity: 'score', scoringShard: scoringShard(s.customerId) } },
    }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt >= this.maxAttempts) throw new UnprocessedItemsError(`BatchWriteItem left ${requests.length} items unprocessed after ${this.maxAttempts} attempts`);
      if (attempt > 0) await this.backoff(attempt);
      const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests as never }, ReturnConsumedCapacity: 'TOTAL' }));
      consumed += units(out.ConsumedCapacity);
      requests = (out.UnprocessedItems?.[this.table] as Record<string, unknown>[] | undefined) ?? [];
    }
    return consumed;
  }

  async putRunPart(runId: string, name: string, part: unknown): Promise<{ key: string; consumedWriteUnits: number }> {
    const key = `${name}#${randomUUID()}`;
    const bytes = gzipSync(JSON.stringify(part));
    const expiresAt = Math.floor(Date.now() / 1000) + this.runPartTtlS;
    const items = [];
    for (let at = 0, n = 0; at === 0 || at < bytes.length; at += RUN_PART_CHUNK_BYTES, n++) {
      items.push({ pk: runPartsPk(runId), sk: `${RUN_PART_SK_PREFIX}${key}#${String(n).padStart(4, '0')}`, entity: 'run-part', data: bytes.subarray(at, at + RUN_PART_CHUNK_BYTES), expiresAt });
    }
    let consumed = 0;
    // one item a call: a BatchWriteItem takes at most 16 MB, and a few items of 350 KB would near it
    for (const Item of items) {
      const out = await this.doc.send(new PutCommand({ TableName: this.table, Item, ReturnConsumedCapacity: 'TOTAL' }));
      consumed += units(out.ConsumedCapacity);
    }
    return { key, consumedWriteUnits: consumed };
  }

  async getRunParts(runId: string, keys: readonly string[]): Promise<{ parts: unknown[]; consumedReadUnits: number }> {
    let consumed = 0;
    const parts: unknown[] = [];
    // RUN_PARTS_READ_AT_ONCE parts' Queries in flight; the parts in the keys' order
    for (let at = 0; at < keys.length; at += RUN_PARTS_READ_AT_ONCE) {
      const got = await Promise.all(
        keys.slice(at, at + RUN_PARTS_READ_AT_ONCE).map(async (key) => {
          const { items, consumed: c } = await this.queryAll({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': runPartsPk(runId), ':prefix': `${RUN_PART_SK_PREFIX}${key}#` },
            ConsistentRead: true,
          });
          consumed += c;
          if (items.length === 0) throw new Error(`no run part ${key} of ${runId} (expired, or never stored)`);
          return JSON.parse(gunzipSync(Buffer.concat(items.map((i) => i.data as Uint8Array))).toString('utf8')) as unknown;
        }),
      );
      parts.push(...got);
    }
    return { parts, consumedReadUnits: consumed };
  }

  async getModel(runId: string, runDate: string): Promise<ModelRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: MODEL_PK, sk: modelSk(runDate, runId) }, ConsistentRead: true }));
    return Item ? decodeRecord(String(Item.record)) : undefined;
  }

  async previousModel(runDate: string): Promise<ModelRecord | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        // Runs dated before runDate: `RUN#<date>#<runId>` sorts by date, and every key of runDate itself sorts after `RUN#<runDate>`.
        ExpressionAttributeValues: { ':pk': MODEL_PK, ':from': MODEL_SK_PREFIX, ':to': `${MODEL_SK_PREFIX}${runDate}` },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = Items?.[0];
    return item ? decodeRecord(String(item.record)) : undefined;
  }

  async putModel(model: ModelRecord): Promise<{ model: ModelRecord; created: boolean }> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: MODEL_PK, sk: modelSk(model.runDate, model.runId), entity: 'model', runId: model.runId, runDate: model.runDate, record: encodeRecord(model) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { model, created: true };
    } catch (e) {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
      return { model: (await this.getModel(model.runId, model.runDate)) ?? model, created: false };
    }
  }

  async outreachAssignments(experimentId: string, period: string): Promise<OutreachAssignment[]> {
    const { items } = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :plan)',
      ExpressionAttributeValues: { ':pk': outreachPk(experimentId, period), ':plan': OUTREACH_PLAN_PREFIX },
      ConsistentRead: true,
    });
    return items.map((i) => strip(i, ['pk', 'sk', 'entity']) as OutreachAssignment);
  }

  async erasedOutreach(experimentId: string, period: string): Promise<ErasedOutreach[]> {
    const { items } = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :erased)',
      ExpressionAttributeValues: { ':pk': outreachPk(experimentId, period), ':erased': OUTREACH_ERASED_PREFIX },
      ConsistentRead: true,
    });
    return items.map((i) => strip(i, ['pk', 'sk', 'entity']) as ErasedOutreach);
  }

  async putOutreachAssignment(assignment: OutreachAssignment): Promise<PutAssignmentResult> {
    const key = { pk: outreachPk(assignment.experimentId, assignment.period), sk: outreachSk(assignment.customerId) };
    const put = { TableName: this.table, Item: { ...assignment, ...key, entity: 'outreach' }, ConditionExpression: 'attribute_not_exists(pk)' };
    try {
      if (assignment.group === 'treatment' && !assignment.publishedAt) {
        // With its copy in the unpublished list, or not at all.
        await this.doc.send(new TransactWriteCommand({ TransactItems: [{ Put: put }, { Put: { TableName: this.table, Item: { ...assignment, ...this.unpublishedKey(assignment), entity: 'outreach-unpublished' } } }] }));
      } else {
        await this.doc.send(new PutCommand(put));
      }
      return { status: 'created', assignment };
    } catch (e) {
      if (!conditionFailed(e)) throw e;
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      return { status: 'existing', assignment: Item ? (strip(Item, ['pk', 'sk', 'entity']) as OutreachAssignment) : assignment };
    }
  }

  private unpublishedKey(a: Pick<OutreachAssignment, 'experimentId' | 'period' | 'customerId'>) {
    return { pk: OUTREACH_UNPUBLISHED_PK, sk: outreachUnpublishedSk(a.experimentId, a.period, a.customerId) };
  }

  async unpublishedOutreach(): Promise<OutreachAssignment[]> {
    const { items } = await this.queryAll({ TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': OUTREACH_UNPUBLISHED_PK }, ConsistentRead: true });
    return items.map((i) => strip(i, ['pk', 'sk', 'entity']) as OutreachAssignment);
  }

  async markOutreachPublished(assignment: Pick<OutreachAssignment, 'experimentId' | 'period' | 'customerId'>, at: Date): Promise<void> {
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.table,
              Key: { pk: outreachPk(assignment.experimentId, assignment.period), sk: outreachSk(assignment.customerId) },
              UpdateExpression: 'SET publishedAt = if_not_exists(publishedAt, :at)',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':at': at.toISOString() },
            },
          },
          { Delete: { TableName: this.table, Key: this.unpublishedKey(assignment) } },
        ],
      }),
    );
  }
}
