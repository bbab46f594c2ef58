import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyEvent, emailAddressHash, emailSuppressed, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import { FEEDBACK_TAGS, deliverabilityCountOf, feedbackFromSesEvent, feedbackTags, sesDetailTypes } from '../../../shared/email-feedback/ses-events.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import { businessEvent } from '../../support/events.ts';

type SesEvent = { 'detail-type': string; time: string; detail: { mail: { messageId: string; tags: Record<string, string[]> }; [k: string]: unknown } };
const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/aws/ses-events.json', import.meta.url), 'utf8')) as SesEvent[];
const NOW = new Date('2026-12-01T00:00:00Z');
const LIN = emailAddressHash('lin@example.net');
const SEND = 'retention-save#billing-complaint#aws-1#call-aws-1';
const MESSAGE = '0102019a6f5e3c21-7d1f9a8e-4b2c-4e0f-9a31-5c2b8d7e6f10-000000';

const feedbackOf = (e: unknown): BusinessEvent => {
  const r = feedbackFromSesEvent(JSON.stringify(e), NOW);
  if (r.outcome !== 'feedback') throw new Error(JSON.stringify(r));
  return r.event;
};

describe('SES events (test/fixtures/aws/ses-events.json) → EmailFeedback', () => {
  it('maps each recorded type to its kind, with the customer and send from the tags and the address only as a hash', () => {
    const results = fixtures.map((e) => feedbackFromSesEvent(JSON.stringify(e), NOW));
    expect(results.map((r) => (r.outcome === 'feedback' ? (r.event.detail as { kind: string }).kind : `${r.outcome}:${'reason' in r ? r.reason : ''}`))).toEqual([
      'accepted:', // Email Sent: SES took the email (counted, confirms the ledger entry; not stored)
      'delivery',
      'open',
      'click',
      'bounce',
      'bounce',
      'complaint',
      'reject',
      'rendering-failure',
      'ignored:not-ours', // another sender's email on the same configuration set
    ]);
    const [, delivered, , , soft, hard, complaint, reject] = results.map((r) => (r.outcome === 'feedback' ? r.event : undefined));
    expect(delivered).toMatchObject({
      type: 'EmailFeedback',
      source: 'aws.ses',
      detail: { customerId: 'aws-1', kind: 'delivery', messageId: MESSAGE, sendId: SEND, campaign: 'retention-save', addressHash: LIN, occurredAt: '2026-11-20T08:14:06.120Z' },
    });
    expect(soft!.detail).toMatchObject({ bounceType: 'transient', bounceSubType: 'MailboxFull', occurredAt: '2026-11-21T10:00:00.000Z' });
    expect(hard!.detail).toMatchObject({ bounceType: 'permanent', bounceSubType: 'General', addressHash: LIN });
    expect(complaint!.detail).toMatchObject({ kind: 'complaint', addressHash: LIN });
    expect(complaint!.detail).not.toHaveProperty('bounceType');
    // no timestamp of its own: the event's time
    expect(reject!.detail.occurredAt).toBe('2026-11-20T08:14:05Z');
    // nothing of the address, the headers or the links is kept
    for (const r of results) expect(JSON.stringify(r)).not.toMatch(/lin@example\.net|lambda-url|Subject/);
  });

  it("SES's Send event: the customer, send and message from the email; not stored; counted as a send, as hard bounces and complaints are", () => {
    const results = fixtures.map((e) => feedbackFromSesEvent(JSON.stringify(e), NOW));
    expect(results[0]).toEqual({
      outcome: 'accepted',
      customerId: 'aws-1',
      sendId: SEND,
      messageId: MESSAGE,
      at: new Date((fixtures[0]!.detail.mail as unknown as { timestamp: string }).timestamp).toISOString(),
      eventId: expect.stringMatching(/^ses-send-[0-9a-f]{40}$/),
    });
    // redelivered: the same id (counted once)
    expect(feedbackFromSesEvent(JSON.stringify(structuredClone(fixtures[0])), NOW)).toEqual(results[0]);
    expect(results.map((r) => deliverabilityCountOf(r)?.kind ?? null)).toEqual([
      'sends', // Email Sent
      null, // delivery
      null, // open
      null, // click
      null, // a soft bounce is not counted (SES's bounce rate counts hard bounces)
      'bounces', // the hard bounce
      'complaints',
      null, // reject
      null, // rendering failure
      null, // another sender's
    ]);
    const hard = results[5]!;
    expect(deliverabilityCountOf(hard)).toEqual({ eventId: (hard as { event: BusinessEvent }).event.detail.eventId, kind: 'bounces', at: new Date((hard as { event: BusinessEvent }).event.detail.occurredAt) });
  });

  it('the same SES event twice gets the same eventId; two opens of one email are two events', () => {
    const open = fixtures[2]!;
    expect(feedbackOf(open).detail.eventId).toBe(feedbackOf(structuredClone(open)).detail.eventId);
    const later = structuredClone(open) as SesEvent & { detail: { open: { timestamp: string } } };
    later.detail.open.timestamp = '2026-11-20T18:00:00.000Z';
    expect(feedbackOf(later).detail.eventId).not.toBe(feedbackOf(open).detail.eventId);
    expect(feedbackOf(open).detail.eventId).toMatch(/^ses-open-[0-9a-f]{40}$/);
  });

  it('folded into the profile: hard bounce (then complaint) suppresses the address, soft bounce counted, open and click kept as a response', () => {
    let p: CustomerProfile = applyEvent(emptyProfile('aws-1'), businessEvent('CustomerProfileUpdated', { customerId: 'aws-1', email: 'Lin@Example.net', occurredAt: '2026-11-01T00:00:00Z' }));
    expect(emailSuppressed(p)).toBeUndefined();
    const events = fixtures.flatMap((e) => {
      const r = feedbackFromSesEvent(JSON.stringify(e), NOW);
      return r.outcome === 'feedback' ? [r.event] : [];
    });
    for (const e of [...events].reverse()) p = applyEvent(p, e);
    expect(emailSuppressed(p)).toBe('hard-bounce'); // the earliest cause stays
    expect(p.emailSuppressions).toEqual({ [LIN]: { value: 'hard-bounce', at: '2026-11-22T10:00:00.000Z', by: events[4]!.detail.eventId } });
    expect(p.emailStats).toEqual({ delivered: 1, softBounces: 1, lastSoftBounceAt: '2026-11-21T10:00:00.000Z', rejected: 1, renderingFailures: 1 });
    expect(p.emailResponses).toEqual({
      [MESSAGE]: { messageId: MESSAGE, sendId: SEND, campaign: 'retention-save', opens: 1, clicks: 1, firstOpenAt: '2026-11-20T09:02:11.000Z', firstClickAt: '2026-11-20T09:02:40.000Z' },
    });
    // A new address is not suppressed by the old one's bounce.
    p = applyEvent(p, businessEvent('CustomerProfileUpdated', { customerId: 'aws-1', email: 'lin.new@example.net', occurredAt: '2026-11-25T00:00:00Z' }));
    expect(emailSuppressed(p)).toBeUndefined();
  });

  it('a complaint alone suppresses; a soft bounce alone does not', () => {
    const base = applyEvent(emptyProfile('aws-1'), businessEvent('CustomerProfileUpdated', { customerId: 'aws-1', email: 'lin@example.net' }));
    expect(emailSuppressed(applyEvent(base, feedbackOf(fixtures[6])))).toBe('complaint');
    expect(emailSuppressed(applyEvent(base, feedbackOf(fixtures[4])))).toBeUndefined();
  });

  it('refuses what is not a valid SES event, with a reason that quotes no value', () => {
    const noBounce = structuredClone(fixtures[5]!) as SesEvent;
    delete (noBounce.detail as Record<string, unknown>).bounce;
    const badTime = structuredClone(fixtures[2]!) as SesEvent & { detail: { open: { timestamp: string } } };
    badTime.detail.open.timestamp = 'yesterday lin@example.net';
    const cases: [unknown, string, RegExp][] = [
      ['{not json', 'not-json', /^body is not JSON$/],
      [{ ...fixtures[1], source: 'com.example.fake' }, 'bad-envelope', /^not an SES event: source/],
      [noBounce, 'invalid-detail', /^Email Bounced: detail\.bounce: missing$/],
      [badTime, 'bad-envelope', /detail\.open\.timestamp/],
    ];
    for (const [raw, code, reason] of cases) {
      const r = feedbackFromSesEvent(typeof raw === 'string' ? raw : JSON.stringify(raw), NOW);
      expect(r.outcome).toBe('invalid');
      if (r.outcome !== 'invalid') continue;
      expect(r.rejection.code).toBe(code);
      expect(r.rejection.reason).toMatch(reason);
      expect(r.rejection.reason).not.toContain('lin@');
    }
  });

  it('a tag that is not canonical base64url is not ours (ignored, never mis-attributed)', () => {
    const odd = structuredClone(fixtures[1]!);
    odd.detail.mail.tags[FEEDBACK_TAGS.customer] = ['YXdzLTE='];
    expect(feedbackFromSesEvent(JSON.stringify(odd), NOW)).toMatchObject({ outcome: 'ignored', reason: 'not-ours' });
  });

  it('the rule takes exactly the recorded detail-types', () => {
    expect(Object.values(sesDetailTypes).sort()).toEqual(['Email Bounced', 'Email Clicked', 'Email Complaint Received', 'Email Delivered', 'Email Opened', 'Email Rejected', 'Email Rendering Failed']);
  });
});

describe('feedbackTags', () => {
  it('property: SES-safe values (letters, digits, _ and -, at most 256) that give back the customer and the send', () => {
    // ids as the catalog keeps them: trimmed, well-formed text
    const id = fc.string({ minLength: 1, maxLength: 128 }).filter((s) => s.trim() === s && s !== '' && Buffer.from(s, 'utf8').toString('utf8') === s);
    fc.assert(
      fc.property(id, id, (customerId, sendId) => {
        const tags = feedbackTags(customerId, sendId);
        for (const t of tags) expect(t.value).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
        if (tags.length < 2) return; // too long once encoded (more than 192 bytes): left out
        const event = structuredClone(fixtures[1]!);
        event.detail.mail.tags = Object.fromEntries(tags.map((t) => [t.name, [t.value]]));
        const r = feedbackFromSesEvent(JSON.stringify(event), NOW);
        if (r.outcome === 'feedback') expect([r.event.detail.customerId, (r.event.detail as { sendId?: string }).sendId]).toEqual([customerId, sendId]);
        else expect(r.outcome).toBe('invalid'); // an id the catalog refuses (e.g. a control character) is never stored
      }),
    );
  });

  it('leaves out a value SES would refuse', () => {
    expect(feedbackTags('é'.repeat(100), 's')).toEqual([{ name: 'clm-send', value: 'cw' }]);
  });
});
