/**
 * ingestBatch on an in-memory store, with hand-written EventBridge envelopes: one result per
 * raw event in input order; rejections kept with their reason, once per raw event however
 * often its batch is redelivered; one write per customer.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ingestBatch, rejectionIdFor } from '../../../shared/ingest/ingest-event.ts';
import { eraseOnRequest } from '../../../shared/privacy/erasure.ts';
import { defaults } from '../../../shared/defaults.ts';
import { InMemoryConsentLedger, InMemoryPrivacyStore, InMemoryRejectionLedger, forgetIn } from '../../../shared/pipeline/in-memory-ports.ts';
import type { Rejection } from '../../../shared/events/validate.ts';
import type { RejectedEventSink, RejectionLedger } from '../../../shared/ports.ts';
import { MemoryCustomerStore } from '../../support/memory-store.ts';

const now = new Date('2026-11-01T12:00:00.000Z');
const raw = (type: string, detail: Record<string, unknown>) =>
  JSON.stringify({ version: '0', id: `env-${detail.eventId}`, 'detail-type': type, source: 'com.example.shop', account: '111122223333', time: '2026-11-01T11:00:00Z', region: 'eu-west-1', resources: [], detail });
const order = (eventId: string, customerId: string) =>
  raw('OrderPlaced', { eventId, customerId, occurredAt: '2026-11-01T10:00:00Z', orderId: `o-${eventId}`, amount: 12.5, currency: 'EUR' });

let store: MemoryCustomerStore;
let rejected: { raw: string; rejection: Rejection; at: Date; id: string }[];
let sink: RejectedEventSink;
let rejections: RejectionLedger;
let consent: InMemoryConsentLedger;
let privacy: InMemoryPrivacyStore;

beforeEach(() => {
  store = new MemoryCustomerStore();
  rejected = [];
  sink = { reject: async (r, rejection, at, id) => void rejected.push({ raw: r, rejection, at, id }) };
  rejections = new InMemoryRejectionLedger();
  consent = new InMemoryConsentLedger();
  privacy = new InMemoryPrivacyStore();
});

describe('ingestBatch', () => {
  it('stores, deduplicates and rejects, one result per raw event in input order', async () => {
    const bad = '{"detail-type":"OrderPlaced"';
    const results = await ingestBatch([order('e1', 'a'), order('e2', 'b'), order('e1', 'a'), bad, order('e3', 'a')], { store, rejected: sink, rejections, consent, privacy, now: () => now });
    expect(results).toEqual([
      { outcome: 'stored', type: 'OrderPlaced', customerId: 'a', eventId: 'e1' },
      { outcome: 'stored', type: 'OrderPlaced', customerId: 'b', eventId: 'e2' },
      { outcome: 'duplicate', type: 'OrderPlaced', customerId: 'a', eventId: 'e1' },
      { outcome: 'rejected', rejection: { ok: false, code: 'not-json', reason: expect.stringMatching(/^body is not JSON/) }, rejectionId: rejectionIdFor(bad), repeated: false },
      { outcome: 'stored', type: 'OrderPlaced', customerId: 'a', eventId: 'e3' },
    ]);
    expect(rejected).toEqual([{ raw: bad, rejection: expect.objectContaining({ code: 'not-json' }), at: now, id: rejectionIdFor(bad) }]);
    expect((await store.getProfile('a'))?.orderCount).toBe(2);
  });

  it('appends the consent records of the events before storing them, also for a redelivered duplicate', async () => {
    const grant = raw('ConsentChanged', { eventId: 'c1', customerId: 'a', occurredAt: '2026-11-01T10:00:00Z', channel: 'email', granted: true });
    await ingestBatch([grant], { store, rejected: sink, rejections, consent, privacy, now: () => now });
    consent.forget('a'); // as if the append had been lost after the event was stored
    expect((await ingestBatch([grant], { store, rejected: sink, rejections, consent, privacy, now: () => now }))[0]!.outcome).toBe('duplicate');
    expect((await consent.history('a')).map((r) => [r.recordId, r.purpose, r.action])).toEqual([['c1', 'marketing:email', 'granted']]);
  });

  it('an erasure request is not stored and does not erase (the erasure function does); her events of the batch are dropped, then those after the erasure; other customers are untouched', async () => {
    const privacyOf = new InMemoryPrivacyStore(forgetIn(store, consent));
    const deps = { store, rejected: sink, rejections, consent, privacy: privacyOf, now: () => now };
    await ingestBatch([order('e1', 'a'), order('e2', 'b')], deps);
    const erase = raw('CustomerErasureRequested', { eventId: 'x1', customerId: 'a', occurredAt: '2026-11-01T11:00:00Z', requestedBy: 'desk' });
    expect(await ingestBatch([erase, order('e3', 'a'), order('e4', 'b')], deps)).toEqual([
      { outcome: 'erased', type: 'CustomerErasureRequested', customerId: 'a', eventId: 'x1' },
      { outcome: 'erased', type: 'OrderPlaced', customerId: 'a', eventId: 'e3' },
      { outcome: 'stored', type: 'OrderPlaced', customerId: 'b', eventId: 'e4' },
    ]);
    // ingest erased nothing: the profile is as it was before the request, and no erasure is recorded
    expect((await store.getProfile('a'))?.orderCount).toBe(1);
    expect(privacyOf.erasures).toEqual([]);
    expect((await store.getProfile('b'))?.orderCount).toBe(2);
    // the erasure function's domain erases her; her later events are dropped
    expect(await eraseOnRequest(erase, { store, privacy: privacyOf, now: () => now })).toMatchObject({ outcome: 'erased', record: { requestedBy: 'desk', via: 'event', deleted: { profile: 1, event: 1 }, emailSuppressed: false } });
    expect(await store.getProfile('a')).toBeUndefined();
    expect(await ingestBatch([order('e5', 'a')], deps)).toEqual([{ outcome: 'erased', type: 'OrderPlaced', customerId: 'a', eventId: 'e5' }]);
  });

  it('when the tombstones cannot be read, every valid event fails (to be retried) and rejections still go out', async () => {
    const down = new InMemoryPrivacyStore();
    down.tombstonesAmong = async () => { throw new Error('table down'); };
    const results = await ingestBatch([order('e1', 'a'), 'nope'], { store, rejected: sink, rejections, consent, privacy: down, now: () => now });
    expect(results).toMatchObject([{ outcome: 'failed', error: { message: 'table down' } }, { outcome: 'rejected' }]);
    expect(await store.getProfile('a')).toBeUndefined();
  });

  it('writes the events of one customer in one call, in input order, with the receive time', async () => {
    await ingestBatch([order('e1', 'a'), order('e2', 'b'), order('e3', 'a')], { store, rejected: sink, rejections, consent, privacy, now: () => now });
    const writes = store.calls.filter((c) => c.method === 'recordEvents').map((c) => [c.args[0], (c.args[1] as { detail: { eventId: string } }[]).map((e) => e.detail.eventId), c.args[2]]);
    expect(writes).toEqual([
      ['a', ['e1', 'e3'], now],
      ['b', ['e2'], now],
    ]);
  });

  it("tells the store a customer's events may be stored already when one of her records is a redelivery, and only then", async () => {
    await ingestBatch([order('e1', 'a'), order('e2', 'b'), order('e3', 'a'), order('e4', 'c')], { store, rejected: sink, rejections, consent, privacy, now: () => now }, [false, false, true, false]);
    const writes = store.calls.filter((c) => c.method === 'recordEvents').map((c) => [c.args[0], c.args[3]]);
    expect(writes).toEqual([
      ['a', { mayBeStored: true }],
      ['b', undefined],
      ['c', undefined],
    ]);
  });

  it('a failed write fails the events of that customer only; a failed rejection fails that event only', async () => {
    const recordEvents = store.recordEvents.bind(store);
    store.recordEvents = async (customerId, events, at) => (customerId === 'a' ? Promise.reject(new Error('throttled')) : recordEvents(customerId, events, at));
    sink = { reject: async () => Promise.reject('queue gone') };
    const results = await ingestBatch([order('e1', 'a'), order('e2', 'b'), 'nope', order('e3', 'a')], { store, rejected: sink, rejections, consent, privacy, now: () => now });
    expect(results.map((r) => r.outcome)).toEqual(['failed', 'stored', 'failed', 'failed']);
    expect(results[0]).toEqual({ outcome: 'failed', error: new Error('throttled') });
    expect(results[2]).toEqual({ outcome: 'failed', error: new Error('queue gone') });
  });

  it('a redelivered batch (a retry after a timeout, or a failure of other records) does not put its rejected events on the queue again', async () => {
    const bad = raw('OrderPlaced', { eventId: 'x', customerId: 'a' });
    const batch = [order('e1', 'a'), bad, '{"detail-type":', order('e2', 'b')];
    const first = await ingestBatch(batch, { store, rejected: sink, rejections, consent, privacy, now: () => now });
    const second = await ingestBatch(batch, { store, rejected: sink, rejections, consent, privacy, now: () => now });
    expect(first.map((r) => r.outcome === 'rejected' && r.repeated)).toEqual([false, false, false, false]);
    expect(second.map((r) => r.outcome)).toEqual(['duplicate', 'rejected', 'rejected', 'duplicate']);
    expect(second.map((r) => r.outcome === 'rejected' && r.repeated)).toEqual([false, true, true, false]);
    expect(rejected.map((r) => r.raw)).toEqual([bad, '{"detail-type":']);
    // The id is the SHA-256 of the body: the same body, the same id; another body (another envelope id), another id.
    expect(rejectionIdFor(bad)).toMatch(/^[0-9a-f]{64}$/);
    expect(rejected.map((r) => r.id)).toEqual([rejectionIdFor(bad), rejectionIdFor('{"detail-type":')]);
    expect(rejectionIdFor(bad.replace('env-x', 'env-y'))).not.toBe(rejectionIdFor(bad));
  });

  it('the same bad event twice in one batch (EventBridge delivered it twice) is sent once; the copy is retried while the first is in flight', async () => {
    const bad = 'nope';
    const results = await ingestBatch([bad, bad], { store, rejected: sink, rejections, consent, privacy, now: () => now });
    expect(rejected).toHaveLength(1);
    expect(results.map((r) => r.outcome).sort()).toEqual(['failed', 'rejected']);
    expect(results.find((r) => r.outcome === 'failed')).toMatchObject({ error: { message: expect.stringMatching(/being sent by another worker/) } });
    const retry = await ingestBatch([bad], { store, rejected: sink, rejections, consent, privacy, now: () => now });
    expect(retry).toMatchObject([{ outcome: 'rejected', repeated: true }]);
    expect(rejected).toHaveLength(1);
  });

  it('a failed send releases its claim, so the retry sends; a claim whose worker died is taken over after the lease', async () => {
    const down: RejectedEventSink = { reject: async () => Promise.reject(new Error('queue gone')) };
    expect(await ingestBatch(['nope'], { store, rejected: down, rejections, consent, privacy, now: () => now })).toMatchObject([{ outcome: 'failed', error: { message: 'queue gone' } }]);
    expect(await ingestBatch(['nope'], { store, rejected: sink, rejections, consent, privacy, now: () => now })).toMatchObject([{ outcome: 'rejected', repeated: false }]);

    // A worker claimed and died before sending: busy within the lease, taken over after it.
    await rejections.claim(rejectionIdFor('dead'), now, defaults.rejectionLeaseSeconds);
    const at = (s: number) => () => new Date(now.getTime() + s * 1000);
    expect(await ingestBatch(['dead'], { store, rejected: sink, rejections, consent, privacy, now: at(defaults.rejectionLeaseSeconds) })).toMatchObject([{ outcome: 'failed' }]);
    expect(await ingestBatch(['dead'], { store, rejected: sink, rejections, consent, privacy, now: at(defaults.rejectionLeaseSeconds + 1) })).toMatchObject([{ outcome: 'rejected', repeated: false }]);
    expect(rejected.map((r) => r.raw)).toEqual(['nope', 'dead']);
  });

  it('a ledger that cannot record a sent rejection does not fail the record (its retry would send it again), and says so', async () => {
    const ledger = new InMemoryRejectionLedger();
    ledger.complete = async () => Promise.reject(new Error('throttled'));
    const [r] = await ingestBatch(['nope'], { store, rejected: sink, rejections: ledger, consent, privacy, now: () => now });
    expect(r).toMatchObject({ outcome: 'rejected', repeated: false, ledgerError: new Error('throttled') });
    expect(rejected).toHaveLength(1);
  });

  it('validates against the clock it is given (an event dated more than a day ahead is rejected)', async () => {
    const future = raw('OrderPlaced', { eventId: 'f', customerId: 'a', occurredAt: '2026-11-02T12:00:01Z', orderId: 'o', amount: 1, currency: 'EUR' });
    const [r] = await ingestBatch([future], { store, rejected: sink, rejections, consent, privacy, now: () => now });
    expect(r).toMatchObject({ outcome: 'rejected', rejection: { code: 'invalid-detail', reason: 'OrderPlaced: occurredAt: more than 24 hours in the future' } });
  });
});
