/**
 * Backfilled history and the timers of absence and the consent ledger, on the in-memory ports:
 * a customer whose last order is still "preparing", or whose usage stopped, ends with the pending
 * timer the same events sent live would leave (after the sweep that would have fired the overdue
 * ones); an overdue timer is not set (history fires nothing); a later batch cancels what an
 * earlier one set; a concurrent batch of the same customer cannot leave a stale timer; consent
 * changes reach the ledger with source `import`, once however often the batch or the run repeats.
 */
import { describe, expect, it } from 'vitest';
import { backfillBatch, backfillTimerOps, type BackfillBatch } from '../../../shared/backfill/backfill.ts';
import { consentState } from '../../../shared/consent/ledger.ts';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import { ingestBatch } from '../../../shared/ingest/ingest-event.ts';
import { InMemoryConsentLedger, InMemoryCustomerStore, InMemoryEventPublisher, InMemoryPrivacyStore, InMemoryRejectedEventSink, InMemoryRejectionLedger } from '../../../shared/pipeline/in-memory-ports.ts';
import type { TimerStore } from '../../../shared/ports.ts';
import { InMemoryTimerStore } from '../../../shared/timers/in-memory-timer-store.ts';
import { sweepTimers } from '../../../shared/timers/sweep.ts';
import { fireTriggers, triggerTimerHandler } from '../../../shared/triggers/fire-triggers.ts';
import { triggerConfig } from '../../../shared/triggers/config.ts';
import { TRIGGER_TIMER_KIND } from '../../../shared/triggers/rules.ts';
import { businessEvent } from '../../support/events.ts';

const fold = { empty: emptyProfile, apply: applyEvent };
const now = new Date('2026-11-01T12:00:00.000Z');
const ago = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
const line = (e: BusinessEvent) => ({ source: e.source, 'detail-type': e.type, detail: e.detail });
const jsonl = (runId: string, events: BusinessEvent[], first = 0): BackfillBatch => ({ Items: events.map((e, k) => ({ index: first + k, row: line(e) })), BatchInput: { runId, file: 'history.jsonl', format: 'jsonl' } });
const FAR = new Date('2100-01-01T00:00:00Z');
/** The pending timers, without when they were set. */
const pending = async (timers: TimerStore) => (await timers.due(FAR, 10_000)).map(({ setAt: _s, ...t }) => t).sort((a, b) => (a.key < b.key ? -1 : 1));

function ports() {
  const store = new InMemoryCustomerStore(fold);
  const timers = new InMemoryTimerStore();
  const consent = new InMemoryConsentLedger();
  return { store, timers, consent, deps: { store, fold, timers, consent, now: () => now } };
}

/** The same events sent live: ingest, churn-triggers for each stored event, then a timer sweep now (which fires what is overdue). */
async function live(events: BusinessEvent[]) {
  const store = new InMemoryCustomerStore(fold);
  const timers = new InMemoryTimerStore();
  const consent = new InMemoryConsentLedger();
  await ingestBatch(
    events.map((e) => JSON.stringify({ id: `env-${e.detail.eventId}`, ...line(e) })),
    { store, rejected: new InMemoryRejectedEventSink(), rejections: new InMemoryRejectionLedger(), consent, privacy: new InMemoryPrivacyStore(), now: () => now },
  );
  const fire = { store, publisher: new InMemoryEventPublisher(), timers, now: () => now };
  for (const e of events) await fireTriggers(e, fire);
  const swept = await sweepTimers({ timers, handlers: { [TRIGGER_TIMER_KIND]: triggerTimerHandler(fire) }, now: () => now });
  return { store, timers, consent, swept };
}

describe('backfilled history and the timers of absence', () => {
  // c: o1 still preparing (due in 7 days), o2 preparing since 12 days (due 2 days ago: overdue),
  // o3 prepared then shipped (no timer); p-1 used in three months, last 10 days ago (due in 20 days).
  const events = [
    businessEvent('OrderPlaced', { customerId: 'c', orderId: 'o1', occurredAt: ago(20) }),
    businessEvent('OrderStatusChanged', { customerId: 'c', orderId: 'o1', status: 'preparing', occurredAt: ago(3) }),
    businessEvent('OrderPlaced', { customerId: 'c', orderId: 'o2', occurredAt: ago(13) }),
    businessEvent('OrderStatusChanged', { customerId: 'c', orderId: 'o2', status: 'preparing', occurredAt: ago(12) }),
    businessEvent('OrderPlaced', { customerId: 'c', orderId: 'o3', occurredAt: ago(9) }),
    businessEvent('OrderStatusChanged', { customerId: 'c', orderId: 'o3', status: 'preparing', occurredAt: ago(8) }),
    businessEvent('OrderStatusChanged', { customerId: 'c', orderId: 'o3', status: 'shipped', occurredAt: ago(2) }),
    businessEvent('UsageRecorded', { customerId: 'c', productId: 'p-1', occurredAt: ago(70) }),
    businessEvent('UsageRecorded', { customerId: 'c', productId: 'p-1', occurredAt: ago(40) }),
    businessEvent('UsageRecorded', { customerId: 'c', productId: 'p-1', occurredAt: ago(10) }),
  ];

  it('leaves the pending timers live events leave, and neither sets nor fires the overdue one', async () => {
    const { timers, deps } = ports();
    // Unsorted rows, in two batches.
    const shuffled = [...events].reverse();
    const r1 = await backfillBatch(jsonl('run-1', shuffled.slice(0, 4)), deps);
    const r2 = await backfillBatch(jsonl('run-1', shuffled.slice(4), 4), deps);
    const backfilled = await pending(timers);
    const l = await live(events);
    // Live, the overdue o2 timer fired at the sweep (a trigger); the ones pending after it are the backfill's.
    expect(l.swept.fired).toBe(1);
    expect(backfilled).toEqual(await pending(l.timers));
    expect(backfilled).toEqual([
      { customerId: 'c', kind: TRIGGER_TIMER_KIND, key: 'order-stuck-preparing#o1', dueAt: ago(3 - 10), payload: { trigger: 'order-stuck-preparing', subject: 'o1' }, attempts: 0 },
      { customerId: 'c', kind: TRIGGER_TIMER_KIND, key: 'usage-stopped#p-1', dueAt: ago(10 - 30), payload: { trigger: 'usage-stopped', subject: 'p-1' }, attempts: 0 },
    ]);
    expect(r1.timersSet + r2.timersSet).toBeGreaterThanOrEqual(2);
    expect(r1.timersOverdue + r2.timersOverdue).toBe(1);
    // Nothing is due now: a sweep fires nothing.
    expect((await timers.due(now, 100)).length).toBe(0);
  });

  it('a rerun and a retried batch change no timer', async () => {
    const { timers, deps } = ports();
    const batch = jsonl('run-1', events);
    const first = await backfillBatch(batch, deps);
    const before = await pending(timers);
    expect(await backfillBatch(batch, deps)).toEqual(first);
    const rerun = await backfillBatch(jsonl('run-2', events), deps);
    expect(rerun).toMatchObject({ eventsStored: 0, timersSet: 0, consentRecords: 0 });
    expect(await pending(timers)).toEqual(before);
  });

  it('a later batch with the order shipped cancels the timer an earlier batch set', async () => {
    const { timers, deps } = ports();
    await backfillBatch(jsonl('run-1', events.slice(4, 6)), deps);
    expect((await pending(timers)).map((t) => t.key)).toEqual(['order-stuck-preparing#o3']);
    await backfillBatch(jsonl('run-1', events.slice(6, 7), 6), deps);
    expect(await pending(timers)).toEqual([]);
  });

  it('a concurrent batch of the same customer cannot leave a stale timer: the timers follow the latest profile', async () => {
    const { store, timers, deps } = ports();
    // A profile exists (an earlier batch), so batches may cancel.
    await backfillBatch(jsonl('run-0', [businessEvent('OrderPlaced', { customerId: 'c', orderId: 'o0', occurredAt: ago(30) })]), deps);
    const placed = businessEvent('OrderPlaced', { customerId: 'c', orderId: 'o9', occurredAt: ago(5) });
    const preparing = businessEvent('OrderStatusChanged', { customerId: 'c', orderId: 'o9', status: 'preparing', occurredAt: ago(4) });
    // Batch A (the order placed) writes its profile; before it touches the timers, batch B (preparing) runs whole.
    let raced = false;
    const racing: TimerStore = {
      set: (...a) => timers.set(...a),
      due: (...a) => timers.due(...a),
      markFired: (...a) => timers.markFired(...a),
      markFailed: (...a) => timers.markFailed(...a),
      cancel: async (t) => {
        if (!raced) {
          raced = true;
          await backfillBatch(jsonl('run-1', [preparing], 1), deps);
          expect((await pending(timers)).map((x) => x.key)).toEqual(['order-stuck-preparing#o9']);
        }
        return timers.cancel(t);
      },
    };
    await backfillBatch(jsonl('run-1', [placed], 0), { ...deps, timers: racing });
    expect(raced).toBe(true);
    expect((await store.getProfile('c'))?.orders.o9?.status?.value).toBe('preparing');
    expect((await pending(timers)).map((x) => [x.key, x.dueAt])).toEqual([['order-stuck-preparing#o9', ago(4 - 10)]]);
  });

  it('backfillTimerOps: one operation a timer, overdue ones apart, cancels only where a timer may exist', () => {
    let profile = emptyProfile('c');
    for (const e of events) profile = applyEvent(profile, e);
    const ops = backfillTimerOps(events, profile, now, triggerConfig, false);
    expect(ops.set.map((t) => t.key).sort()).toEqual(['order-stuck-preparing#o1', 'usage-stopped#p-1']);
    expect(ops.overdue.map((t) => t.key)).toEqual(['order-stuck-preparing#o2']);
    expect(ops.cancel).toEqual([]);
    expect(backfillTimerOps(events, profile, now, triggerConfig, true).cancel.map((t) => t.key)).toEqual(['order-stuck-preparing#o3']);
  });
});

describe('backfilled history and the consent ledger', () => {
  const history = [
    businessEvent('ConsentChanged', { customerId: 'k', channel: 'email', purpose: 'marketing', granted: true, source: 'customer-service', occurredAt: ago(300) }),
    businessEvent('ConsentChanged', { customerId: 'k', channel: 'email', purpose: 'marketing', granted: false, source: 'unsubscribe-link', occurredAt: ago(100) }),
    businessEvent('SubscriptionCancelled', { customerId: 'k', subscriptionId: 's', productId: 'p', reason: 'price', allowWinbackContact: true, occurredAt: ago(50) }),
    businessEvent('OrderPlaced', { customerId: 'k', orderId: 'ok', occurredAt: ago(200) }),
  ];

  it('appends the records ingest would, with source import, each once however often the history comes', async () => {
    const { consent, store, deps } = ports();
    const r = await backfillBatch(jsonl('run-1', history), deps);
    expect(r.consentRecords).toBe(3);
    const ledger = await consent.history('k');
    const l = await live(history);
    const liveLedger = await l.consent.history('k');
    expect(ledger).toEqual(liveLedger.map((x) => ({ ...x, source: 'import' })));
    expect(ledger.map((x) => [x.purpose, x.action, x.source])).toEqual([
      ['marketing:email', 'granted', 'import'],
      ['marketing:email', 'withdrawn', 'import'],
      ['winback', 'granted', 'import'],
    ]);
    // The ledger and the profile agree: marketing withdrawn, winback granted.
    expect(consentState(ledger)['marketing:email']?.action).toBe('withdrawn');
    expect((await store.getProfile('k'))?.eventCount).toBe(4);
    // A retry, a rerun, and the same history split differently: nothing changes.
    await backfillBatch(jsonl('run-1', history), deps);
    await backfillBatch(jsonl('run-2', history), deps);
    await backfillBatch(jsonl('run-3', history.slice(1), 7), deps);
    expect(await consent.history('k')).toEqual(ledger);
  });

  it('a record live ingest appended first stays as it is', async () => {
    const { consent, deps } = ports();
    await consent.append((await (await live(history.slice(0, 1))).consent.history('k')));
    await backfillBatch(jsonl('run-1', history), deps);
    expect((await consent.history('k')).map((x) => x.source)).toEqual(['customer-service', 'import', 'import']);
  });
});
