/**
 * Ingest raw events: validate each, keep a rejected one with its reason, store
 * valid ones once and fold them into their customer's aggregates. A batch is
 * grouped by customer, so the events of one customer cost one read and one
 * transaction, and customers are written in parallel.
 */
import type { BusinessEvent } from '../events/catalog.ts';
import { validateInbound, type Rejection } from '../events/validate.ts';
import type { CustomerStore, RejectedEventSink } from '../ports.ts';

export type IngestOutcome =
  | { outcome: 'stored'; type: string; customerId: string; eventId: string }
  | { outcome: 'duplicate'; type: string; customerId: string; eventId: string }
  | { outcome: 'rejected'; rejection: Rejection };

/** One result per raw event, in input order: an outcome, or the error that kept it from being handled (retry it). */
export type IngestResult = IngestOutcome | { outcome: 'failed'; error: Error };

type Deps = { store: CustomerStore; rejected: RejectedEventSink; now: () => Date };

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

export async function ingestBatch(raws: string[], deps: Deps): Promise<IngestResult[]> {
  // Stryker disable next-line ArrayDeclaration: every index is assigned before the results are returned, so the initial length does not matter
  const results: IngestResult[] = new Array(raws.length);
  const byCustomer = new Map<string, { index: number; event: BusinessEvent }[]>();
  // Stryker disable next-line ArrayDeclaration: only awaited with Promise.all, which passes a non-promise element through
  const rejections: Promise<void>[] = [];

  raws.forEach((raw, index) => {
    const v = validateInbound(raw, deps.now());
    if (!v.ok) {
      rejections.push(
        deps.rejected.reject(raw, v, deps.now()).then(
          () => void (results[index] = { outcome: 'rejected', rejection: v }),
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

  const writes = [...byCustomer].map(async ([customerId, group]) => {
    try {
      const stored = await deps.store.recordEvents(customerId, group.map((g) => g.event), deps.now());
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
