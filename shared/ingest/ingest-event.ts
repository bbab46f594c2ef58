/**
 * Ingest one raw event: validate it, keep a rejected one with its reason, store
 * a valid one once and fold it into the customer's aggregates.
 */
import { validateInbound, type Rejection } from '../events/validate.ts';
import type { CustomerStore, RejectedEventSink } from '../ports.ts';

export type IngestOutcome =
  | { outcome: 'stored'; type: string; customerId: string; eventId: string }
  | { outcome: 'duplicate'; type: string; customerId: string; eventId: string }
  | { outcome: 'rejected'; rejection: Rejection };

export async function ingestEvent(
  raw: string,
  deps: { store: CustomerStore; rejected: RejectedEventSink; now: () => Date },
): Promise<IngestOutcome> {
  const result = validateInbound(raw);
  if (!result.ok) {
    await deps.rejected.reject(raw, result, deps.now());
    return { outcome: 'rejected', rejection: result };
  }
  const { event } = result;
  const stored = await deps.store.recordEvent(event, deps.now());
  return { outcome: stored.status, type: event.type, customerId: event.detail.customerId, eventId: event.detail.eventId };
}
