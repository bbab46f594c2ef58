/**
 * The event catalog: every business event the bus accepts and every event the
 * stack emits itself. One zod schema per `detail-type`; the schema version is
 * carried in `detail.schemaVersion` (defaults to 1).
 *
 * Producers may send events in any order and more than once. `detail.eventId`
 * is the producer's own id for the business fact and is the idempotency key
 * (EventBridge's envelope id changes when a producer retries PutEvents).
 */
import { z } from 'zod';
import { firstControlChar } from '../text/control-chars.ts';

/** Sources starting with this prefix are events the stack emits itself. */
export const CLM_SOURCE_PREFIX = 'clm.';
export const EMITTED_SOURCES = {
  triggers: 'clm.triggers',
  scoring: 'clm.scoring',
  outreach: 'clm.outreach',
  campaigns: 'clm.campaigns',
  backfill: 'clm.backfill',
  winback: 'clm.winback',
} as const;

/** EventBridge's own limit for one entry (detail + envelope). */
export const MAX_EVENT_BYTES = 256 * 1024;

/**
 * Refuses control characters (CR, LF, tab, NUL, …, U+2028/9) in a single-line
 * value: a name may end up in an email header, and none of these belongs in
 * an id, a name or a label. The reason names the character and its position,
 * never the value. Only the issue's path and message reach the reason
 * (validate.ts), so the issue is given as its message (zod makes it `custom`).
 */
const noControlChars = (s: string, ctx: z.RefinementCtx) => {
  const found = firstControlChar(s);
  if (found) ctx.addIssue(`must not contain control characters such as CR or LF (found ${found.codePoint} at position ${found.index})`);
};
/** A single line of producer text of at most `max` characters. */
const line = (max: number) => z.string().max(max).superRefine(noControlChars);

const id = z.string().trim().min(1).max(128).superRefine(noControlChars);
const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();
const money = z.number().finite().nonnegative().max(1e9);
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR');

/** Fields every business event carries in its detail. */
export const baseDetail = z.object({
  // Stryker disable next-line StringLiteral: a schema description (documentation); validation does not read it
  eventId: id.describe('Producer-supplied id of this business fact; the idempotency key'),
  customerId: id,
  // Stryker disable next-line StringLiteral: a schema description (documentation); validation does not read it
  occurredAt: isoDateTime.describe('When the fact happened at the producer (ISO 8601 with offset)'),
  schemaVersion: z.literal(1).default(1),
});

export const supportReasons = ['billing', 'network', 'technical', 'product', 'delivery', 'cancellation', 'other'] as const;
export const orderStatuses = ['placed', 'preparing', 'shipped', 'delivered', 'cancelled'] as const;
export const channels = ['email', 'sms', 'push', 'phone', 'mail'] as const;
/** Where a consent change was made (the consent ledger's `source`). */
export const consentSources = ['unsubscribe-link', 'exit-survey', 'customer-service', 'import', 'api', 'double-opt-in'] as const;
/** What SES reported about an email (shared/email-feedback/ses-events.ts maps SES's events to these). */
export const emailFeedbackKinds = ['delivery', 'bounce', 'complaint', 'open', 'click', 'reject', 'rendering-failure'] as const;
/**
 * Detail-types only an AWS service may put, by the only source accepted for each: EventBridge refuses
 * `aws.*` sources in PutEvents, so no producer can forge them (ingest rejects them from any other source).
 */
export const serviceOnlyDetailTypes: Partial<Record<string, string>> = { EmailFeedback: 'aws.ses' };
/** Why a customer leaves: the fixed taxonomy of cancellations, account closures and exit surveys (free text beside it). */
export const exitReasons = ['price', 'service-quality', 'network', 'billing', 'moved', 'competitor', 'no-longer-needed', 'other'] as const;
export type ExitReason = (typeof exitReasons)[number];
/** What a consent is for: marketing and service per channel; winback contact after leaving (any channel). */
export const consentPurposes = ['marketing', 'service', 'winback'] as const;

/** The answers to the exit survey's two questions, on a cancellation, a closure or later (ExitSurveyAnswered). */
const leavingAnswers = {
  reasonCode: z.enum(exitReasons).optional().describe('Why the customer leaves, from the fixed taxonomy'),
  reason: line(200).min(1).optional().describe('Free text in the customer\'s (or agent\'s) words'),
  allowWinbackContact: z.boolean().optional().describe('The answer to "may we contact you later?"; absent: not asked'),
  /** The version of the question's wording the customer answered (the consent ledger keeps it). */
  wordingVersion: line(64).min(1).optional(),
};

export const inboundSchemas = {
  CustomerProfileUpdated: baseDetail.extend({
    email: z.email().optional(),
    firstName: line(100).optional(),
    locale: line(35).optional(),
    timeZone: line(64).optional().describe('IANA time zone, e.g. Europe/Amsterdam'),
    preferredChannel: z.enum(channels).optional(),
    preferredHour: z.number().int().min(0).max(23).optional().describe('Local hour the customer prefers to hear from us'),
    customerType: z.enum(['subscription', 'adhoc']).optional(),
  }),
  OrderPlaced: baseDetail.extend({
    orderId: id,
    amount: money,
    currency,
    items: z.array(z.object({ sku: id, quantity: z.number().int().positive(), price: money, category: line(64).optional() })).max(500).optional(),
  }),
  OrderStatusChanged: baseDetail.extend({
    orderId: id,
    status: z.enum(orderStatuses),
  }),
  OrderReturned: baseDetail.extend({
    orderId: id,
    amount: money,
    currency,
    reason: line(200).optional(),
  }),
  InvoiceIssued: baseDetail.extend({
    invoiceId: id,
    kind: z.enum(['invoice', 'statement']).default('invoice'),
    amount: money,
    currency,
    dueDate: isoDate.optional(),
  }),
  UsageRecorded: baseDetail.extend({
    productId: id,
    quantity: z.number().finite().nonnegative(),
    unit: line(32).min(1),
  }),
  SupportCallLogged: baseDetail.extend({
    callId: id,
    reason: z.enum(supportReasons),
    channel: z.enum(['phone', 'chat', 'email', 'store']).default('phone'),
  }),
  SupportCallResolved: baseDetail.extend({
    callId: id,
    resolutionMinutes: z.number().finite().nonnegative(),
    resolved: z.boolean().default(true),
  }),
  SubscriptionStarted: baseDetail.extend({
    subscriptionId: id,
    productId: id,
    plan: line(64).min(1),
    monthlyPrice: money,
    currency,
  }),
  SubscriptionChanged: baseDetail.extend({
    subscriptionId: id,
    productId: id,
    plan: line(64).min(1),
    monthlyPrice: money,
    currency,
    change: z.enum(['upgrade', 'downgrade', 'other']),
  }),
  SubscriptionCancelled: baseDetail.extend({
    subscriptionId: id,
    productId: id,
    ...leavingAnswers,
  }),
  /** The customer asked to leave but has not yet: a save offer goes first where configured. */
  CancellationRequested: baseDetail.extend({
    subscriptionId: id.optional(),
    productId: id.optional(),
    reasonCode: leavingAnswers.reasonCode,
    reason: leavingAnswers.reason,
  }),
  /** The whole account is closed (every subscription ends). */
  AccountClosed: baseDetail.extend({
    ...leavingAnswers,
  }),
  /** The exit survey's answers, joining a cancellation or closure that came without them (or correcting them). */
  ExitSurveyAnswered: baseDetail
    .extend({
      subscriptionId: id.optional().describe('The cancelled subscription; absent: the account (or every cancellation)'),
      reasonCode: z.enum(exitReasons),
      /** The customer's own words (required with reason `other`, optional otherwise). */
      reason: line(500).min(1).optional(),
      allowWinbackContact: z.boolean().describe('The answer to "may we contact you later?" (winback permission)'),
      wordingVersion: leavingAnswers.wordingVersion,
      source: z.enum(consentSources).default('exit-survey'),
      actor: id.optional().describe('Who recorded it: the customer (absent) or an agent id'),
    })
    .refine((d) => d.reasonCode !== 'other' || (d.reason?.trim() ?? '') !== '', { message: 'reason (free text) is required when reasonCode is other', path: ['reason'] }),
  /** Erase the customer's personal data and events (right to be forgotten). */
  CustomerErasureRequested: baseDetail.extend({
    requestedBy: id.describe('Who asked for it: an agent or a system id (kept, without personal data, in the erasure record)'),
  }),
  PaymentFailed: baseDetail.extend({
    paymentId: id,
    amount: money,
    currency,
    reason: line(200).optional(),
  }),
  ProductAdopted: baseDetail.extend({
    productId: id,
  }),
  ConsentChanged: baseDetail.extend({
    channel: z.enum(channels),
    purpose: z.enum(consentPurposes).default('marketing'),
    granted: z.boolean(),
    source: z.enum(consentSources).default('api'),
    actor: id.optional().describe('Who recorded it: the customer (absent) or an agent or system id'),
    wordingVersion: line(64).min(1).optional().describe('The version of the consent wording the customer saw'),
    expiresAt: isoDateTime.optional().describe('When a grant lapses; winback grants default to the winbackPermissionMonths setting'),
    /** Double opt-in: `requested` (the confirmation email went out; not yet a grant), then `confirmed` (the grant). */
    doubleOptIn: z.enum(['requested', 'confirmed']).optional(),
  }),
  EmailFeedback: baseDetail
    .extend({
      kind: z.enum(emailFeedbackKinds),
      /** SES's message id of the email. */
      messageId: id,
      /** The send ledger entry of the email and its campaign (from the email's tags). */
      sendId: id.optional(),
      campaign: line(64).optional(),
      /** Bounces: `permanent` (a hard bounce: suppressed), `transient` or `undetermined` (soft: counted). */
      bounceType: z.enum(['permanent', 'transient', 'undetermined']).optional(),
      bounceSubType: line(64).optional(),
      /** SHA-256 (hex) of the lower-cased recipient address the feedback is about: which address to suppress, without keeping it. */
      addressHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    })
    .refine((d) => (d.kind === 'bounce') === (d.bounceType !== undefined), { message: 'bounceType is required for a bounce, and only for one', path: ['bounceType'] }),
} as const;

export type InboundDetailType = keyof typeof inboundSchemas;
export const inboundDetailTypes = Object.keys(inboundSchemas) as InboundDetailType[];
export type InboundDetail<T extends InboundDetailType = InboundDetailType> = z.infer<(typeof inboundSchemas)[T]>;

/** A validated inbound business event, discriminated on `type`. */
export type BusinessEvent = {
  [K in InboundDetailType]: { type: K; source: string; detail: z.infer<(typeof inboundSchemas)[K]> };
}[InboundDetailType];

export const triggerKinds = ['single', 'collective', 'timer'] as const;
export const nextActions = ['retention-save', 'winback', 'education', 'usage-stimulation', 'cross-sell', 'up-sell', 'down-sell', 'reward', 'service-recovery', 'payment-help', 'none'] as const;

export const emittedSchemas = {
  ChurnTriggerFired: z.object({
    triggerId: id.describe('Deterministic: rule + the event that completed it; idempotency key downstream'),
    customerId: id,
    rule: z.string().min(1),
    kind: z.enum(triggerKinds),
    action: z.enum(nextActions),
    reasons: z.array(z.string()).min(1),
    churnRiskBoost: z.number().min(0).max(1),
    sourceEventIds: z.array(id).min(1),
    /** The customer's value when it fired, from the latest nightly score (absent: not scored yet). */
    clv: z.number().nonnegative().optional(),
    valueTier: z.string().optional(),
    /** The nightly churn risk raised by this trigger (docs/triggers.md, "Churn risk"); absent: not scored yet. */
    churnRisk: z.number().min(0).max(1).optional(),
    /** Who follows it up: `email` (absent: email; the campaigns function's rule takes these) or `outreach` (an OutreachTaskCreated for people). */
    route: z.enum(['email', 'outreach']).optional(),
    firedAt: isoDateTime,
    schemaVersion: z.literal(1).default(1),
  }),
  /**
   * A personal-outreach task for people (a CRM or contact centre). Deduplicate on `taskId`. Two kinds:
   * a churn trigger routed to people by value (`purpose` absent or `churn-trigger`: docs/triggers.md),
   * or a step of the winback sequence for a high-value former customer (`purpose: winback`: docs/consent.md).
   */
  OutreachTaskCreated: z.union([
    z.object({
      /** The trigger's id: one task per trigger; the idempotency key for the CRM or contact centre. */
      taskId: id,
      customerId: id,
      purpose: z.literal('churn-trigger').optional(),
      triggerId: id,
      rule: z.string().min(1),
      action: z.enum(nextActions),
      reasons: z.array(z.string()).min(1),
      clv: z.number().nonnegative(),
      valueTier: z.string(),
      churnRisk: z.number().min(0).max(1),
      /** The UTC day whose capacity the task counts against. */
      capacityDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      createdAt: isoDateTime,
      schemaVersion: z.literal(1).default(1),
    }),
    z.object({
      /** Deterministic: the sequence step; the same task is published again only if its first publish is not known to have gone out. */
      taskId: id,
      customerId: id,
      purpose: z.literal('winback'),
      offer: z.string().min(1),
      step: z.number().int().positive(),
      reasonCode: z.string().min(1),
      createdAt: isoDateTime,
      schemaVersion: z.literal(1).default(1),
    }),
  ]),
  CustomerRescored: z.object({
    customerId: id,
    clv: z.number().nonnegative(),
    churnRisk: z.number().min(0).max(1),
    valueTier: z.string(),
    nextBestAction: z.enum(nextActions),
    scoredAt: isoDateTime,
    schemaVersion: z.literal(1).default(1),
  }),
  OutreachPlanned: z.object({
    planId: id,
    customerId: id,
    group: z.enum(['treatment', 'control']),
    rank: z.number().int().positive(),
    plannedAt: isoDateTime,
    schemaVersion: z.literal(1).default(1),
  }),
  NightlyRunCompleted: z.object({
    runId: id,
    runDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    /** the model the night's scores were made with (an earlier night's when the night ran in one pass) */
    modelId: id,
    /** the model fitted (or reused) tonight: the one `fitStatus` and `models` describe (absent from runs before one-pass nights: `modelId`) */
    fittedModelId: id.optional(),
    /** 1: scored with an earlier night's model while gathering tonight's fit sample, then fitted; 2: gathered, fitted, then scored (absent: 2) */
    passes: z.union([z.literal(1), z.literal(2)]).optional(),
    /** 'degraded': a model was kept from an earlier run or is missing; `alarm` when that needs attention */
    fitStatus: z.enum(['fitted', 'degraded']),
    alarm: z.boolean(),
    /** per model: tonight's fit, the previous one kept (with why), or none */
    models: z.record(z.string(), z.object({ source: z.enum(['tonight', 'previous', 'none']), reason: z.string().optional(), params: z.record(z.string(), z.number()).optional(), logLikelihood: z.number().optional() })),
    customersRead: z.number().int().nonnegative(),
    written: z.number().int().nonnegative(),
    unchanged: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
    skippedReasons: z.record(z.string(), z.number().int().nonnegative()),
    failed: z.number().int().nonnegative(),
    emitted: z.number().int().nonnegative(),
    consumedReadUnits: z.number().nonnegative(),
    consumedWriteUnits: z.number().nonnegative(),
    durations: z.record(z.string(), z.object({ count: z.number().int(), totalMs: z.number(), maxMs: z.number() })),
    failedSegments: z.array(z.string()),
    outreach: z.object({ period: z.string(), quota: z.number().int().nonnegative(), planned: z.number().int().nonnegative(), treated: z.number().int().nonnegative() }),
    completedAt: isoDateTime,
    schemaVersion: z.literal(1).default(1),
  }),
  EmailSent: z.object({
    sendId: id,
    customerId: id,
    campaign: z.string(),
    templateId: z.string(),
    messageId: z.string(),
    sentAt: isoDateTime,
    schemaVersion: z.literal(1).default(1),
  }),
  EmailSkipped: z.object({
    sendId: id,
    customerId: id,
    campaign: z.string(),
    reason: z.string(),
    skippedAt: isoDateTime,
    schemaVersion: z.literal(1).default(1),
  }),
  /** One backfilled file is done (shared/backfill): its figures; the rejected rows are in the execution output and the function's log. */
  BackfillCompleted: z.object({
    runId: id,
    file: z.string().min(1).max(1024),
    batches: z.number().int().nonnegative(),
    failedBatches: z.number().int().nonnegative(),
    rowsRead: z.number().int().nonnegative(),
    rowsRejected: z.number().int().nonnegative(),
    eventsStored: z.number().int().nonnegative(),
    duplicates: z.number().int().nonnegative(),
    deferred: z.number().int().nonnegative(),
    customersWritten: z.number().int().nonnegative(),
    consentRecords: z.number().int().nonnegative().default(0),
    timersSet: z.number().int().nonnegative().default(0),
    timersOverdue: z.number().int().nonnegative().default(0),
    completedAt: isoDateTime,
    schemaVersion: z.literal(1).default(1),
  }),
  /** A deferred send whose time has come (its durable timer fired): the campaign request, back to campaigns. */
  CampaignSendDue: z.object({
    customerId: id,
    requestId: z.string().min(1).max(512),
    campaign: z.string().min(1).max(64),
    source: z.enum(['trigger', 'next-best-action', 'event']),
    rule: z.string().max(128),
    nextBestAction: z.enum(nextActions).optional(),
    document: z
      .object({ kind: z.enum(['statement', 'invoice', 'collection-notice']), number: z.string().min(1).max(128), amount: z.number().finite(), currency: z.string().min(1).max(8) })
      .optional(),
    /** The offer the source chose (a winback step's). */
    offerId: z.string().min(1).max(128).optional(),
    dueAt: isoDateTime,
    schemaVersion: z.literal(1).default(1),
  }),
} as const;

export type EmittedDetailType = keyof typeof emittedSchemas;
export type EmittedDetail<T extends EmittedDetailType> = z.infer<(typeof emittedSchemas)[T]>;
export type ChurnTriggerFired = EmittedDetail<'ChurnTriggerFired'>;

/** Which emitted detail-type comes from which source. */
export const emittedSource: Record<EmittedDetailType, string> = {
  ChurnTriggerFired: EMITTED_SOURCES.triggers,
  CustomerRescored: EMITTED_SOURCES.scoring,
  OutreachPlanned: EMITTED_SOURCES.outreach,
  OutreachTaskCreated: EMITTED_SOURCES.outreach,
  NightlyRunCompleted: EMITTED_SOURCES.scoring,
  EmailSent: EMITTED_SOURCES.campaigns,
  EmailSkipped: EMITTED_SOURCES.campaigns,
  BackfillCompleted: EMITTED_SOURCES.backfill,
  CampaignSendDue: EMITTED_SOURCES.campaigns,
};
