/**
 * The erasure function's domain (shared/privacy/erasure.ts `eraseOnRequest`): a valid
 * CustomerErasureRequested erases the customer; an invalid one erases nothing (ingest rejects it);
 * a message of another type is an error (it fails, is retried, then reaches the dead-letter queue).
 */
import { describe, expect, it } from 'vitest';
import { eraseOnRequest } from '../../../shared/privacy/erasure.ts';
import { InMemoryConsentLedger, InMemoryPrivacyStore, forgetIn } from '../../../shared/pipeline/in-memory-ports.ts';
import { MemoryCustomerStore } from '../../support/memory-store.ts';
import { businessEvent, detail, envelope } from '../../support/events.ts';

const now = new Date('2026-11-01T12:00:00Z');
const raw = (type: string, fields: Record<string, unknown>) => JSON.stringify(envelope(type, detail(type as never, { occurredAt: '2026-11-01T11:00:00Z', ...fields }), 'com.example.crm'));

describe('eraseOnRequest', () => {
  it('erases the customer of a valid request, again harmlessly on a redelivery', async () => {
    const store = new MemoryCustomerStore();
    const privacy = new InMemoryPrivacyStore(forgetIn(store, new InMemoryConsentLedger()));
    await store.recordEvents('c-9', [businessEvent('OrderPlaced', { customerId: 'c-9' })], now);
    const request = raw('CustomerErasureRequested', { customerId: 'c-9', requestedBy: 'privacy-desk' });
    const first = await eraseOnRequest(request, { store, privacy, now: () => now });
    expect(first).toMatchObject({ outcome: 'erased', record: { requestedBy: 'privacy-desk', via: 'event', deleted: { profile: 1, event: 1 } } });
    expect(await store.getProfile('c-9')).toBeUndefined();
    expect(await eraseOnRequest(request, { store, privacy, now: () => now })).toMatchObject({ outcome: 'erased', record: { deleted: {} } });
    expect(privacy.tombstones.size).toBe(1);
  });

  it('an invalid request erases nothing and says why', async () => {
    const privacy = new InMemoryPrivacyStore(async () => {
      throw new Error('must not erase');
    });
    const store = new MemoryCustomerStore();
    expect(await eraseOnRequest(raw('CustomerErasureRequested', { customerId: 'c-1' }), { store, privacy, now: () => now })).toMatchObject({ outcome: 'invalid', code: expect.any(String), reason: expect.stringContaining('requestedBy') });
    expect(await eraseOnRequest('{"not":"an event"', { store, privacy, now: () => now })).toMatchObject({ outcome: 'invalid', code: 'not-json' });
    expect(privacy.tombstones.size).toBe(0);
  });

  it('a message of another type is an error, not an erasure', async () => {
    const privacy = new InMemoryPrivacyStore();
    await expect(eraseOnRequest(raw('OrderPlaced', { customerId: 'c-1' }), { store: new MemoryCustomerStore(), privacy, now: () => now })).rejects.toThrow(/only CustomerErasureRequested/);
    expect(privacy.tombstones.size).toBe(0);
  });
});
