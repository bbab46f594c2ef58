/**
 * The whole event path in one process, on the in-memory ports: ingest →
 * (the table stream, filtered to the trigger rules' event types) → churn
 * triggers → (the bus rule for ChurnTriggerFired) → campaigns; erasure requests → erasure. The same domain
 * functions the Lambda handlers call (ingestBatch, fireTriggers, sendCampaign, eraseOnRequest),
 * with the same rules and guardrails; only the transport is replaced, by
 * queues drained in order. Deterministic for a clock.
 *
 * Used by the orchestration tests (no Java, no emulators), by the synthetic
 * generator to predict which billing complaints get an email, and by the local
 * run, which compares the path it computes with what the real stack produced.
 */
import type { BusinessEvent, ChurnTriggerFired } from '../events/catalog.ts';
import { applyEvent, emptyProfile } from '../customers/profile.ts';
import { ingestBatch, type IngestResult } from '../ingest/ingest-event.ts';
import { fireTriggers } from '../triggers/fire-triggers.ts';
import { eraseOnRequest } from '../privacy/erasure.ts';
import { triggerEventTypes } from '../triggers/rules.ts';
import type { TriggerConfig } from '../triggers/config.ts';
import { InMemoryTimerStore } from '../timers/in-memory-timer-store.ts';
import { sendCampaign, type CampaignOutcome } from '../campaigns/send-campaign.ts';
import type { SendPolicy } from '../campaigns/guardrails.ts';
import type { LinkSettings } from '../campaigns/messages.ts';
import type { CustomerStore, ProfileFold } from '../ports.ts';
import { validateInbound } from '../events/validate.ts';
import { subscriptions, type RuleSubscription } from '../wiring.ts';
import { InMemoryCustomerStore, InMemoryEventPublisher, InMemoryMailer, InMemoryConsentLedger, InMemoryPrivacyStore, InMemoryRejectedEventSink, forgetIn, InMemoryRejectionLedger } from './in-memory-ports.ts';

export type PipelineOptions = {
  /** The clock every step reads (the handlers read the wall clock). */
  now: () => Date;
  /** Default: an in-memory store (the contract test passes the DynamoDB adapter). */
  store?: CustomerStore;
  triggerConfig?: TriggerConfig;
  sendPolicy?: SendPolicy;
  links?: LinkSettings;
  profiles?: ProfileFold;
};

/** What a producer puts on the bus, as PutEvents takes it. */
export type BusEntry = { Source: string; DetailType: string; Detail: string; Time?: Date };

export type TriggerResult = { event: BusinessEvent; fired: ChurnTriggerFired[] };
export type CampaignResult = { trigger: ChurnTriggerFired; outcome: CampaignOutcome };

/** The stream subscription's filter passes inserted events of these types (wiring.ts builds it from the same list). */
const streamTypes = new Set<string>(triggerEventTypes);
const ruleOf = (fn: string) => subscriptions.find((s): s is RuleSubscription => s.kind === 'rule' && s.function === fn)!;
/** The detail-types the campaigns function's bus rule routes to it (in any branch of an `$or`). */
const campaignPattern = ruleOf('campaigns').pattern;
const campaignDetailTypes = new Set(
  ((campaignPattern.$or as (typeof campaignPattern)[] | undefined) ?? [campaignPattern]).flatMap((p) => (p['detail-type'] as string[] | undefined) ?? []),
);
/** Messages per ingest invocation, as the ingest rule's event source batches them. */
const INGEST_BATCH = ruleOf('ingest').batchSize;

const DEFAULT_LINKS: LinkSettings = { unsubscribeBaseUrl: 'https://example.invalid/unsubscribe', helpBaseUrl: 'https://example.invalid/help' };

/**
 * The body an SQS message of the ingest rule carries for a PutEvents entry, or
 * undefined for one the bus itself refuses (Detail that is not a JSON object).
 */
export function busEnvelope(entry: BusEntry, id: string): string | undefined {
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    return undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return undefined;
  const time = (entry.Time ?? new Date(0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return JSON.stringify({ version: '0', id, 'detail-type': entry.DetailType, source: entry.Source, time, resources: [], detail });
}

export function createPipeline(options: PipelineOptions) {
  const store = options.store ?? new InMemoryCustomerStore(options.profiles ?? { empty: emptyProfile, apply: applyEvent });
  const publisher = new InMemoryEventPublisher();
  /** The timers the triggers set (stuck orders, stopped usage); the pure pipeline does not sweep them. */
  const timers = new InMemoryTimerStore();
  const mailer = new InMemoryMailer();
  const rejected = new InMemoryRejectedEventSink();
  const rejections = new InMemoryRejectionLedger();
  const consent = new InMemoryConsentLedger();
  const privacy = new InMemoryPrivacyStore(store instanceof InMemoryCustomerStore ? forgetIn(store, consent) : undefined);
  const now = options.now;
  const stream: BusinessEvent[] = [];
  const campaignQueue: ChurnTriggerFired[] = [];
  const triggerResults: TriggerResult[] = [];
  const campaignResults: CampaignResult[] = [];

  publisher.onPublished((e) => {
    // The rule takes triggers on the email route only (wiring.ts: `route` email or absent); those routed to people get no email.
    if (e.detailType === 'ChurnTriggerFired' && campaignDetailTypes.has(e.detailType) && e.detail.route !== 'outreach') campaignQueue.push(e.detail);
  });

  /** The churn-triggers step for one stored event (a stream record); a redelivery is this called again. */
  const deliverStoredEvent = async (event: BusinessEvent): Promise<ChurnTriggerFired[]> => {
    const fired = await fireTriggers(event, { store, publisher, timers, now, config: options.triggerConfig });
    triggerResults.push({ event, fired });
    return fired;
  };

  /** The campaigns step for one ChurnTriggerFired (a message of its rule's queue); a redelivery is this called again. */
  const deliverTrigger = async (trigger: ChurnTriggerFired): Promise<CampaignOutcome> => {
    const outcome = await sendCampaign(trigger, { store, publisher, mailer, now, links: options.links ?? DEFAULT_LINKS, policy: options.sendPolicy, privacy });
    campaignResults.push({ trigger, outcome });
    return outcome;
  };

  /** Runs the stream and the campaign queue until both are empty, each in order. */
  const drain = async (): Promise<void> => {
    while (stream.length || campaignQueue.length) {
      while (stream.length) await deliverStoredEvent(stream.shift()!);
      while (campaignQueue.length) await deliverTrigger(campaignQueue.shift()!);
    }
  };

  /**
   * The ingest step for one batch of SQS bodies (EventBridge events as JSON), then everything it
   * caused: each event stored (not a duplicate) is an INSERT on the table stream.
   */
  const ingest = async (raws: string[]): Promise<IngestResult[]> => {
    const results = await ingestBatch(raws, { store, rejected, rejections, consent, privacy, now });
    // The erasure function's rule gets the same CustomerErasureRequested events (ingest stores none of them).
    for (const [i, r] of results.entries()) if (r.outcome === 'erased' && r.type === 'CustomerErasureRequested') await eraseOnRequest(raws[i]!, { store, privacy, now });
    results.forEach((r, i) => {
      if (r.outcome === 'failed') throw r.error;
      if (r.outcome !== 'stored' || !streamTypes.has(r.type)) return;
      const v = validateInbound(raws[i]!, now());
      if (v.ok) stream.push(v.event);
    });
    await drain();
    return results;
  };

  /** Ingests bodies in batches (as the ingest rule's event source does), each followed by the triggers and emails it caused. */
  const run = async (raws: readonly string[], batchSize = INGEST_BATCH): Promise<IngestResult[]> => {
    const results: IngestResult[] = [];
    for (let i = 0; i < raws.length; i += batchSize) results.push(...(await ingest(raws.slice(i, i + batchSize))));
    return results;
  };

  return { store, publisher, mailer, rejected, consent, privacy, timers, ingest, run, drain, deliverStoredEvent, deliverTrigger, triggerResults, campaignResults };
}

export type Pipeline = ReturnType<typeof createPipeline>;
