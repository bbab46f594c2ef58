/**
 * The local run's check of the retention path: what the real stack did with
 * each recent billing complaint (stored → read from the table stream →
 * ChurnTriggerFired → delivered to campaigns → an email in the SES inbox),
 * compared with what the pure pipeline (shared/pipeline/) expects for the same
 * events. The expectation is computed by the real rules and guardrails, not by
 * a copy of them here.
 *
 * Differences of order are legitimate and are counted, not failed: concurrent
 * workers may decide a customer's sends in another order than the pipeline
 * (one email held back by the cooldown or the weekly cap instead of another),
 * and a collective trigger depends on which events were stored when it was
 * evaluated.
 * Anything else (a complaint not stored, its single trigger not fired, an
 * email the guardrails allow not sent or one they forbid sent) is a mismatch.
 */
import type { BillingComplaintPath } from '../shared/pipeline/billing-path.ts';

export type ActualTrigger = { triggerId: string; kind: string; rule: string; action: string; customerId: string; sourceEventIds: string[] };
export type ActualOutcome = { outcome: 'sent' | 'control' | 'skipped'; reason?: string; messageId?: string };

export type ActualRun = {
  /** Whether the complaint's EVT# item is in the table. */
  stored: (eventId: string) => boolean;
  /** Whether the table stream delivered it to churn-triggers. */
  streamed: (eventId: string) => boolean;
  triggers: ActualTrigger[];
  /** Trigger ids delivered to campaigns. */
  toCampaigns: (triggerId: string) => boolean;
  /** Outcome per trigger id, from the EmailSent / EmailSkipped events on the bus. */
  outcomes: Map<string, ActualOutcome>;
  /** Message ids in the SES inbox. */
  inbox: Set<string>;
};

export type RetentionPathCheck = {
  ok: boolean;
  /** What the real stack did with the recent billing complaints, step by step. */
  steps: { billingComplaints: number; stored: number; streamed: number; triggered: number; toCampaigns: number; emailed: number };
  /** What the pure pipeline expected. */
  expected: { billingComplaints: number; triggered: number; emailed: number };
  /** Complaints whose email outcome differs for a reason of order (cooldown, weekly cap, collective triggers). */
  orderDependent: number;
  /** The first differences that are not explained (ids only). */
  mismatches: { customerId: string; eventId: string; expected: string; actual: string }[];
  mismatchCount: number;
  example?: Record<string, unknown>;
};

const ORDER_REASONS = new Set(['cooldown', 'frequency-cap']);
const describe = (stored: boolean, singles: string[], emailed: boolean) =>
  !stored ? 'not stored' : `${singles.length ? `fired ${singles.join(', ')}` : 'no single trigger'}; ${emailed ? 'emailed' : 'not emailed'}`;

/**
 * Compares the expected path of each recent billing complaint with the run. The expectation is
 * computed at the check's clock, after every handler ran: a complaint fresh then was fresh when
 * it was handled, so the freshness window cannot make a difference.
 */
export function compareRetentionPath(expected: BillingComplaintPath[], actual: ActualRun): RetentionPathCheck {
  const citing = new Map<string, ActualTrigger[]>();
  for (const t of actual.triggers) {
    // A trigger is published at least once (a retried invocation publishes it again): one per trigger id.
    for (const id of t.sourceEventIds) if (!citing.get(id)?.some((c) => c.triggerId === t.triggerId)) citing.set(id, [...(citing.get(id) ?? []), t]);
  }
  const check: RetentionPathCheck = {
    ok: false,
    steps: { billingComplaints: expected.length, stored: 0, streamed: 0, triggered: 0, toCampaigns: 0, emailed: 0 },
    expected: { billingComplaints: expected.length, triggered: 0, emailed: 0 },
    orderDependent: 0,
    mismatches: [],
    mismatchCount: 0,
  };
  for (const e of expected) {
    if (e.triggers.length) check.expected.triggered++;
    if (e.emailed) check.expected.emailed++;

    const triggers = citing.get(e.eventId) ?? [];
    const outcomes = triggers.map((t) => ({ trigger: t, outcome: actual.outcomes.get(t.triggerId) }));
    const sent = outcomes.find((o) => o.outcome?.outcome === 'sent' && actual.inbox.has(o.outcome.messageId ?? ''));
    const stored = actual.stored(e.eventId);
    if (stored) check.steps.stored++;
    if (actual.streamed(e.eventId)) check.steps.streamed++;
    if (triggers.length) check.steps.triggered++;
    if (triggers.some((t) => actual.toCampaigns(t.triggerId))) check.steps.toCampaigns++;
    if (sent) {
      check.steps.emailed++;
      // No personal data: ids only (with --import these are real customers).
      check.example ??= { customerId: e.customerId, eventId: e.eventId, triggerId: sent.trigger.triggerId, messageId: sent.outcome!.messageId, rule: sent.trigger.rule, action: sent.trigger.action };
    }

    const expectedSingles = e.triggers.filter((t) => t.kind === 'single').map((t) => t.triggerId).sort();
    const actualSingles = triggers.filter((t) => t.kind === 'single').map((t) => t.triggerId).sort();
    const emailed = sent !== undefined;
    const same = e.stored === stored && expectedSingles.join() === actualSingles.join();
    if (same && e.emailed === emailed) continue;
    const collectiveDiffers =
      e.triggers.filter((t) => t.kind !== 'single').map((t) => t.triggerId).sort().join() !==
      triggers.filter((t) => t.kind !== 'single').map((t) => t.triggerId).sort().join();
    const orderReason = e.triggers.some((t) => ORDER_REASONS.has(t.reason ?? '')) || outcomes.some((o) => ORDER_REASONS.has(o.outcome?.reason ?? ''));
    if (same && (collectiveDiffers || orderReason)) {
      check.orderDependent++;
      continue;
    }
    check.mismatchCount++;
    if (check.mismatches.length < 5) {
      check.mismatches.push({ customerId: e.customerId, eventId: e.eventId, expected: describe(e.stored, expectedSingles, e.emailed), actual: describe(stored, actualSingles, emailed) });
    }
  }
  check.ok = check.steps.emailed > 0 && check.mismatchCount === 0;
  return check;
}
