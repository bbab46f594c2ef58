/**
 * The winback sequence on DynamoDB Local: events stored by the real store, the tracking and the
 * step handler on the DynamoDB winback store (timers swept by hand), the leaver facts read by
 * `clm winback-report`; an erasure leaves the facts, which hold no id, unlinkable.
 */
import { ScanCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { monthsBetween, winbackReportCommand } from '../../cli/winback-report.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { DynamoPrivacyStore } from '../../shared/adapters/dynamodb-privacy-store.ts';
import { DynamoWinbackStore } from '../../shared/adapters/dynamodb-winback-store.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../shared/events/catalog.ts';
import { InMemoryEventPublisher } from '../../shared/pipeline/in-memory-ports.ts';
import { eraseCustomer } from '../../shared/privacy/erasure.ts';
import { trackWinback, winbackStepHandler } from '../../shared/winback/track.ts';
import { businessEvent } from '../support/events.ts';
import { freshTable, useLocalDynamoDb } from '../support/local-aws.ts';
import { ManualTimers } from '../support/manual-timers.ts';

const local = useLocalDynamoDb();
const LEFT = '2026-01-10T00:00:00.000Z';
const day = (n: number) => new Date(Date.parse(LEFT) + n * 86_400_000);
let tableName: string;

const history = (customerId: string, reasonCode: string) => [
  businessEvent('CustomerProfileUpdated', { customerId, occurredAt: '2025-01-01T00:00:00Z' }),
  businessEvent('ConsentChanged', { customerId, occurredAt: '2025-01-01T00:00:00Z', granted: true }),
  businessEvent('SubscriptionStarted', { customerId, occurredAt: '2025-01-01T00:00:00Z', subscriptionId: 's-1', productId: 'p-1', plan: 'b', monthlyPrice: 5, currency: 'EUR' }),
  businessEvent('SubscriptionCancelled', { customerId, occurredAt: LEFT, subscriptionId: 's-1', reason: undefined, reasonCode, allowWinbackContact: true }),
];

beforeAll(async () => {
  ({ tableName } = await freshTable(local.aws().dynamodb.endpoint));
}, 120_000);

describe('the winback sequence on DynamoDB', () => {
  it('runs, records the facts once, stops on a return, and the report reads them; erasure leaves them unlinkable', async () => {
    const store = new DynamoCustomerStore(local.client(), { tableName, profiles: { empty: emptyProfile, apply: applyEvent } });
    const winback = new DynamoWinbackStore(local.client(), { tableName });
    const timers = new ManualTimers();
    const publisher = new InMemoryEventPublisher();
    let now = day(0);
    const deps = { winback, timers, store, publisher, now: () => now, clvOf: async () => 50 };
    const deliver = async (events: BusinessEvent[]) => {
      for (const e of events) {
        const [r] = await store.recordEvents(e.detail.customerId, [e], now);
        // a redelivered stream record: the same event tracked twice
        if (r!.status === 'stored') for (let i = 0; i < 2; i++) await trackWinback(e, (await store.getProfile(e.detail.customerId))!, deps);
      }
    };
    await deliver([...history('W-1', 'price'), ...history('W-2', 'network')]);
    expect(timers.pending.size).toBe(6);
    const handler = winbackStepHandler(deps);
    now = day(14);
    await timers.sweep(now, handler);
    await deliver([businessEvent('SubscriptionStarted', { customerId: 'W-1', occurredAt: day(20).toISOString(), subscriptionId: 's-9', productId: 'p-1', plan: 'b', monthlyPrice: 5, currency: 'EUR' })]);
    for (const d of [60, 180]) {
      now = day(d);
      await timers.sweep(now, handler);
    }
    expect(publisher.ofType('ChurnTriggerFired').map((t) => `${t.customerId} ${t.reasons[0]}`)).toEqual([
      'W-1 winback step 1: offer price-discount-1',
      'W-2 winback step 1: offer network-fix-news-1',
      'W-2 winback step 2: offer network-fix-news-2',
      'W-2 winback step 3: offer network-fix-news-3',
    ]);
    const facts = await winback.facts(['2026-01']);
    expect(facts).toHaveLength(2);
    expect(facts.find((f) => f.reasonCode === 'price')).toMatchObject({ inSequence: true, offers: [{ step: 1, offer: 'price-discount-1' }], outcome: { kind: 'returned', on: '2026-01-30' } });

    let stdout = '';
    const code = await winbackReportCommand(['--from', '2026-01', '--endpoint', local.aws().dynamodb.endpoint, '--table', tableName], { stdout: (s) => (stdout += s), stderr: () => {} }, { env: {} });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      from: '2026-01', to: '2026-01', leavers: 2,
      byReason: { price: { inSequence: { leavers: 1, returned: 1, rate: 1 } }, network: { inSequence: { leavers: 1, returned: 0, rate: 0 } } },
      byOffer: { 'price-discount-1': { leavers: 1, returned: 1 }, 'network-fix-news-3': { leavers: 1, returned: 0 } },
      reasonsByMonth: { '2026-01': { network: 1, price: 1 } },
    });

    await eraseCustomer('W-1', { requestedBy: 'desk', via: 'cli' }, { store, privacy: new DynamoPrivacyStore(local.client(), { tableName, salt: async () => 'a'.repeat(64) }), now: () => now });
    const items = (await DynamoDBDocumentClient.from(local.client()).send(new ScanCommand({ TableName: tableName }))).Items ?? [];
    expect(items.filter((i) => String(i.pk) === 'CUST#W-1')).toEqual([]);
    expect(items.filter((i) => String(i.pk).startsWith('LEAVERS#'))).toHaveLength(2);
    expect(JSON.stringify(items.filter((i) => String(i.pk).startsWith('LEAVERS#')))).not.toMatch(/W-1|W-2/);
    expect((await winback.facts(['2026-01'])).map((f) => f.reasonCode).sort()).toEqual(['network', 'price']);
  });

  it('the report command checks its months', async () => {
    expect(monthsBetween('2025-11', '2026-02')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    const run = (args: string[]) => winbackReportCommand(args, { stdout: () => {}, stderr: () => {} }, { env: {} });
    expect(await run([])).toBe(2);
    expect(await run(['--from', '2026-13', '--table', 't'])).toBe(2);
    expect(await run(['--from', '2026-02', '--to', '2026-01', '--table', 't'])).toBe(2);
    expect(await run(['--from', '2020-01', '--to', '2026-01', '--table', 't'])).toBe(2);
  });
});
