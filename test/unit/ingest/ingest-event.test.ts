/**
 * ingestBatch on an in-memory store, with hand-written EventBridge envelopes: one result per
 * raw event in input order; rejections kept with their reason; one write per customer.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ingestBatch } from '../../../shared/ingest/ingest-event.ts';
import type { Rejection } from '../../../shared/events/validate.ts';
import type { RejectedEventSink } from '../../../shared/ports.ts';
import { MemoryCustomerStore } from '../../support/memory-store.ts';

const now = new Date('2026-11-01T12:00:00.000Z');
const raw = (type: string, detail: Record<string, unknown>) =>
  JSON.stringify({ version: '0', id: `env-${detail.eventId}`, 'detail-type': type, source: 'com.example.shop', account: '111122223333', time: '2026-11-01T11:00:00Z', region: 'eu-west-1', resources: [], detail });
const order = (eventId: string, customerId: string) =>
  raw('OrderPlaced', { eventId, customerId, occurredAt: '2026-11-01T10:00:00Z', orderId: `o-${eventId}`, amount: 12.5, currency: 'EUR' });

let store: MemoryCustomerStore;
let rejected: { raw: string; rejection: Rejection; at: Date }[];
let sink: RejectedEventSink;

beforeEach(() => {
  store = new MemoryCustomerStore();
  rejected = [];
  sink = { reject: async (r, rejection, at) => void rejected.push({ raw: r, rejection, at }) };
});

describe('ingestBatch', () => {
  it('stores, deduplicates and rejects, one result per raw event in input order', async () => {
    const bad = '{"detail-type":"OrderPlaced"';
    const results = await ingestBatch([order('e1', 'a'), order('e2', 'b'), order('e1', 'a'), bad, order('e3', 'a')], { store, rejected: sink, now: () => now });
    expect(results).toEqual([
      { outcome: 'stored', type: 'OrderPlaced', customerId: 'a', eventId: 'e1' },
      { outcome: 'stored', type: 'OrderPlaced', customerId: 'b', eventId: 'e2' },
      { outcome: 'duplicate', type: 'OrderPlaced', customerId: 'a', eventId: 'e1' },
      { outcome: 'rejected', rejection: { ok: false, code: 'not-json', reason: expect.stringMatching(/^body is not JSON/) } },
      { outcome: 'stored', type: 'OrderPlaced', customerId: 'a', eventId: 'e3' },
    ]);
    expect(rejected).toEqual([{ raw: bad, rejection: expect.objectContaining({ code: 'not-json' }), at: now }]);
    expect((await store.getProfile('a'))?.orderCount).toBe(2);
  });

  it('writes the events of one customer in one call, in input order, with the receive time', async () => {
    await ingestBatch([order('e1', 'a'), order('e2', 'b'), order('e3', 'a')], { store, rejected: sink, now: () => now });
    const writes = store.calls.filter((c) => c.method === 'recordEvents').map((c) => [c.args[0], (c.args[1] as { detail: { eventId: string } }[]).map((e) => e.detail.eventId), c.args[2]]);
    expect(writes).toEqual([
      ['a', ['e1', 'e3'], now],
      ['b', ['e2'], now],
    ]);
  });

  it('a failed write fails the events of that customer only; a failed rejection fails that event only', async () => {
    const recordEvents = store.recordEvents.bind(store);
    store.recordEvents = async (customerId, events, at) => (customerId === 'a' ? Promise.reject(new Error('throttled')) : recordEvents(customerId, events, at));
    sink = { reject: async () => Promise.reject('queue gone') };
    const results = await ingestBatch([order('e1', 'a'), order('e2', 'b'), 'nope', order('e3', 'a')], { store, rejected: sink, now: () => now });
    expect(results.map((r) => r.outcome)).toEqual(['failed', 'stored', 'failed', 'failed']);
    expect(results[0]).toEqual({ outcome: 'failed', error: new Error('throttled') });
    expect(results[2]).toEqual({ outcome: 'failed', error: new Error('queue gone') });
  });

  it('validates against the clock it is given (an event dated more than a day ahead is rejected)', async () => {
    const future = raw('OrderPlaced', { eventId: 'f', customerId: 'a', occurredAt: '2026-11-02T12:00:01Z', orderId: 'o', amount: 1, currency: 'EUR' });
    const [r] = await ingestBatch([future], { store, rejected: sink, now: () => now });
    expect(r).toMatchObject({ outcome: 'rejected', rejection: { code: 'invalid-detail', reason: 'OrderPlaced: occurredAt: more than 24 hours in the future' } });
  });
});
