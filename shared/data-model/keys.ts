/**
 * Item keys of the single table. Everything about one customer lives under
 * one partition (`CUST#<id>`), so the stream consumers and the campaign
 * guardrails read one customer with one Query.
 */
import { createHash } from 'node:crypto';
import { fnv1a } from '../hash.ts';
import { SCORING_SHARDS, TIMER_SHARDS } from './table.ts';

export const customerPk = (customerId: string): string => `CUST#${customerId}`;
export const customerIdFromPk = (pk: string): string => pk.slice('CUST#'.length);

export const SK = {
  profile: 'PROFILE',
  /** One item per business event, keyed by the producer's eventId (idempotency). */
  event: (eventId: string) => `EVT#${eventId}`,
  order: (orderId: string) => `ORDER#${orderId}`,
  supportCall: (callId: string) => `CALL#${callId}`,
  subscription: (subscriptionId: string) => `SUB#${subscriptionId}`,
  trigger: (triggerId: string) => `TRIGGER#${triggerId}`,
  /** Send ledger: one item per (campaign, reason-for-sending); claimed before the email goes out. */
  send: (sendId: string) => `SEND#${sendId}`,
  /** The customer's send-ledger version, bumped by every claim: serialises send decisions per customer. */
  sendLedger: 'SENDS',
  score: 'SCORE',
  /** One consent-ledger record, sorted by when it was given (then its id): the auditor's history is one Query. */
  consent: (at: string, recordId: string) => `CONSENT#${at}#${recordId}`,
  /** A customer's link to the anonymous leaver fact of one leaving (the winback sequence). */
  winback: (leftAt: string) => `WINBACK#${leftAt}`,
  /** A durable timer of the customer (shared/timers/): one item per kind and key. */
  timer: (kind: string, key: string) => `TIMER#${kind}#${key}`,
} as const;

export const SK_PREFIX = {
  event: 'EVT#',
  order: 'ORDER#',
  supportCall: 'CALL#',
  subscription: 'SUB#',
  trigger: 'TRIGGER#',
  send: 'SEND#',
  consent: 'CONSENT#',
  winback: 'WINBACK#',
  timer: 'TIMER#',
} as const;

const shardKey = (n: number): string => `SHARD#${String(n).padStart(2, '0')}`;

/** Stable shard of a customer for the nightly scan (FNV-1a of the id). */
export function scoringShard(customerId: string, shards = SCORING_SHARDS): string {
  return shardKey(fnv1a(customerId) % shards);
}

/** Every scoring shard, in order: the nightly run's segments. */
export const allScoringShards = (shards = SCORING_SHARDS): string[] => Array.from({ length: shards }, (_, i) => shardKey(i));

/** The nightly run's model items: one partition, one item per run, sorted by run date (docs/data-model.md). */
export const MODEL_PK = 'MODEL';
export const modelSk = (runDate: string, runId: string): string => `RUN#${runDate}#${runId}`;
export const MODEL_SK_PREFIX = 'RUN#';

/** Parts of a nightly run's steps kept out of the state machine's state: one partition per run, TTL'd. */
export const runPartsPk = (runId: string): string => `NIGHTLY#${runId}`;
export const RUN_PART_SK_PREFIX = 'PART#';

/** A rejected event put on the rejected-events queue, once per rejection id (the SHA-256 of its raw body): one item, TTL'd. */
export const rejectionPk = (rejectionId: string): string => `REJECTED#${rejectionId}`;
export const REJECTION_SK = 'REJECTED';

/** Outreach assignments of one experiment and period (a month): one small partition, one item per customer. */
export const outreachPk = (experimentId: string, period: string): string => `OUTREACH#${experimentId}#${period}`;
export const OUTREACH_PLAN_PREFIX = 'PLAN#';
export const outreachSk = (customerId: string): string => `${OUTREACH_PLAN_PREFIX}${customerId}`;
/** The anonymous residue of an erased customer's assignment, in the same partition (shared/privacy/outreach-residue.ts). */
export const OUTREACH_ERASED_PREFIX = 'ERASED#';
export const erasedOutreachSk = (residueId: string): string => `${OUTREACH_ERASED_PREFIX}${residueId}`;

/**
 * A backfill run's records: one partition per run; per file (by a hash of its key), one item per
 * batch result and per failed batch (keyed by the batch's token).
 */
export const backfillRunPk = (runId: string): string => `BACKFILL#${runId}`;
export const backfillFilePrefix = (file: string): string => `FILE#${createHash('sha256').update(file).digest('base64url').slice(0, 16)}#`;
export const backfillBatchSk = (file: string, token: string): string => `${backfillFilePrefix(file)}BATCH#${token}`;
export const backfillFailureSk = (file: string, token: string): string => `${backfillFilePrefix(file)}FAILED#${token}`;

/** Erasure (shared/privacy/erasure.ts): tombstones of erased ids, the suppression list, erasure records (the salt is a secret, not an item). */
export const PRIVACY = {
  tombstonePk: (customerHash: string) => `ERASED#${customerHash}`,
  suppressionPk: (emailHash: string) => `SUPPRESS#${emailHash}`,
  /** One partition per month of erasure records, so an auditor can list a month's erasures with one Query. */
  erasurePk: (month: string) => `ERASURE#${month}`,
  sk: 'ITEM',
} as const;

/** Anonymous leaver facts of one month of leavings (no customer id): the winback and reasons reports read them. */
export const leaversPk = (month: string): string => `LEAVERS#${month}`;
/** The hour (UTC, `yyyy-mm-ddThh`) of an instant: the timer index's time bucket. */
export const timerHour = (at: Date): string => at.toISOString().slice(0, 13);

/** Partition key of the timer index: the due hour and a stable shard of the timer (FNV-1a of its keys). */
export function timerBucket(hour: string, pk: string, sk: string, shards = TIMER_SHARDS): string {
  return `TIMER#${hour}#${fnv1a(`${pk}\n${sk}`) % shards}`;
}

/** Every partition of the timer index for one hour bucket. */
export const timerBuckets = (hour: string, shards = TIMER_SHARDS): string[] => Array.from({ length: shards }, (_, i) => `TIMER#${hour}#${i}`);

/**
 * Treated assignments whose OutreachPlanned is not yet published, of any experiment and period: one
 * small partition (an item is put with its assignment and deleted when it is marked published).
 */
export const OUTREACH_UNPUBLISHED_PK = 'OUTREACH_UNPUBLISHED';
export const outreachUnpublishedSk = (experimentId: string, period: string, customerId: string): string => `${experimentId}#${period}#${outreachSk(customerId)}`;

/** The nightly run's merged report aggregates: one partition, one item per run, sorted by run date. */
export const REPORT_PK = 'REPORT';
export const reportSk = (runDate: string, runId: string): string => `RUN#${runDate}#${runId}`;

/** The personal-outreach tasks of one day (UTC): a counter item and one item per task's trigger, to hold the team's daily capacity. */
export const outreachTasksPk = (day: string): string => `OUTREACHTASKS#${day}`;
export const OUTREACH_TASKS_COUNT_SK = 'COUNT';
export const outreachTaskSk = (triggerId: string): string => `TASK#${triggerId}`;

/**
 * The deliverability circuit breaker's hour buckets (sends, hard bounces, complaints; atomic ADD, TTL'd),
 * spread over a few partitions, and the marker of each counted SES event (counted once).
 */
export const deliverabilityPk = (shard: number): string => `DELIVERABILITY#${String(shard).padStart(2, '0')}`;
export const deliverabilityHourSk = (hour: string): string => `HOUR#${hour}`;
export const deliverabilityCountedPk = (eventId: string): string => `DELIVERABILITY#COUNTED#${eventId}`;
export const DELIVERABILITY_COUNTED_SK = 'COUNTED';
