/**
 * The backfill domain on the in-memory store: rows validated and reported with file, line and
 * reason; events stored once however often a batch or a run is repeated, crashes included;
 * and, as a property, customers whose events come partly by backfill (in any batches, runs and
 * retries) and partly live end with the profile live ingest alone gives them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERASED_ROW_REASON, backfillBatch, batchToken, failedBatch, lineOf, planCustomer, summarise, type BackfillBatch, type BackfillStore } from '../../../shared/backfill/backfill.ts';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import { ingestBatch } from '../../../shared/ingest/ingest-event.ts';
import { InMemoryCustomerStore, InMemoryRejectedEventSink, InMemoryRejectionLedger, InMemoryConsentLedger, InMemoryPrivacyStore } from '../../../shared/pipeline/in-memory-ports.ts';
import { arbEvent } from '../../support/event-arbitraries.ts';
import { saltedHash } from '../../../shared/privacy/erasure.ts';
import { businessEvent } from '../../support/events.ts';

const fold = { empty: emptyProfile, apply: applyEvent };
const now = new Date('2026-11-01T12:00:00.000Z');
const line = (e: BusinessEvent) => ({ source: e.source, 'detail-type': e.type, detail: e.detail });
const jsonl = (runId: string, rows: unknown[], first = 0, file = 'history.jsonl'): BackfillBatch => ({
  Items: rows.map((row, k) => ({ index: first + k, row })),
  BatchInput: { runId, file, format: 'jsonl' },
});
const live = (store: InMemoryCustomerStore, events: BusinessEvent[]) =>
  ingestBatch(events.map((e) => JSON.stringify({ id: `env-${e.detail.eventId}`, ...line(e) })), { store, rejected: new InMemoryRejectedEventSink(), rejections: new InMemoryRejectionLedger(), consent: new InMemoryConsentLedger(), privacy: new InMemoryPrivacyStore(), now: () => now });
const deps = (store: BackfillStore, at = now) => ({ store, fold, now: () => at });

/** A store whose profile writes fail after the events are written (a crash between the two writes). */
function crashingProfiles(store: InMemoryCustomerStore): BackfillStore {
  return {
    readCustomers: (w) => store.readCustomers(w),
    writeEvents: (e, at) => store.writeEvents(e, at),
    writeProfile: async () => {
      throw new Error('crashed');
    },
    recordBatch: (r) => store.recordBatch(r),
    recordFailure: (f) => store.recordFailure(f),
    runRecords: (r, f) => store.runRecords(r, f),
  };
}

describe('backfillBatch', () => {
  const a1 = businessEvent('OrderPlaced', { customerId: 'a', orderId: 'o1', amount: 10, occurredAt: '2025-01-02T10:00:00Z' });
  const a2 = businessEvent('SupportCallLogged', { customerId: 'a', callId: 'k1', reason: 'billing', occurredAt: '2025-02-02T10:00:00Z' });
  const b1 = businessEvent('OrderPlaced', { customerId: 'b', orderId: 'o2', amount: 5, occurredAt: '2025-01-03T10:00:00Z' });

  it('stores and folds valid rows, reports bad ones with file, line and reason, and counts per batch', async () => {
    const store = new InMemoryCustomerStore(fold);
    const rows = [line(a1), { source: 'x', 'detail-type': 'OrderPlaced', detail: { eventId: 'e', customerId: 'a' } }, line(b1), 'not an event', line(a2), line(a1)];
    const r = await backfillBatch(jsonl('run-1', rows, 10), deps(store));
    expect(r).toMatchObject({ runId: 'run-1', file: 'history.jsonl', rowsRead: 6, rowsRejected: 2, eventsStored: 3, duplicates: 1, deferred: 0, customersWritten: 2 });
    expect(r.rejected).toEqual([
      { file: 'history.jsonl', line: 12, reason: expect.stringMatching(/^OrderPlaced: .*occurredAt/) },
      { file: 'history.jsonl', line: 14, reason: expect.stringMatching(/^not a JSON object/) },
    ]);
    expect(await store.getProfile('a')).toEqual(applyEvent(applyEvent(emptyProfile('a'), a1), a2));
    expect((await store.runRecords('run-1', 'history.jsonl')).results).toEqual([r]);
  });

  it("refuses an erased customer's rows (a re-import cannot bring her back), naming no id, and stores the others", async () => {
    const store = new InMemoryCustomerStore(fold);
    const privacy = new InMemoryPrivacyStore();
    privacy.tombstones.add(saltedHash(await privacy.salt(), 'customer', 'a'));
    const logged: unknown[] = [];
    const r = await backfillBatch(jsonl('run-e', [line(a1), line(b1), line(a2)], 0), { ...deps(store), privacy, log: (x) => logged.push(x) });
    expect(r).toMatchObject({ rowsRead: 3, rowsRejected: 2, eventsStored: 1, customersWritten: 1 });
    expect(r.rejected).toEqual([
      { file: 'history.jsonl', line: 1, reason: ERASED_ROW_REASON },
      { file: 'history.jsonl', line: 3, reason: ERASED_ROW_REASON },
    ]);
    expect(logged).toEqual(r.rejected);
    expect(await store.getProfile('a')).toBeUndefined();
    expect(await store.getProfile('b')).toBeDefined();
  });

  it('maps CSV rows as --import does, with the header on line 1, without quoting values in the reasons', async () => {
    const store = new InMemoryCustomerStore(fold);
    const batch: BackfillBatch = {
      Items: [
        { index: 0, row: { customer_id: 'K1', order_id: 'O-1', amount: '59.90', currency: 'EUR', placed_at: '2025-07-16T10:00:00Z', status: 'delivered', status_at: '2025-07-19T15:00:00Z' } },
        { index: 1, row: { customer_id: 'K1', order_id: 'O-2', amount: 'twelve', currency: 'EUR', placed_at: '2025-08-16T10:00:00Z', status: '', status_at: '' } },
      ],
      BatchInput: { runId: 'r', file: 'uploads/2026/orders.csv', format: 'csv' },
    };
    const r = await backfillBatch(batch, deps(store));
    expect(r).toMatchObject({ rowsRead: 2, rowsRejected: 1, eventsStored: 2, customersWritten: 1, rejected: [{ file: 'uploads/2026/orders.csv', line: 3, reason: 'amount (value) is not a number' }] });
    expect((await store.getProfile('K1'))?.orders['O-1']?.status?.value).toBe('delivered');
    expect(lineOf('csv', 0)).toBe(2);
    expect(lineOf('jsonl', 0)).toBe(1);
  });

  it('a retried batch reports what it stored, a rerun stores nothing, live ingest afterwards finds duplicates', async () => {
    const store = new InMemoryCustomerStore(fold);
    const batch = jsonl('run-1', [line(a1), line(b1)]);
    const first = await backfillBatch(batch, deps(store));
    expect(await backfillBatch(batch, deps(store))).toEqual(first);
    const rerun = await backfillBatch(jsonl('run-2', [line(a1), line(b1), line(a2)]), deps(store));
    expect(rerun).toMatchObject({ eventsStored: 1, duplicates: 2, customersWritten: 1 });
    expect((await live(store, [a1, a2, b1])).map((o) => o.outcome)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect((await store.getProfile('a'))?.eventCount).toBe(2);
  });

  it('a batch that crashed between its event writes and its profile write is folded by its retry, and left alone by other batches meanwhile', async () => {
    const store = new InMemoryCustomerStore(fold);
    const batch = jsonl('run-1', [line(a1), line(a2)]);
    await expect(backfillBatch(batch, deps(crashingProfiles(store)))).rejects.toThrow('crashed');
    // Live ingest sees the events stored: duplicates (the retry folds them).
    expect((await live(store, [a1])).map((o) => o.outcome)).toEqual(['duplicate']);
    // Another batch within the lease defers them to the crashed batch's retry.
    const other = await backfillBatch(jsonl('run-2', [line(a1)]), deps(store));
    expect(other).toMatchObject({ eventsStored: 0, deferred: 1, duplicates: 0 });
    const retry = await backfillBatch(batch, deps(store));
    expect(retry).toMatchObject({ eventsStored: 2, customersWritten: 1 });
    expect((await store.getProfile('a'))?.eventCount).toBe(2);
  });

  it('takes over the events of a crashed batch that was never retried once the lease is over', async () => {
    const store = new InMemoryCustomerStore(fold);
    await expect(backfillBatch(jsonl('run-1', [line(a1)]), deps(crashingProfiles(store)))).rejects.toThrow('crashed');
    const later = new Date(now.getTime() + 21 * 60_000);
    const rerun = await backfillBatch(jsonl('run-2', [line(a1)]), deps(store, later));
    expect(rerun).toMatchObject({ eventsStored: 1, deferred: 0 });
    expect((await store.getProfile('a'))?.eventCount).toBe(1);
  });

  it('re-plans a customer whose profile live ingest wrote between the read and the write', async () => {
    const store = new InMemoryCustomerStore(fold);
    let raced = false;
    const racing: BackfillStore = {
      readCustomers: (w) => store.readCustomers(w),
      writeEvents: (e, at) => store.writeEvents(e, at),
      writeProfile: async (...args) => {
        if (!raced) {
          raced = true;
          await live(store, [b1]);
        }
        return store.writeProfile(...args);
      },
      recordBatch: (r) => store.recordBatch(r),
      recordFailure: (f) => store.recordFailure(f),
      runRecords: (r, f) => store.runRecords(r, f),
    };
    const r = await backfillBatch(jsonl('run-1', [line(a1)]), deps(racing));
    expect(r).toMatchObject({ eventsStored: 1, customersWritten: 1 });
    expect(await store.getProfile('a')).toEqual(applyEvent(emptyProfile('a'), a1));
    expect(raced).toBe(true);
  });
});

describe('planCustomer', () => {
  const e = businessEvent('OrderPlaced', { customerId: 'a', orderId: 'o1', amount: 1 });
  const state = (stored: [string, { token?: string; at?: string }][], batches: string[] = []) => ({ version: 3, batches, stored: new Map(stored) });

  it('an event stored live, or by a batch folded into the profile, is a duplicate; a new one is written with the token', () => {
    expect(planCustomer('a', [e], state([[e.detail.eventId, {}]]), 'T', fold, now)).toMatchObject({ write: [], stored: 0, duplicates: 1 });
    expect(planCustomer('a', [e], state([[e.detail.eventId, { token: 'S', at: now.toISOString() }]], ['S']), 'T', fold, now)).toMatchObject({ write: [], duplicates: 1 });
    const plan = planCustomer('a', [e], state([]), 'T', fold, now);
    expect(plan).toMatchObject({ write: [e], stored: 1, duplicates: 0, batches: ['T'] });
    expect(plan.profile).toEqual(applyEvent(emptyProfile('a'), e));
  });
});

describe('summarise', () => {
  it('adds up the batches, lists the rejected rows by line, and the failed batches that did not succeed since', () => {
    const base = { runId: 'r', file: 'f', rowsRead: 3, rowsRejected: 1, eventsStored: 2, duplicates: 0, deferred: 0, customersWritten: 1, consentRecords: 1, timersSet: 2, timersOverdue: 0 };
    const retried = failedBatch(jsonl('r', [{}, {}, {}], 3, 'f'), { Error: 'States.TaskFailed' });
    const failed = failedBatch(jsonl('r', [{}, {}], 6, 'f'), { Error: 'Error', Cause: JSON.stringify({ errorType: 'UnprocessedBatchError', errorMessage: 'BatchWriteItem left 3 items unprocessed', trace: ['at x'] }) });
    const s = summarise('r', 'f', [
      { ...base, token: batchToken('r', 'f', 3, 5), rejected: [{ file: 'f', line: 9, reason: 'x' }] },
      { ...base, token: batchToken('r', 'f', 0, 2), rejected: [{ file: 'f', line: 2, reason: 'y' }] },
    ], [retried, failed]);
    expect(s).toEqual({
      runId: 'r', file: 'f', batches: 2, failedBatches: 1, rowsRead: 6, rowsRejected: 2, eventsStored: 4, duplicates: 0, deferred: 0, customersWritten: 2, consentRecords: 2, timersSet: 4, timersOverdue: 0,
      rejected: [{ file: 'f', line: 2, reason: 'y' }, { file: 'f', line: 9, reason: 'x' }],
      failed: [{ file: 'f', firstLine: 7, lastLine: 8, error: 'Error UnprocessedBatchError: BatchWriteItem left 3 items unprocessed' }],
    });
  });
});

describe('backfill beside live ingest (property)', () => {
  const customers = ['a', 'b', 'c'];
  /** Events of three customers, some repeated. */
  const arbEvents = fc
    // An erasure request is refused by the backfill (it is an act, not history) and acted on by live ingest.
    .array(fc.tuple(arbEvent.filter((e) => e.type !== 'CustomerErasureRequested'), fc.constantFrom(...customers)), { minLength: 1, maxLength: 30 })
    .map((pairs) => pairs.map(([ev, customerId]) => ({ ...ev, detail: { ...ev.detail, customerId } }) as BusinessEvent))
    .chain((events) => fc.tuple(fc.constant(events), fc.subarray(events)).map(([all, again]) => [...all, ...again]));

  type Step = { kind: 'live' | 'backfill' | 'crash'; from: number; to: number; run: number };
  const arbPlan = arbEvents.chain((events) =>
    fc.tuple(
      fc.constant(events),
      fc.array(
        fc.record({ kind: fc.constantFrom<Step['kind']>('live', 'backfill', 'backfill', 'crash'), from: fc.nat(events.length), len: fc.integer({ min: 1, max: 12 }), run: fc.integer({ min: 1, max: 3 }) }).map((s) => ({ kind: s.kind, from: s.from, to: Math.min(events.length, s.from + s.len), run: s.run })),
        { maxLength: 8 },
      ),
    ),
  );

  it('ends with the profiles live ingest alone gives, and stores every event once', async () => {
    await fc.assert(
      fc.asyncProperty(arbPlan, async ([events, steps]) => {
        const mixed = new InMemoryCustomerStore(fold);
        const rows = events.map(line);
        let storedLive = 0;
        // Random slices go live, by backfill, or by a backfill batch that crashes (and is retried, as the Map does).
        for (const s of steps) {
          if (s.from >= s.to) continue;
          if (s.kind === 'live') storedLive += (await live(mixed, events.slice(s.from, s.to))).filter((o) => o.outcome === 'stored').length;
          else {
            const batch = jsonl(`run-${s.run}`, rows.slice(s.from, s.to), s.from);
            if (s.kind === 'crash') await backfillBatch(batch, deps(crashingProfiles(mixed))).catch(() => undefined); // crashes when it has a profile to write
            await backfillBatch(batch, deps(mixed));
          }
        }
        // Then the whole history by backfill in batches of 7 (run 1 again), and whatever is left live.
        for (let i = 0; i < rows.length; i += 7) await backfillBatch(jsonl('run-1', rows.slice(i, i + 7), i), deps(mixed));
        const liveLeft = await live(mixed, events);
        expect(liveLeft.every((o) => o.outcome === 'duplicate')).toBe(true);

        const allLive = new InMemoryCustomerStore(fold);
        const liveOutcomes = await live(allLive, events);
        for (const c of customers) expect(await mixed.getProfile(c)).toEqual(await allLive.getProfile(c));
        // Every unique event was stored once: by live ingest or by exactly one batch result.
        const results = (await Promise.all([1, 2, 3].map((r) => mixed.runRecords(`run-${r}`, 'history.jsonl')))).flatMap((r) => r.results);
        const unique = liveOutcomes.filter((o) => o.outcome === 'stored').length;
        expect(storedLive + results.reduce((n, r) => n + r.eventsStored, 0)).toBe(unique);
        expect(results.every((r) => r.deferred === 0)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
