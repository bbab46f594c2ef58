/**
 * Records a batch of SES events on the customers' records (docs/email-feedback.md): each
 * becomes an `EmailFeedback` stored once (keyed on its eventId, derived from the SES event) and
 * folded into the profile in the same transaction — hard bounces and complaints suppress the
 * address at once, soft bounces are counted, opens and clicks kept per email as responses. An
 * event that is not a valid SES event goes to the rejected-events queue with its reason, once
 * (as ingest does); one that is not ours, of a type the stack does not keep, or about a customer
 * the stack has no profile of (erased since the send) is ignored.
 *
 * Besides: SES's Send events, hard bounces and complaints are counted in the deliverability
 * circuit breaker's window (once each, whoever the customer), and an event of an email whose
 * send-ledger entry is still `submitted` (its worker died between the SES call and the record)
 * confirms that SES took it: the entry becomes `sent` (docs/campaigns.md, "Exactly once").
 */
import type { CustomerStore, DeliverabilityTally, RejectedEventSink, RejectionLedger } from '../ports.ts';
import { rejectOnce, type IngestOutcome } from '../ingest/ingest-event.ts';
import type { DeliverabilityCount } from '../campaigns/circuit-breaker.ts';
import { deliverabilityCountOf, feedbackFromSesEvent } from './ses-events.ts';

export type FeedbackResult =
  | { outcome: 'stored' | 'duplicate'; kind: string; customerId: string; eventId: string; confirmed?: boolean }
  /** SES's Send event: counted; `confirmed`: it turned a `submitted` ledger entry `sent`. */
  | { outcome: 'accepted'; customerId: string; eventId: string; confirmed: boolean }
  | { outcome: 'ignored'; reason: string; detailType?: string }
  | Extract<IngestOutcome, { outcome: 'rejected' }>
  | { outcome: 'failed'; error: Error };

type Deps = {
  store: CustomerStore;
  rejected: RejectedEventSink;
  rejections: RejectionLedger;
  now: () => Date;
  /** The circuit breaker's counts; without it nothing is counted. */
  deliverability?: DeliverabilityTally;
};

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** Kinds that come only after SES took the email and before the customer acts on it (not opens and clicks, which follow a delivery). */
const confirming = new Set(['delivery', 'bounce', 'complaint', 'reject', 'rendering-failure']);

/** One result per raw event, in input order; `failed` ones should be retried. */
export async function recordFeedbackBatch(raws: string[], deps: Deps): Promise<FeedbackResult[]> {
  const counts: (DeliverabilityCount | undefined)[] = new Array(raws.length);
  const results = await Promise.all(
    raws.map(async (raw, i): Promise<FeedbackResult> => {
      try {
        const f = feedbackFromSesEvent(raw, deps.now());
        if (f.outcome === 'ignored') return { outcome: 'ignored', reason: f.reason, ...(f.detailType ? { detailType: f.detailType } : {}) };
        if (f.outcome === 'invalid') return (await rejectOnce(raw, f.rejection, deps)) as Extract<IngestOutcome, { outcome: 'rejected' }>;
        counts[i] = deliverabilityCountOf(f);
        if (f.outcome === 'accepted') {
          const confirmed = f.sendId !== undefined && (await deps.store.confirmSubmitted(f.customerId, f.sendId, f.messageId, new Date(f.at)));
          return { outcome: 'accepted', customerId: f.customerId, eventId: f.eventId, confirmed };
        }
        const detail = f.event.detail as { eventId: string; customerId: string; kind: string; sendId?: string; messageId: string; occurredAt: string };
        // Feedback about someone the stack has no profile of (erased since the send) does not make one.
        if (!(await deps.store.getProfile(detail.customerId))) return { outcome: 'ignored', reason: 'unknown-customer' };
        const stored = await deps.store.recordEvent(f.event, deps.now());
        const confirmed =
          detail.sendId !== undefined && confirming.has(detail.kind) && (await deps.store.confirmSubmitted(detail.customerId, detail.sendId, detail.messageId, new Date(detail.occurredAt)));
        return { outcome: stored.status, kind: detail.kind, customerId: detail.customerId, eventId: detail.eventId, ...(confirmed ? { confirmed } : {}) };
      } catch (e) {
        return { outcome: 'failed', error: asError(e) };
      }
    }),
  );
  // Counted once each (a redelivery adds nothing), after the records: a failed count fails its records, which are retried.
  const toCount = counts.flatMap((c, i) => (c && results[i]!.outcome !== 'failed' ? [{ c, i }] : []));
  if (deps.deliverability && toCount.length > 0) {
    try {
      await deps.deliverability.count(toCount.map((x) => x.c));
    } catch (e) {
      for (const { i } of toCount) results[i] = { outcome: 'failed', error: asError(e) };
    }
  }
  return results;
}
