/**
 * The retention path of billing complaints as the pure pipeline predicts it:
 * for each billing complaint among the events a run ingests, the triggers that
 * cite it and what campaigns did with each (sent, held out as control, or
 * skipped and why). The synthetic generator uses it to count the complaints an
 * email can reach; the local run compares it with what the real stack did.
 *
 * Customers are independent (every rule and guardrail reads one customer), so
 * only the customers with a billing complaint recent enough to fire a trigger
 * are run through the pipeline, with all their events, in the order given.
 */
import type { CampaignOutcome } from '../campaigns/send-campaign.ts';
import type { ChurnTriggerFired } from '../events/catalog.ts';
import { triggerConfig } from '../triggers/config.ts';
import { createPipeline, type PipelineOptions } from './run-pipeline.ts';

export type BillingPathTrigger = { triggerId: string; rule: string; kind: ChurnTriggerFired['kind']; outcome?: CampaignOutcome['outcome']; reason?: string };
export type BillingComplaintPath = {
  customerId: string;
  eventId: string;
  occurredAt: string;
  /** Whether ingest stores it (a valid event; false for one rejected by validation). */
  stored: boolean;
  /** The triggers that cite it, each with its campaign outcome. */
  triggers: BillingPathTrigger[];
  /** An email went out for it. */
  emailed: boolean;
};

const DAY_MS = 86_400_000;

type Envelope = { 'detail-type'?: unknown; detail?: { customerId?: unknown; eventId?: unknown; reason?: unknown; occurredAt?: unknown } };

function parse(body: string): Envelope | undefined {
  try {
    const e = JSON.parse(body) as Envelope;
    return typeof e === 'object' && e !== null ? e : undefined;
  } catch {
    return undefined;
  }
}

const isBillingComplaint = (e: Envelope | undefined): boolean => e?.['detail-type'] === 'SupportCallLogged' && e.detail?.reason === 'billing';

/**
 * Runs the bodies the ingest rule delivers (EventBridge events as JSON, in delivery order)
 * through the pure pipeline at the clock `options.now` and follows every billing complaint
 * that could still fire (occurred within the trigger policy's freshness window), once each.
 */
export async function billingPath(bodies: readonly string[], options: PipelineOptions): Promise<BillingComplaintPath[]> {
  const config = options.triggerConfig ?? triggerConfig;
  const freshFrom = options.now().getTime() - config.maxEventAgeDays * DAY_MS;
  const parsed = bodies.map(parse);
  const customers = new Set<string>();
  for (const e of parsed) {
    if (isBillingComplaint(e) && Date.parse(String(e!.detail!.occurredAt)) >= freshFrom) customers.add(String(e!.detail!.customerId));
  }
  const mine = bodies.filter((_, i) => customers.has(String(parsed[i]?.detail?.customerId)));

  const p = createPipeline(options);
  const stored = new Set<string>();
  for (const r of await p.run(mine)) if (r.outcome === 'stored') stored.add(r.eventId);

  const outcomes = new Map(p.campaignResults.map((r) => [r.trigger.triggerId, r.outcome]));
  const citing = new Map<string, BillingPathTrigger[]>();
  for (const t of p.publisher.ofType('ChurnTriggerFired')) {
    const o = outcomes.get(t.triggerId);
    for (const id of t.sourceEventIds) {
      const list = citing.get(id) ?? [];
      list.push({ triggerId: t.triggerId, rule: t.rule, kind: t.kind, outcome: o?.outcome, reason: o && 'reason' in o ? o.reason : undefined });
      citing.set(id, list);
    }
  }
  const seen = new Set<string>();
  const out: BillingComplaintPath[] = [];
  for (const e of parsed) {
    if (!isBillingComplaint(e) || !(Date.parse(String(e!.detail!.occurredAt)) >= freshFrom)) continue;
    const eventId = String(e!.detail!.eventId);
    if (seen.has(eventId)) continue; // a duplicate delivery of the same event
    seen.add(eventId);
    const triggers = citing.get(eventId) ?? [];
    out.push({
      customerId: String(e!.detail!.customerId),
      eventId,
      occurredAt: String(e!.detail!.occurredAt),
      stored: stored.has(eventId),
      triggers,
      emailed: triggers.some((t) => t.outcome === 'sent'),
    });
  }
  return out;
}
