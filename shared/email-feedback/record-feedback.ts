/**
 * Records a batch of SES events on the customers' records (docs/email-feedback.md): each
 * becomes an `EmailFeedback` stored once (keyed on its eventId, derived from the SES event) and
 * folded into the profile in the same transaction — hard bounces and complaints suppress the
 * address at once, soft bounces are counted, opens and clicks kept per email as responses. An
 * event that is not a valid SES event goes to the rejected-events queue with its reason, once
 * (as ingest does); one that is not ours, of a type the stack does not keep, or about a customer
 * the stack has no profile of (erased since the send) is ignored.
 */
import type { CustomerStore, RejectedEventSink, RejectionLedger } from '../ports.ts';
import { rejectOnce, type IngestOutcome } from '../ingest/ingest-event.ts';
import { feedbackFromSesEvent } from './ses-events.ts';

export type FeedbackResult =
  | { outcome: 'stored' | 'duplicate'; kind: string; customerId: string; eventId: string }
  | { outcome: 'ignored'; reason: string; detailType?: string }
  | Extract<IngestOutcome, { outcome: 'rejected' }>
  | { outcome: 'failed'; error: Error };

type Deps = { store: CustomerStore; rejected: RejectedEventSink; rejections: RejectionLedger; now: () => Date };

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** One result per raw event, in input order; `failed` ones should be retried. */
export async function recordFeedbackBatch(raws: string[], deps: Deps): Promise<FeedbackResult[]> {
  return Promise.all(
    raws.map(async (raw): Promise<FeedbackResult> => {
      try {
        const f = feedbackFromSesEvent(raw, deps.now());
        if (f.outcome === 'ignored') return { outcome: 'ignored', reason: f.reason, ...(f.detailType ? { detailType: f.detailType } : {}) };
        if (f.outcome === 'invalid') return (await rejectOnce(raw, f.rejection, deps)) as Extract<IngestOutcome, { outcome: 'rejected' }>;
        const { detail } = f.event;
        // Feedback about someone the stack has no profile of (erased since the send) does not make one.
        if (!(await deps.store.getProfile(detail.customerId))) return { outcome: 'ignored', reason: 'unknown-customer' };
        const stored = await deps.store.recordEvent(f.event, deps.now());
        return { outcome: stored.status, kind: (detail as { kind: string }).kind, customerId: detail.customerId, eventId: detail.eventId };
      } catch (e) {
        return { outcome: 'failed', error: asError(e) };
      }
    }),
  );
}
