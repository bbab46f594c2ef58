/**
 * Backfilled history, the timers of absence and the consent ledger on DynamoDB Local
 * (DynamoBackfillStore, DynamoTimerStore, DynamoConsentLedger on one table): against a table that
 * got the same events live (ingest, churn-triggers for each stored event, then the timer sweep that
 * fires what is overdue), the backfill leaves the same pending timers and the same ledger (with
 * source `import`), sets no overdue timer and fires nothing; a rerun and a differently split
 * file change no item.
 */
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoBackfillStore } from '../../shared/adapters/dynamodb-backfill-store.ts';
import { DynamoConsentLedger } from '../../shared/adapters/dynamodb-consent-ledger.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { DynamoTimerStore } from '../../shared/adapters/dynamodb-timer-store.ts';
import { backfillBatch, backfillConsentRecords, type BackfillBatch, type BatchResult } from '../../shared/backfill/backfill.ts';
import { consentRecordsOf } from '../../shared/consent/ledger.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../shared/events/catalog.ts';
import { ingestBatch } from '../../shared/ingest/ingest-event.ts';
import { InMemoryEventPublisher, InMemoryPrivacyStore, InMemoryRejectedEventSink, InMemoryRejectionLedger } from '../../shared/pipeline/in-memory-ports.ts';
import { sweepTimers } from '../../shared/timers/sweep.ts';
import { fireTriggers, triggerTimerHandler } from '../../shared/triggers/fire-triggers.ts';
import { TRIGGER_TIMER_KIND } from '../../shared/triggers/rules.ts';
import { businessEvent } from '../support/events.ts';
import { freshTable, useLocalDynamoDb } from '../support/local-aws.ts';

const profiles = { empty: emptyProfile, apply: applyEvent };
const local = useLocalDynamoDb();
const now = new Date();
const ago = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
const line = (e: BusinessEvent) => ({ source: e.source, 'detail-type': e.type, detail: e.detail });
const batch = (runId: string, events: BusinessEvent[], first: number): BackfillBatch => ({ Items: events.map((e, k) => ({ index: first + k, row: line(e) })), BatchInput: { runId, file: 'history.jsonl', format: 'jsonl' } });

async function table() {
  const { tableName } = await freshTable(local.aws().dynamodb.endpoint);
  const client = local.client();
  return {
    tableName,
    backfill: new DynamoBackfillStore(client, { tableName, profiles }),
    live: new DynamoCustomerStore(client, { tableName, profiles }),
    timers: new DynamoTimerStore(client, { tableName }),
    consent: new DynamoConsentLedger(client, { tableName }),
  };
}
type Table = Awaited<ReturnType<typeof table>>;

/** The customer's TIMER# and CONSENT# items as stored (without when a timer was set). */
async function items(t: Table, customerId: string, prefix: 'TIMER#' | 'CONSENT#') {
  const doc = DynamoDBDocumentClient.from(local.client());
  const out = await doc.send(new QueryCommand({ TableName: t.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)', ExpressionAttributeValues: { ':pk': `CUST#${customerId}`, ':p': prefix }, ConsistentRead: true }));
  return (out.Items ?? []).map(({ setAt: _s, ...i }) => i);
}

/** Pending timers only (a fired one keeps its item, out of the due index). */
const pendingTimers = async (t: Table, customerId: string) => (await items(t, customerId, 'TIMER#')).filter((i) => i.firedAt === undefined && i.gaveUpAt === undefined);

describe('backfill, timers of absence and the consent ledger on DynamoDB Local', () => {
  // Two customers, rows interleaved: s's order o1 still preparing (due in 6 days), o2 preparing 11 days ago (overdue),
  // o3 shipped; u used p-1 in three months, last 9 days ago (due in 21 days), with a consent history.
  const events = [
    businessEvent('OrderPlaced', { customerId: 's', orderId: 'o1', occurredAt: ago(20) }),
    businessEvent('UsageRecorded', { customerId: 'u', productId: 'p-1', occurredAt: ago(75) }),
    businessEvent('OrderStatusChanged', { customerId: 's', orderId: 'o1', status: 'preparing', occurredAt: ago(4) }),
    businessEvent('ConsentChanged', { customerId: 'u', channel: 'email', purpose: 'marketing', granted: true, occurredAt: ago(200) }),
    businessEvent('OrderPlaced', { customerId: 's', orderId: 'o2', occurredAt: ago(12) }),
    businessEvent('UsageRecorded', { customerId: 'u', productId: 'p-1', occurredAt: ago(45) }),
    businessEvent('OrderStatusChanged', { customerId: 's', orderId: 'o2', status: 'preparing', occurredAt: ago(11) }),
    businessEvent('ConsentChanged', { customerId: 'u', channel: 'sms', purpose: 'marketing', granted: false, source: 'unsubscribe-link', occurredAt: ago(30) }),
    businessEvent('OrderPlaced', { customerId: 's', orderId: 'o3', occurredAt: ago(9) }),
    businessEvent('UsageRecorded', { customerId: 'u', productId: 'p-1', occurredAt: ago(9) }),
    businessEvent('OrderStatusChanged', { customerId: 's', orderId: 'o3', status: 'preparing', occurredAt: ago(8) }),
    businessEvent('ExitSurveyAnswered', { customerId: 'u', reasonCode: 'price', allowWinbackContact: true, occurredAt: ago(5) }),
    businessEvent('OrderStatusChanged', { customerId: 's', orderId: 'o3', status: 'shipped', occurredAt: ago(1) }),
  ];

  it('leaves the timers and the ledger the same events leave live, sets no overdue timer, fires nothing; reruns change nothing', async () => {
    const b = await table();
    const publisher = new InMemoryEventPublisher();
    const deps = { store: b.backfill, fold: profiles, timers: b.timers, consent: b.consent, now: () => new Date() };
    // Batches of 4 rows: s's o3 is prepared in one batch and shipped in another (its timer set, then cancelled).
    const results: BatchResult[] = [];
    for (let i = 0; i < events.length; i += 4) results.push(await backfillBatch(batch('run-1', events.slice(i, i + 4), i), deps));
    const sum = (k: 'timersSet' | 'timersOverdue' | 'consentRecords') => results.reduce((n, r) => n + r[k], 0);
    expect(sum('consentRecords')).toBe(3);
    expect(sum('timersOverdue')).toBe(1);

    const l = await table();
    await ingestBatch(
      events.map((e) => JSON.stringify({ id: `env-${e.detail.eventId}`, ...line(e) })),
      { store: l.live, rejected: new InMemoryRejectedEventSink(), rejections: new InMemoryRejectionLedger(), consent: l.consent, privacy: new InMemoryPrivacyStore(), now: () => new Date() },
    );
    const fire = { store: l.live, publisher, timers: l.timers, now: () => new Date() };
    for (const e of events) await fireTriggers(e, fire);
    const swept = await sweepTimers({ timers: l.timers, handlers: { [TRIGGER_TIMER_KIND]: triggerTimerHandler(fire) }, now: () => new Date() });
    // Live, the overdue o2 fires at the sweep; the backfill leaves no timer due.
    expect(swept.fired).toBe(1);
    expect(await b.timers.due(new Date(), 100)).toEqual([]);

    const strip = (i: Record<string, unknown>) => ({ ...i, expiresAt: undefined, timerBucket: undefined });
    for (const c of ['s', 'u']) {
      expect((await pendingTimers(b, c)).map(strip)).toEqual((await pendingTimers(l, c)).map(strip));
      expect(await b.live.getProfile(c)).toEqual(await l.live.getProfile(c));
    }
    expect((await pendingTimers(b, 's')).map((i) => [i.key, i.dueAt])).toEqual([['order-stuck-preparing#o1', ago(4 - 10)]]);
    expect((await pendingTimers(b, 'u')).map((i) => [i.key, i.dueAt])).toEqual([['usage-stopped#p-1', ago(9 - 30)]]);
    // The same ledger, with source import.
    const ledger = await b.consent.history('u');
    expect(ledger).toEqual((await l.consent.history('u')).map((r) => ({ ...r, source: 'import' })));
    expect(ledger.map((r) => [r.purpose, r.action])).toEqual([['marketing:email', 'granted'], ['marketing:sms', 'withdrawn'], ['winback', 'granted']]);

    // A rerun, whole and split differently: every TIMER# and CONSENT# item as it was.
    const before = { timers: [await items(b, 's', 'TIMER#'), await items(b, 'u', 'TIMER#')], consent: await items(b, 'u', 'CONSENT#') };
    const rerun = await backfillBatch(batch('run-2', events, 0), deps);
    expect(rerun).toMatchObject({ eventsStored: 0, consentRecords: 0, timersSet: 0 });
    for (let i = 0; i < events.length; i += 5) await backfillBatch(batch('run-3', events.slice(i, i + 5), i), deps);
    expect({ timers: [await items(b, 's', 'TIMER#'), await items(b, 'u', 'TIMER#')], consent: await items(b, 'u', 'CONSENT#') }).toEqual(before);
  }, 300_000);

  it('appends the consent records in bulk, once each: one already in the ledger (appended live before its event was stored) keeps its source', async () => {
    const t = await table();
    const consentEvents = events.filter((e) => consentRecordsOf(e).length > 0);
    // Live ingest appends a record before it stores the event: a crash in between leaves the record without the event.
    const [early] = consentRecordsOf(consentEvents[1]!);
    expect(early!.source).not.toBe('import');
    await t.consent.append([early!]);
    const r = await backfillBatch(batch('run-1', events, 0), { store: t.backfill, fold: profiles, timers: t.timers, consent: t.consent, now: () => new Date() });
    expect(r.eventsStored).toBe(events.length);
    const expected = backfillConsentRecords(consentEvents).map((rec) => (rec.recordId === early!.recordId ? early! : rec));
    expect(await t.consent.history('u')).toEqual(expected);
    // Appending the same records again in bulk changes no item.
    const before = await items(t, 'u', 'CONSENT#');
    await t.consent.appendAbsent(backfillConsentRecords(consentEvents));
    expect(await items(t, 'u', 'CONSENT#')).toEqual(before);
  }, 120_000);
});
