import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES } from '../../../shared/events/catalog.ts';
import { validateInbound } from '../../../shared/events/validate.ts';
import { detail, envelope } from '../../support/events.ts';

describe('validateInbound', () => {
  it('accepts a valid event given as a JSON string and fills the schema version', () => {
    const r = validateInbound(JSON.stringify(envelope('SupportCallLogged', detail('SupportCallLogged', {}))));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.event.type).toBe('SupportCallLogged');
      expect(r.event.detail.schemaVersion).toBe(1);
    }
  });

  it.each([
    ['not JSON', '{"source": nope', 'not-json', /not JSON/],
    ['missing envelope field', JSON.stringify({ source: 'x', detail: {} }), 'bad-envelope', /detail-type/],
    ['unknown detail-type', JSON.stringify(envelope('OrderTeleported', {})), 'unknown-detail-type', /OrderTeleported/],
    ['own source', JSON.stringify(envelope('OrderPlaced', detail('OrderPlaced', {}), 'clm.triggers')), 'own-source', /reserved/],
  ])('rejects %s', (_name, raw, code, reason) => {
    const r = validateInbound(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.reason).toMatch(reason);
    }
  });

  it('names every missing and mistyped field in the reason', () => {
    const d = detail('OrderPlaced', { amount: 'ten' });
    delete d.orderId;
    const r = validateInbound(envelope('OrderPlaced', d));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('invalid-detail');
      expect(r.reason).toMatch(/orderId/);
      expect(r.reason).toMatch(/amount/);
    }
  });

  it('requires the producer id (the idempotency key)', () => {
    const d = detail('SupportCallLogged', {});
    delete d.eventId;
    const r = validateInbound(envelope('SupportCallLogged', d));
    expect(!r.ok && r.reason).toMatch(/eventId/);
  });

  it('rejects oversized events before parsing them', () => {
    const big = JSON.stringify(envelope('OrderPlaced', detail('OrderPlaced', { note: 'x'.repeat(MAX_EVENT_BYTES) })));
    const r = validateInbound(big);
    expect(!r.ok && r.code).toBe('too-large');
  });

  it('does not echo field values (they may be personal data) in the reason', () => {
    const r = validateInbound(envelope('CustomerProfileUpdated', detail('CustomerProfileUpdated', { email: 'secret-person-at-example' })));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toMatch(/email/);
      expect(r.reason).not.toMatch(/secret-person/);
    }
  });

  it.each([
    ['CR LF (a header injection)', 'CustomerProfileUpdated', { firstName: 'Eve\r\nBcc: someone@example.com' }, /firstName: must not contain control characters such as CR or LF \(found U\+000D at position 3\)/],
    ['a lone LF', 'CustomerProfileUpdated', { firstName: 'Eve\nX' }, /firstName: .*U\+000A at position 3/],
    ['a tab', 'CustomerProfileUpdated', { locale: 'nl\tNL' }, /locale: .*U\+0009/],
    ['NEL (C1)', 'CustomerProfileUpdated', { firstName: 'Eve\u0085X' }, /firstName: .*U\+0085/],
    ['a line separator', 'CustomerProfileUpdated', { timeZone: 'Europe/\u2028Paris' }, /timeZone: .*U\+2028/],
    ['NUL in an id', 'SupportCallLogged', { callId: 'k\u00001' }, /callId: .*U\+0000/],
    ['DEL in a reason', 'SubscriptionCancelled', { reason: 'price\u007f' }, /reason: .*U\+007F/],
  ])('refuses control characters in single-line text: %s', (_name, type, fields, reason) => {
    const r = validateInbound(envelope(type, detail(type as never, fields)));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('invalid-detail');
      expect(r.reason).toMatch(reason);
      expect(r.reason).not.toContain('Bcc');
    }
  });

  it('accepts names with any printable character (accents, apostrophes, emoji, right-to-left scripts)', () => {
    for (const firstName of ["Zoë", "O'Brien", 'Jean-Luc', '李', 'سارة', '👩‍🚀 Ada', 'Ana María']) {
      expect(validateInbound(envelope('CustomerProfileUpdated', detail('CustomerProfileUpdated', { firstName }))).ok).toBe(true);
    }
  });

  it('rejects events dated more than a day ahead (they would win every later change) or before 1970', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const at = (occurredAt: string) => validateInbound(envelope('ConsentChanged', detail('ConsentChanged', { occurredAt })), now);
    expect(at('2026-11-24T11:00:00Z').ok).toBe(true); // clock skew is fine
    expect(at('2099-01-01T00:00:00Z')).toMatchObject({ ok: false, code: 'invalid-detail', reason: expect.stringMatching(/occurredAt: more than 24 hours in the future/) });
    expect(at('0000-01-01T00:00:00Z')).toMatchObject({ ok: false, reason: expect.stringMatching(/occurredAt/) });
  });

  it('does not quote a broken body in the reason', () => {
    const r = validateInbound('{"email": "jane@example.com", oops');
    expect(r).toMatchObject({ ok: false, code: 'not-json' });
    expect(!r.ok && r.reason).not.toMatch(/jane/);
  });

  it('rejects timestamps without an offset and negative money', () => {
    const r = validateInbound(envelope('OrderPlaced', detail('OrderPlaced', { occurredAt: '2026-10-01 10:00', amount: -1 })));
    expect(!r.ok && r.reason).toMatch(/occurredAt.*amount|amount.*occurredAt/);
  });
});

describe('validateInbound on arbitrary input', () => {
  it('never throws: any string or JSON value is accepted or rejected with a code and a reason', async () => {
    const fc = (await import('fast-check')).default;
    const codes = new Set(['not-json', 'too-large', 'bad-envelope', 'unknown-detail-type', 'invalid-detail', 'own-source']);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.record({ source: fc.string(), 'detail-type': fc.constantFrom('OrderPlaced', 'SupportCallLogged', 'ConsentChanged', 'X'), detail: fc.dictionary(fc.string(), fc.jsonValue()) }),
        ),
        (raw) => {
          const r = validateInbound(raw);
          if (!r.ok) {
            expect(codes).toContain(r.code);
            expect(r.reason.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
