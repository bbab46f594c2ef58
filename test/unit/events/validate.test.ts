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

  it('rejects timestamps without an offset and negative money', () => {
    const r = validateInbound(envelope('OrderPlaced', detail('OrderPlaced', { occurredAt: '2026-10-01 10:00', amount: -1 })));
    expect(!r.ok && r.reason).toMatch(/occurredAt.*amount|amount.*occurredAt/);
  });
});
