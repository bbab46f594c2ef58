/**
 * Sending at scale: many campaign requests through SES v2 SendBulkEmail. Each request is
 * planned, claimed and composed on its own (the guardrails and the ledger as for one email:
 * ./send-campaign.ts `prepareRequest`); the emails that may go are sent up to
 * `bulkMailer.maxEntries` (50) a call, paced to the send rate, each entry with its own
 * List-Unsubscribe and tags.
 *
 * Nothing is lost, nothing goes twice:
 * - before a call its entries are marked `submitted`; after it each is recorded `sent` with
 *   its message id. A worker that dies in between leaves them `submitted`: not sent again unless
 *   no SES event confirms them within the timeout (./send-campaign.ts `reconcileLater`).
 * - a call that fails as a whole with a retryable error (throttling) is tried again after a
 *   backoff with full jitter; entries SES answers `retry` for (throttled, transient) likewise;
 * - what still cannot go after the last attempt is deferred by `retryLaterMinutes` through the
 *   durable timer (or, without one, its claim is released and its request reported for retry);
 * - an entry SES refuses for good is recorded `parked` with SES's status as the reason
 *   (and an `EmailSkipped`);
 * - a call whose outcome is unknown (a timeout after writing) leaves its entries `submitted`,
 *   looked at again after the timeout (`reconcileLater`).
 */
import { SendOutcomeUnknownError, type BulkEntryResult, type BulkMailer } from '../ports.ts';
import type { CampaignRequest } from './requests.ts';
import { sendIdFor } from './guardrails.ts';
import { deferSend, finish, isReady, prepareRequest, reconcileLater, type CampaignDeps, type CampaignOutcome, type ReadySend } from './send-campaign.ts';

export type RetryPolicy = {
  /** Calls per entry at most (the first and the retries). */
  attempts: number;
  /** Backoff before retry n (1-based): a random time in [0, min(maxDelayMs, baseDelayMs · 2^(n−1))). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** What cannot go after the last attempt is planned again this much later. */
  retryLaterMinutes: number;
};

export const defaultRetryPolicy: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 10_000, retryLaterMinutes: 15 };

export type BatchDeps = CampaignDeps & {
  bulkMailer: BulkMailer;
  retry?: RetryPolicy;
  /** Waits until `recipients` more emails may go at the send rate (the pacer); default: no pacing. */
  pace?: (recipients: number) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
};

/** The outcome of one request of a batch; `retry`: its claim was released, ask again (e.g. fail the SQS record). */
export type BatchOutcome = CampaignOutcome | { outcome: 'retry'; sendId: string; reason: string } | { outcome: 'parked'; sendId: string; reason: string } | { outcome: 'failed'; error: Error };

/** Whether an error of a whole bulk call is worth trying again (throttling, a 5xx, a network error before sending). */
export function isRetryable(e: unknown): boolean {
  const err = e as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e instanceof SendOutcomeUnknownError) return false;
  const status = err.$metadata?.httpStatusCode;
  return (
    ['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'LimitExceededException', 'SendingPausedException', 'ServiceUnavailable', 'InternalFailure'].includes(err.name ?? '') ||
    err.$retryable !== undefined ||
    status === 429 ||
    (status !== undefined && status >= 500)
  );
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Full-jitter exponential backoff before retry `n` (1-based). */
export const backoffMs = (n: number, policy: RetryPolicy, random: () => number): number =>
  Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1)));

export async function sendBatch(requests: readonly CampaignRequest[], deps: BatchDeps): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = new Array(requests.length);
  const ready: { index: number; send: ReadySend }[] = [];
  // The same request twice in one batch (a redelivery beside the first): the first one decides.
  const seen = new Set<string>();
  const duplicates: number[] = [];
  // Plan and claim one by one: two requests of one customer see each other's claims (caps hold).
  for (const [index, request] of requests.entries()) {
    const key = `${request.customerId}\n${request.campaign}\n${request.requestId}`;
    if (seen.has(key)) {
      duplicates.push(index);
      continue;
    }
    seen.add(key);
    try {
      const r = await prepareRequest(request, deps);
      if (isReady(r)) ready.push({ index, send: r });
      else outcomes[index] = r;
    } catch (e) {
      outcomes[index] = { outcome: 'failed', error: e as Error };
    }
  }
  const size = Math.max(1, deps.bulkMailer.maxEntries);
  for (let i = 0; i < ready.length; i += size) {
    const chunk = ready.slice(i, i + size);
    const results = await deliverChunk(chunk.map((c) => c.send), deps);
    chunk.forEach((c, j) => (outcomes[c.index] = results[j]!));
  }
  for (const i of duplicates) outcomes[i] = { outcome: 'already-done', sendId: sendIdFor(requests[i]!.campaign, requests[i]!.requestId) };
  return outcomes;
}

/** One chunk (≤ maxEntries) through SendBulkEmail with retries; an outcome per entry, in order. */
async function deliverChunk(sends: ReadySend[], deps: BatchDeps): Promise<BatchOutcome[]> {
  const policy = deps.retry ?? defaultRetryPolicy;
  const sleep = deps.sleep ?? realSleep;
  const random = deps.random ?? Math.random;
  const out: BatchOutcome[] = new Array(sends.length);
  const baseOf = (s: ReadySend) => ({ sendId: s.sendId, customerId: s.request.customerId, campaign: s.campaign });
  const submitted = deps.now();
  await deps.store.markSubmitted(sends.map(baseOf), submitted);

  let pending = sends.map((_, i) => i);
  let lastReason = '';
  for (let attempt = 1; attempt <= policy.attempts && pending.length > 0; attempt++) {
    if (attempt > 1) await sleep(backoffMs(attempt - 1, policy, random));
    await deps.pace?.(pending.length);
    let results: BulkEntryResult[];
    try {
      results = await deps.bulkMailer.sendBulk(pending.map((i) => ({ to: sends[i]!.to, message: sends[i]!.message })));
    } catch (e) {
      if (e instanceof SendOutcomeUnknownError) {
        // They may have gone: they stay submitted until SES's events confirm them or the timeout shows SES never took them.
        const submittedAt = submitted.toISOString();
        for (const i of pending) {
          const s = sends[i]!;
          out[i] = await reconcileLater(s.request, { sendId: s.sendId, at: submittedAt }, deps).catch((err: Error) => ({ outcome: 'failed' as const, error: err }));
        }
        return out;
      }
      if (!isRetryable(e)) {
        // SES refused the call (a bad request): nothing went; give the claims back for the retry.
        for (const i of pending) {
          await deps.store.releaseSend(sends[i]!.request.customerId, sends[i]!.sendId);
          out[i] = { outcome: 'failed', error: e as Error };
        }
        return out;
      }
      lastReason = `ses-call-${(e as Error).name}`;
      continue;
    }
    const again: number[] = [];
    for (const [j, i] of pending.entries()) {
      const r = results[j]!;
      const s = sends[i]!;
      if (r.status === 'sent') {
        await finish({ ...baseOf(s), status: 'sent', at: deps.now().toISOString(), messageId: r.messageId }, deps);
        out[i] = { outcome: 'sent', sendId: s.sendId, messageId: r.messageId };
      } else if (r.status === 'refused') {
        await finish({ ...baseOf(s), status: 'parked', at: deps.now().toISOString(), reason: r.reason }, deps);
        out[i] = { outcome: 'parked', sendId: s.sendId, reason: r.reason };
      } else {
        again.push(i);
        lastReason = r.reason;
      }
    }
    pending = again;
  }
  // Still throttled after the last attempt: later, through the timer; or back to the caller's retry.
  for (const i of pending) {
    const s = sends[i]!;
    const reason = `retry-later: ${lastReason}`;
    if (deps.deferred) {
      const until = new Date(deps.now().getTime() + policy.retryLaterMinutes * 60_000).toISOString();
      out[i] = await deferSend(s.request, baseOf(s), reason, until, deps).catch((e: Error) => ({ outcome: 'failed' as const, error: e }));
    } else {
      await deps.store.releaseSend(s.request.customerId, s.sendId);
      out[i] = { outcome: 'retry', sendId: s.sendId, reason };
    }
  }
  return out;
}
