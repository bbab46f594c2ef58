/**
 * Erasure (the right to be forgotten): remove everything the stack holds about one customer,
 * and remember only what stops her coming back into marketing by accident.
 *
 * What happens, in this order (each step idempotent, so an erasure that failed half-way is
 * simply run again):
 * 1. a tombstone `ERASED#<hash of the customer id>`: ingest drops every later event for the id
 *    (a late event, a replay from the event archive, a re-import under the same id);
 * 2. if the profile has an email address, `SUPPRESS#<hash of the address>`: the send guardrails
 *    skip any customer with that address (a re-import or a new sign-up under another id);
 * 3. her items outside her partition: each outreach assignment of the nightly plan is replaced by an
 *    anonymous residue (shared/privacy/outreach-residue.ts: the lift report still counts her group's
 *    size and outcome), its copy in the unpublished list deleted; her personal-outreach task items deleted;
 * 4. every item of the customer's partition is deleted: profile, events, consent records,
 *    triggers, send ledger, score, winback state, timers;
 * 5. an erasure record without personal data (when, who asked, how many items of each kind).
 *
 * The hashes are SHA-256 of a random salt and the value: the table holds no address or id of an
 * erased customer, and the same address gives the same hash only with that salt, which is a
 * Secrets Manager secret outside the table (read only by the functions that hash).
 * docs/erasure.md says what is kept and why, and how backups and the event archive are covered.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { InboundDetail } from '../events/catalog.ts';
import { validateInbound } from '../events/validate.ts';
import type { CustomerStore, PrivacyStore } from '../ports.ts';
import { assignmentPeriods, outreachResidue, type OutreachScope } from './outreach-residue.ts';

/** The form of an address that is hashed: trimmed and lower-cased (ingest lower-cases it too). */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** The salted hash of a value of one kind (hex SHA-256 of salt, kind and value, NUL-separated). */
export function saltedHash(salt: string, kind: 'email' | 'customer', value: string): string {
  return createHash('sha256').update(`${salt}\u0000${kind}\u0000${kind === 'email' ? normalizeEmail(value) : value}`).digest('hex');
}

/** What an erasure removed and kept: no personal data (no id, no address). */
export type ErasureRecord = {
  erasureId: string;
  erasedAt: string;
  /** Who asked: an agent or system id (from the request), never the customer's data. */
  requestedBy: string;
  /** How the request came: the CustomerErasureRequested event, or the `clm erase` command. */
  via: 'event' | 'cli';
  /** Items deleted, by kind (profile, event, consent, trigger, send, score, winback, timer, outreach-task, other). */
  deleted: Record<string, number>;
  /** Items replaced by an anonymous residue, by kind (outreach: assignments of the nightly outreach plan). */
  anonymised: Record<string, number>;
  /** Whether an email address was put on the suppression list. */
  emailSuppressed: boolean;
};

/** Days (UTC) a personal-outreach task item is kept (its TTL, shared/adapters/dynamodb-outreach-desk.ts), plus one. */
export const OUTREACH_TASK_DAYS = 31;

/** The last `n` UTC days up to `now`'s, newest first (YYYY-MM-DD). */
export const lastDays = (now: Date, n: number): string[] => Array.from({ length: n }, (_, k) => new Date(now.getTime() - k * 86_400_000).toISOString().slice(0, 10));

export async function eraseCustomer(
  customerId: string,
  request: { requestedBy: string; via: ErasureRecord['via'] },
  deps: {
    store: Pick<CustomerStore, 'getProfile'>;
    privacy: PrivacyStore;
    now: () => Date;
    /** Where her outreach assignments are looked for; without it, none are (stores without a nightly run). */
    outreach?: OutreachScope;
  },
): Promise<ErasureRecord> {
  const profile = await deps.store.getProfile(customerId);
  const salt = await deps.privacy.salt();
  await deps.privacy.putTombstone(saltedHash(salt, 'customer', customerId), deps.now());
  const email = profile?.email?.value;
  if (email) await deps.privacy.suppress(saltedHash(salt, 'email', email), deps.now());
  // Outside her partition, before it (the profile dates her assignments and decides their outcome; a rerun
  // after the partition is gone finds them replaced already).
  const anonymised: Record<string, number> = {};
  if (deps.outreach && profile) {
    const { experimentIds, horizonMonths } = deps.outreach;
    for (const a of await deps.privacy.outreachAssignmentsOf(customerId, experimentIds, assignmentPeriods(profile, deps.now()))) {
      if (await deps.privacy.replaceOutreachAssignment(a, outreachResidue(a, profile, deps.now(), horizonMonths))) anonymised.outreach = (anonymised.outreach ?? 0) + 1;
    }
  }
  const tasks = await deps.privacy.deleteOutreachTasks(customerId, lastDays(deps.now(), OUTREACH_TASK_DAYS));
  const deleted = await deps.privacy.deletePartition(customerId);
  if (tasks > 0) deleted['outreach-task'] = tasks;
  const record: ErasureRecord = {
    erasureId: randomUUID(),
    erasedAt: deps.now().toISOString(),
    requestedBy: request.requestedBy,
    via: request.via,
    deleted,
    anonymised,
    emailSuppressed: email !== undefined,
  };
  await deps.privacy.recordErasure(record);
  return record;
}

/** Which of these customer ids were erased (their later events are dropped). */
export async function erasedAmong(customerIds: readonly string[], privacy: Pick<PrivacyStore, 'salt' | 'tombstonesAmong'>): Promise<Set<string>> {
  if (customerIds.length === 0) return new Set();
  const salt = await privacy.salt();
  const byHash = new Map(customerIds.map((id) => [saltedHash(salt, 'customer', id), id]));
  const found = await privacy.tombstonesAmong([...byHash.keys()]);
  return new Set([...found].map((h) => byHash.get(h)!));
}

/** Whether this customer id was erased (one tombstone read). */
export async function isErased(customerId: string, privacy: Pick<PrivacyStore, 'salt' | 'hasTombstone'>): Promise<boolean> {
  return privacy.hasTombstone(saltedHash(await privacy.salt(), 'customer', customerId));
}

/** What the erasure function did with one message of its queue. */
export type ErasureRequestOutcome =
  | { outcome: 'erased'; record: ErasureRecord }
  /** Not a valid CustomerErasureRequested: nothing erased (ingest, which gets the same event, puts it on the rejected-events queue). */
  | { outcome: 'invalid'; code: string; reason: string };

/**
 * One message of the erasure function's queue (an EventBridge event as JSON): validated as ingest
 * validates it, then the customer erased. A message of another type is an error (the rule routes
 * only CustomerErasureRequested here): it fails and reaches the dead-letter queue.
 */
export async function eraseOnRequest(raw: string, deps: Parameters<typeof eraseCustomer>[2]): Promise<ErasureRequestOutcome> {
  const v = validateInbound(raw, deps.now());
  if (!v.ok) return { outcome: 'invalid', code: v.code, reason: v.reason };
  if (v.event.type !== 'CustomerErasureRequested') throw new Error(`erasure got a ${v.event.type} event; only CustomerErasureRequested is routed to it`);
  const { customerId, requestedBy } = v.event.detail as InboundDetail<'CustomerErasureRequested'>;
  return { outcome: 'erased', record: await eraseCustomer(customerId, { requestedBy, via: 'event' }, deps) };
}

/** Whether the address belongs to an erased customer (it must not be marketed to again). */
export async function isSuppressed(email: string, privacy: Pick<PrivacyStore, 'salt' | 'isSuppressedHash'>): Promise<boolean> {
  return privacy.isSuppressedHash(saltedHash(await privacy.salt(), 'email', email));
}

/** The kind of a customer item by its sort key, for the erasure record's counts. */
export function itemKind(sk: string): string {
  if (sk === 'PROFILE') return 'profile';
  if (sk === 'SCORE') return 'score';
  if (sk === 'SENDS' || sk.startsWith('SEND#')) return 'send';
  const prefix = sk.split('#')[0]!;
  const kinds: Record<string, string> = { EVT: 'event', CONSENT: 'consent', TRIGGER: 'trigger', WINBACK: 'winback', TIMER: 'timer' };
  return kinds[prefix] ?? 'other';
}
