/**
 * The deliverability circuit breaker on DynamoDB Local: SES's sends, hard bounces and complaints
 * counted in hour buckets (atomic ADD, TTL, each SES event once, concurrent writers), read over the
 * window; the SES feedback path counting them; and the campaigns path pausing marketing (deferred
 * with its reason, never dropped) while transactional mail goes, then sending it once the rate
 * has recovered. Emails go to the SES v2 emulator.
 */
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { DynamoDeliverability, hourOf } from '../../shared/adapters/dynamodb-deliverability.ts';
import { SesMailer } from '../../shared/adapters/ses-mailer.ts';
import { defaultSendPolicy } from '../../shared/campaigns/guardrails.ts';
import { handleRequest, type CampaignDeps, type DeferredSends } from '../../shared/campaigns/send-campaign.ts';
import type { CampaignRequest } from '../../shared/campaigns/requests.ts';
import type { DeliverabilityCount } from '../../shared/campaigns/circuit-breaker.ts';
import { recordFeedbackBatch } from '../../shared/email-feedback/record-feedback.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { InMemoryRejectionLedger } from '../../shared/pipeline/in-memory-ports.ts';
import type { EventPublisher } from '../../shared/ports.ts';
import { businessEvent } from '../support/events.ts';
import { freshTable, useLocalDynamoDbAndSes } from '../support/local-aws.ts';

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/aws/ses-events.json', import.meta.url), 'utf8')) as { detail: { mail: { timestamp: string } } }[];
const T0 = new Date('2026-11-20T12:00:00.000Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);
const counts = (prefix: string, kind: DeliverabilityCount['kind'], n: number, when: Date): DeliverabilityCount[] =>
  Array.from({ length: n }, (_, i) => ({ eventId: `${prefix}-${i}`, kind, at: when }));

const local = useLocalDynamoDbAndSes();
let tableName: string;
let tally: DynamoDeliverability;
let store: DynamoCustomerStore;

beforeEach(async () => {
  ({ tableName } = await freshTable(local.aws().dynamodb.endpoint));
  tally = new DynamoDeliverability(local.client(), { tableName, shards: 4 });
  store = new DynamoCustomerStore(local.client(), { tableName, profiles: { empty: emptyProfile, apply: applyEvent } });
});

describe('the deliverability counts (DynamoDB Local)', () => {
  it('sums the hour buckets of the window over every shard, and counts each SES event once', async () => {
    await tally.count([...counts('s', 'sends', 30, at(0)), ...counts('b', 'bounces', 2, at(0)), ...counts('c', 'complaints', 1, at(-3))]);
    await tally.count(counts('old', 'sends', 50, at(-30))); // out of a 24-hour window
    // redelivered events (alone, and mixed with new ones) add nothing twice
    await tally.count(counts('s', 'sends', 30, at(0)));
    await tally.count([...counts('b', 'bounces', 2, at(0)), ...counts('b2', 'bounces', 1, at(0))]);
    expect(await tally.figures(at(0.5), 24)).toEqual({ sends: 30, bounces: 3, complaints: 1 });
    expect(await tally.figures(at(0.5), 48)).toEqual({ sends: 80, bounces: 3, complaints: 1 });
    expect(await tally.figures(at(0.5), 2)).toEqual({ sends: 30, bounces: 3, complaints: 0 });
    expect(await tally.figures(at(30), 24)).toEqual({ sends: 0, bounces: 0, complaints: 0 });

    // Items: hour buckets spread over the shards, expiring 8 days after their hour; one marker per event.
    const doc = DynamoDBDocumentClient.from(local.client());
    const { Item: marker } = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: 'DELIVERABILITY#COUNTED#b-0', sk: 'COUNTED' } }));
    expect(marker).toMatchObject({ kind: 'bounces', expiresAt: Math.floor(T0.getTime() / 1000) + 8 * 86_400 });
    const buckets = (
      await Promise.all([0, 1, 2, 3].map((s) => doc.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `DELIVERABILITY#0${s}` } }))))
    ).flatMap((r) => r.Items ?? []);
    expect(buckets.length).toBeGreaterThan(0);
    for (const b of buckets) expect(b.expiresAt).toBe(Math.floor(Date.parse(`${String(b.sk).slice('HOUR#'.length)}:00:00Z`) / 1000) + 8 * 86_400);
    expect(hourOf(T0)).toBe('2026-11-20T12');
  });

  it('concurrent writers on few shards all count (conflicts retried), nothing twice', async () => {
    const narrow = new DynamoDeliverability(local.client(), { tableName, shards: 1 });
    await Promise.all(Array.from({ length: 12 }, (_, w) => narrow.count([...counts(`w${w}`, 'sends', 5, at(0)), ...counts(`w${w}`, 'sends', 5, at(0))])));
    // and the same events again, concurrently
    await Promise.all(Array.from({ length: 12 }, (_, w) => narrow.count(counts(`w${w}`, 'sends', 5, at(0)))));
    expect(await narrow.figures(at(0), 24)).toEqual({ sends: 60, bounces: 0, complaints: 0 });
  });
});

describe('SES feedback counts for the breaker and confirms submitted sends (DynamoDB Local)', () => {
  it("counts the Send event, the hard bounce and the complaint of the fixtures once, whoever's they are", async () => {
    await store.recordEvent(businessEvent('CustomerProfileUpdated', { customerId: 'aws-1', email: 'lin@example.net' }), T0);
    const deps = { store, rejected: { reject: async () => {} }, rejections: new InMemoryRejectionLedger(), now: () => at(5 * 24), deliverability: tally };
    const raws = fixtures.map((f) => JSON.stringify(f));
    const first = await recordFeedbackBatch(raws, deps);
    expect(first.map((r) => r.outcome)).toEqual(['accepted', 'stored', 'stored', 'stored', 'stored', 'stored', 'stored', 'stored', 'stored', 'ignored']);
    const again = await recordFeedbackBatch(raws, deps);
    expect(again.filter((r) => r.outcome === 'failed')).toEqual([]);
    const window = await tally.figures(at(5 * 24), 6 * 24);
    expect(window).toEqual({ sends: 1, bounces: 1, complaints: 1 });
  });
});

describe('the campaigns path reads the window before marketing sends (DynamoDB Local + SES v2 emulator)', () => {
  const publisher: EventPublisher = { publish: async () => {} };
  const links = { unsubscribeBaseUrl: 'https://example.com/unsubscribe', helpBaseUrl: 'https://example.com/help' };
  const policy = { ...defaultSendPolicy, controlGroupPercent: 0, holdoutPercent: 0, quietHours: undefined, breaker: { windowHours: 24, minSends: 100, bounceRate: 0.04, complaintRate: 0.0008, pauseMinutes: 60 } };
  const request = (campaign: CampaignRequest['campaign'], requestId: string): CampaignRequest => ({
    requestId,
    customerId: 'm-1',
    campaign,
    source: 'event',
    rule: '',
    ...(campaign === 'statement' ? { document: { kind: 'statement' as const, number: 'S-1', amount: 12.5, currency: 'EUR' } } : {}),
  });

  it('pauses marketing with its reason while transactional mail goes, and sends it once the window recovers', async () => {
    await store.recordEvent(businessEvent('CustomerProfileUpdated', { customerId: 'm-1', email: 'mia@example.com', firstName: 'Mia' }), at(-48));
    await store.recordEvent(businessEvent('ConsentChanged', { customerId: 'm-1', granted: true }), at(-48));
    // 100 sends and 5 hard bounces an hour ago: 5% ≥ 4%
    await tally.count([...counts('s', 'sends', 100, at(-1)), ...counts('b', 'bounces', 5, at(-1))]);
    const deferredTo: Date[] = [];
    const deferred: DeferredSends = { defer: async (_r, until) => void deferredTo.push(until) };
    let now = at(0);
    const deps: CampaignDeps = { store, mailer: new SesMailer(local.ses(), { from: 'care@example.com' }), publisher, now: () => now, links, policy, deferred, deliverability: tally };

    expect(await handleRequest(request('cross-sell', 'r-1'), deps)).toEqual({
      outcome: 'deferred',
      sendId: 'cross-sell#r-1',
      reason: 'circuit-breaker: bounce rate 5.00% over 24 h',
      until: at(1).toISOString(),
    });
    expect(deferredTo).toEqual([at(1)]);
    expect((await store.readCustomer('m-1')).sends).toEqual([expect.objectContaining({ sendId: 'cross-sell#r-1', status: 'deferred', reason: 'circuit-breaker: bounce rate 5.00% over 24 h' })]);
    // Transactional mail keeps flowing.
    expect(await handleRequest(request('statement', 's-1'), deps)).toMatchObject({ outcome: 'sent' });

    // An hour later the rate is the same: paused again (never dropped).
    now = at(1);
    expect(await handleRequest(request('cross-sell', 'r-1'), deps)).toMatchObject({ outcome: 'deferred', until: at(2).toISOString() });
    // A day later the bounces have left the window and new clean sends came in: it goes.
    now = at(24);
    await tally.count(counts('clean', 'sends', 150, at(23)));
    expect(await handleRequest(request('cross-sell', 'r-1'), deps)).toMatchObject({ outcome: 'sent', sendId: 'cross-sell#r-1' });
    const emails = ((await (await fetch(`${local.aws().ses.endpoint}/store`)).json()) as { emails: { destination: { to: string[] }; subject: string }[] }).emails;
    expect(emails.filter((e) => e.destination.to.includes('mia@example.com'))).toHaveLength(2);
  });
});
