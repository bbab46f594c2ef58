/**
 * Ingest raw events: validate each, keep a rejected one with its reason (once per
 * delivered event, however often it is redelivered), store valid ones once and fold
 * them into their customer's aggregates. A batch is grouped by customer, so the events
 * of one customer cost one read and one transaction, and customers are written in parallel.
 */
import { createHash } from 'node:crypto';
import { defaults } from '../defaults.ts';
import type { BusinessEvent } from '../events/catalog.ts';
import { validateInbound, type Rejection } from '../events/validate.ts';
import type { ConsentLedger, CustomerStore, PrivacyStore, RejectedEventSink, RejectionLedger } from '../ports.ts';
import { erasedAmong } from '../privacy/erasure.ts';
import { consentRecordsOf, defaultConsentPolicy, type ConsentPolicy } from '../consent/ledger.ts';

export type IngestOutcome =
  | { outcome: 'stored'; type: string; customerId: string; eventId: string }
  | { outcome: 'duplicate'; type: string; customerId: string; eventId: string }
  /**
   * The customer was erased, or asked to be by a CustomerErasureRequested in this batch (which the
   * erasure function, subscribed to it by its own rule, carries out): the event is dropped, not stored.
   */
  | { outcome: 'erased'; type: string; customerId: string; eventId: string }
  /**
   * `repeated`: this raw event was rejected before (a redelivery), so it was not sent again.
   * `ledgerError`: it was sent, but the ledger could not record that (a later redelivery may send it again).
   */
  | { outcome: 'rejected'; rejection: Rejection; rejectionId: string; repeated: boolean; ledgerError?: Error };

/** One result per raw event, in input order: an outcome, or the error that kept it from being handled (retry it). */
export type IngestResult = IngestOutcome | { outcome: 'failed'; error: Error };

type Deps = {
  store: CustomerStore;
  rejected: RejectedEventSink;
  rejections: RejectionLedger;
  /** Where the consent records the events carry are appended (before the events are stored). */
  consent: ConsentLedger;
  /** How long a winback grant lasts (the profile fold of `store` must use the same). */
  consentPolicy?: ConsentPolicy;
  /** Tombstones of erased customers: their events are dropped (docs/erasure.md). */
  privacy: Pick<PrivacyStore, 'salt' | 'tombstonesAmong'>;
  now: () => Date;
};

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * The rejection id of a raw event: the SHA-256 of its body. Every redelivery of one message
 * (a batch retried after a timeout, SQS's at-least-once delivery, EventBridge delivering
 * the same event twice) has the same body, EventBridge envelope id included, so the same id.
 */
export const rejectionIdFor = (raw: string): string => createHash('sha256').update(raw).digest('hex');

/**
 * Puts a rejected event on the rejected-events queue once: claim its rejection id, send,
 * record it as done. A claim another worker holds fails the record (retried later, when it
 * is done); a failed send releases the claim and fails the record.
 */
export async function rejectOnce(raw: string, rejection: Rejection, deps: Pick<Deps, 'rejected' | 'rejections' | 'now'>): Promise<IngestOutcome> {
  const rejectionId = rejectionIdFor(raw);
  const claim = await deps.rejections.claim(rejectionId, deps.now(), defaults.rejectionLeaseSeconds);
  if (claim === 'done') return { outcome: 'rejected', rejection, rejectionId, repeated: true };
  if (claim === 'busy') throw new Error(`rejection ${rejectionId} is being sent by another worker; retry later`);
  try {
    await deps.rejected.reject(raw, rejection, deps.now(), rejectionId);
  } catch (e) {
    // A release that fails leaves the claim to run out its lease.
    await deps.rejections.release(rejectionId).catch(() => undefined);
    throw e;
  }
  // The event is on the queue: a ledger that cannot record it must not fail the record (its retry would send it again for sure).
  const ledgerError = await deps.rejections.complete(rejectionId, deps.now()).then(() => undefined, asError);
  return { outcome: 'rejected', rejection, rejectionId, repeated: false, ...(ledgerError ? { ledgerError } : {}) };
}

/**
 * `redelivered[i]`: record i was delivered before (SQS's ApproximateReceiveCount above 1): an earlier attempt may
 * have stored some of its customer's events, so the store looks for them first (CustomerStore.recordEvents).
 */
export async function ingestBatch(raws: string[], deps: Deps, redelivered: readonly boolean[] = []): Promise<IngestResult[]> {
  // Stryker disable next-line ArrayDeclaration: every index is assigned before the results are returned, so the initial length does not matter
  const results: IngestResult[] = new Array(raws.length);
  const byCustomer = new Map<string, { index: number; event: BusinessEvent }[]>();
  // Stryker disable next-line ArrayDeclaration: only awaited with Promise.all, which passes a non-promise element through
  const rejections: Promise<void>[] = [];

  raws.forEach((raw, index) => {
    const v = validateInbound(raw, deps.now());
    if (!v.ok) {
      rejections.push(
        rejectOnce(raw, v, deps).then(
          (outcome) => void (results[index] = outcome),
          (e) => void (results[index] = { outcome: 'failed', error: asError(e) }),
        ),
      );
      return;
    }
    const id = v.event.detail.customerId;
    const group = byCustomer.get(id) ?? [];
    group.push({ index, event: v.event });
    byCustomer.set(id, group);
  });

  // Events of erased customers are dropped: a late event, a replay or a re-import under the same id.
  let erased: Set<string>;
  try {
    erased = await erasedAmong([...byCustomer.keys()], deps.privacy);
  } catch (e) {
    erased = new Set();
    for (const group of byCustomer.values()) for (const { index } of group) results[index] = { outcome: 'failed', error: asError(e) };
    byCustomer.clear();
  }
  const dropped = (customerId: string, group: { index: number; event: BusinessEvent }[]) => {
    for (const { index, event } of group) results[index] = { outcome: 'erased', type: event.type, customerId, eventId: event.detail.eventId };
  };

  const writes = [...byCustomer].map(async ([customerId, group]) => {
    try {
      if (erased.has(customerId)) return dropped(customerId, group);
      // The erasure function (functions/erasure, its own rule) erases her; the request and her other events of the batch are not stored.
      if (group.some((g) => g.event.type === 'CustomerErasureRequested')) return dropped(customerId, group);
      // The ledger first, and also for duplicates: a redelivery after a failure in between records what is missing
      // (each record once); the events' profile fold then holds the same state.
      const records = group.flatMap((g) => consentRecordsOf(g.event, deps.consentPolicy ?? defaultConsentPolicy));
      if (records.length > 0) await deps.consent.append(records);
      const mayBeStored = group.some((g) => redelivered[g.index] === true);
      const stored = await deps.store.recordEvents(customerId, group.map((g) => g.event), deps.now(), mayBeStored ? { mayBeStored } : undefined);
      group.forEach(({ index, event }, k) => {
        results[index] = { outcome: stored[k]!.status, type: event.type, customerId, eventId: event.detail.eventId };
      });
    } catch (e) {
      for (const { index } of group) results[index] = { outcome: 'failed', error: asError(e) };
    }
  });

  await Promise.all([...rejections, ...writes]);
  return results;
}
