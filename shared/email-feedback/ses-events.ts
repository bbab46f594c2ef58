/**
 * SES's email events, as its configuration set publishes them to the
 * account's default EventBridge bus (source `aws.ses`, detail-types
 * `Email Bounced`, `Email Complaint Received`, …; the detail is SES's event
 * record: `eventType`, `mail` with the email's tags, and one object for the
 * event type), turned into the stack's own `EmailFeedback` business event.
 *
 * The customer and the send come from the email's tags, which the campaigns
 * function sets on every email (`feedbackTags`): `clm-customer` and `clm-send`
 * (base64url, as SES allows only letters, digits, `_` and `-` in tag values)
 * and `campaign`. An event without them is not one of ours (another sender on
 * the same configuration set) and is ignored. No address is kept: the one the
 * feedback is about becomes its hash (`emailAddressHash`). Pure.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { BusinessEvent, emailFeedbackKinds } from '../events/catalog.ts';
import { describeIssues, validateInbound, type Rejection } from '../events/validate.ts';
import { emailAddressHash } from '../customers/profile.ts';
import type { DeliverabilityCount } from '../campaigns/circuit-breaker.ts';

export const SES_SOURCE = 'aws.ses';

/** The detail-types of the SES events the stack records, by the feedback kind each becomes. */
export const sesDetailTypes: Record<(typeof emailFeedbackKinds)[number], string> = {
  delivery: 'Email Delivered',
  bounce: 'Email Bounced',
  complaint: 'Email Complaint Received',
  open: 'Email Opened',
  click: 'Email Clicked',
  reject: 'Email Rejected',
  'rendering-failure': 'Email Rendering Failed',
};
/**
 * SES's Send event: SES accepted the email. It is not stored on the customer; it is counted in the
 * deliverability circuit breaker's window (the sends the bounce and complaint rates are taken over)
 * and it confirms the email's send-ledger entry (shared/email-feedback/record-feedback.ts).
 */
export const SES_SEND_DETAIL_TYPE = 'Email Sent';
/** Every detail-type the feedback rule routes: the Send event and the recorded kinds. */
export const routedSesDetailTypes: readonly string[] = [SES_SEND_DETAIL_TYPE, ...Object.values(sesDetailTypes)];
const kindByDetailType = new Map(Object.entries(sesDetailTypes).map(([kind, type]) => [type, kind as keyof typeof sesDetailTypes]));

/** Tag names the feedback reads from an email (SES publishes an email's tags with every event of it). */
export const FEEDBACK_TAGS = { customer: 'clm-customer', send: 'clm-send', campaign: 'campaign' } as const;
/** SES's limit for a tag value. */
const MAX_TAG_VALUE = 256;

/**
 * The tags to set on an email so its SES events can be recorded on the customer: the customer id
 * and the send id, base64url. A value over SES's 256 characters (a customer id of more than 192
 * bytes) is left out: that email's feedback is then not attributable (and is ignored).
 */
export function feedbackTags(customerId: string, sendId: string): { name: string; value: string }[] {
  const tag = (name: string, value: string) => {
    const encoded = Buffer.from(value, 'utf8').toString('base64url');
    return encoded.length <= MAX_TAG_VALUE ? [{ name, value: encoded }] : [];
  };
  return [...tag(FEEDBACK_TAGS.customer, customerId), ...tag(FEEDBACK_TAGS.send, sendId)];
}

const timestamp = z.iso.datetime({ offset: true });
const recipients = z.array(z.object({ emailAddress: z.string().min(1) }).loose()).min(1);
/** The parts of SES's event record the stack reads; anything else SES adds is allowed. */
const SesDetail = z
  .object({
    eventType: z.string().min(1),
    mail: z
      .object({
        messageId: z.string().min(1).max(256),
        timestamp,
        destination: z.array(z.string()).default([]),
        tags: z.record(z.string(), z.array(z.string())).default({}),
      })
      .loose(),
    bounce: z
      .object({ bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']), bounceSubType: z.string().max(64).optional(), bouncedRecipients: recipients, timestamp, feedbackId: z.string().optional() })
      .loose()
      .optional(),
    complaint: z.object({ complainedRecipients: recipients, timestamp, feedbackId: z.string().optional() }).loose().optional(),
    delivery: z.object({ timestamp }).loose().optional(),
    open: z.object({ timestamp }).loose().optional(),
    click: z.object({ timestamp, link: z.string().optional() }).loose().optional(),
    reject: z.object({ reason: z.string().optional() }).loose().optional(),
    failure: z.object({ errorMessage: z.string().optional(), templateName: z.string().optional() }).loose().optional(),
  })
  .loose();
const SesEvent = z.object({ source: z.literal(SES_SOURCE), 'detail-type': z.string(), time: timestamp, detail: SesDetail }).loose();

export type SesFeedback =
  | { outcome: 'feedback'; event: BusinessEvent }
  /** SES's Send event of one of our emails: SES accepted it (`at`: when; `eventId`: the same for a redelivery). */
  | { outcome: 'accepted'; customerId: string; sendId?: string; messageId: string; at: string; eventId: string }
  /** Not recorded: an SES event type the stack does not keep, or an email without the stack's tags. */
  | { outcome: 'ignored'; reason: 'not-recorded-type' | 'not-ours'; detailType?: string }
  | { outcome: 'invalid'; rejection: Rejection };

const invalid = (code: Rejection['code'], reason: string, detailType?: string): SesFeedback => ({
  outcome: 'invalid',
  rejection: { ok: false, code, reason, source: SES_SOURCE, ...(detailType ? { detailType } : {}) },
});

const decodeTag = (tags: Record<string, string[]>, name: string): string | undefined => {
  const v = tags[name]?.[0];
  if (!v || !/^[A-Za-z0-9_-]+$/.test(v)) return undefined;
  const decoded = Buffer.from(v, 'base64url').toString('utf8');
  return Buffer.from(decoded, 'utf8').toString('base64url') === v ? decoded : undefined;
};

/** One SES event (as the bus rule delivers it) → the EmailFeedback to store, or why not. `now` bounds its time, as for any event. */
export function feedbackFromSesEvent(raw: unknown, now: Date): SesFeedback {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return invalid('not-json', 'body is not JSON');
    }
  }
  const detailType = (value as { 'detail-type'?: unknown } | null)?.['detail-type'];
  const kind = typeof detailType === 'string' ? kindByDetailType.get(detailType) : undefined;
  const parsed = SesEvent.safeParse(value);
  if (!parsed.success) return invalid('bad-envelope', `not an SES event: ${describeIssues(parsed.error)}`, typeof detailType === 'string' ? detailType : undefined);
  const accepted = parsed.data['detail-type'] === SES_SEND_DETAIL_TYPE;
  if (!kind && !accepted) return { outcome: 'ignored', reason: 'not-recorded-type', detailType: parsed.data['detail-type'] };
  const { detail, time } = parsed.data;
  const { mail } = detail;

  const customerId = decodeTag(mail.tags, FEEDBACK_TAGS.customer);
  if (!customerId) return { outcome: 'ignored', reason: 'not-ours', detailType: parsed.data['detail-type'] };
  const sendId = decodeTag(mail.tags, FEEDBACK_TAGS.send);
  const campaign = mail.tags[FEEDBACK_TAGS.campaign]?.[0];
  if (!kind) {
    // SES publishes one Send event per email: the message id names it.
    const eventId = `ses-send-${createHash('sha256').update(`send\n${mail.messageId}`, 'utf8').digest('hex').slice(0, 40)}`;
    return { outcome: 'accepted', customerId, ...(sendId ? { sendId } : {}), messageId: mail.messageId, at: new Date(mail.timestamp).toISOString(), eventId };
  }

  const sub = { bounce: detail.bounce, complaint: detail.complaint, delivery: detail.delivery, open: detail.open, click: detail.click, reject: detail.reject, 'rendering-failure': detail.failure }[kind];
  if (!sub) return invalid('invalid-detail', `${parsed.data['detail-type']}: detail.${kind === 'rendering-failure' ? 'failure' : kind}: missing`, parsed.data['detail-type']);
  const occurredAt = 'timestamp' in sub && typeof sub.timestamp === 'string' ? sub.timestamp : time;
  const address = detail.bounce?.bouncedRecipients[0]?.emailAddress ?? detail.complaint?.complainedRecipients[0]?.emailAddress ?? mail.destination[0];
  const feedbackId = detail.bounce?.feedbackId ?? detail.complaint?.feedbackId ?? '';
  // The same SES event delivered twice gets the same id (stored once); two opens of one email are two events.
  const fingerprint = [kind, mail.messageId, occurredAt, feedbackId, detail.click?.link ?? ''].join('\n');
  const eventId = `ses-${kind}-${createHash('sha256').update(fingerprint, 'utf8').digest('hex').slice(0, 40)}`;

  const result = validateInbound(
    {
      source: SES_SOURCE,
      'detail-type': 'EmailFeedback',
      detail: {
        eventId,
        customerId,
        occurredAt,
        kind,
        messageId: mail.messageId,
        ...(sendId ? { sendId } : {}),
        ...(campaign ? { campaign } : {}),
        ...(detail.bounce ? { bounceType: detail.bounce.bounceType.toLowerCase(), ...(detail.bounce.bounceSubType ? { bounceSubType: detail.bounce.bounceSubType } : {}) } : {}),
        ...(address ? { addressHash: emailAddressHash(address) } : {}),
      },
    },
    now,
  );
  if (!result.ok) return invalid(result.code, result.reason, parsed.data['detail-type']);
  return { outcome: 'feedback', event: result.event };
}

/**
 * What an SES event adds to the deliverability circuit breaker's window: a Send event an email
 * SES accepted, a permanent (hard) bounce a bounce, a complaint a complaint (as SES's own bounce
 * and complaint rates count them); nothing for any other event.
 */
export function deliverabilityCountOf(f: SesFeedback): DeliverabilityCount | undefined {
  if (f.outcome === 'accepted') return { eventId: f.eventId, kind: 'sends', at: new Date(f.at) };
  if (f.outcome !== 'feedback') return undefined;
  const d = f.event.detail as { eventId: string; occurredAt: string; kind?: string; bounceType?: string };
  if (d.kind === 'complaint') return { eventId: d.eventId, kind: 'complaints', at: new Date(d.occurredAt) };
  if (d.kind === 'bounce' && d.bounceType === 'permanent') return { eventId: d.eventId, kind: 'bounces', at: new Date(d.occurredAt) };
  return undefined;
}
