/**
 * Sending at scale through SES v2 SendBulkEmail, with the SES client mocked
 * (aws-sdk-client-mock) for the call shapes and the error paths the emulator cannot
 * produce: 1,000 recipients in 20 calls of 50, every one recorded; throttling of whole
 * calls and of entries retried with backoff and jitter, nothing lost; a refused entry
 * parked with its reason; a crash between the call and the record sends nothing twice.
 * (Bulk sends on the SES emulator: test/integration/bulk-send.test.ts.)
 */
import { mockClient } from 'aws-sdk-client-mock';
import { SESv2Client, SendBulkEmailCommand, type SendBulkEmailCommandInput, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { beforeEach, describe, expect, it } from 'vitest';
import { SesBulkMailer } from '../../../shared/adapters/ses-mailer.ts';
import { backoffMs, defaultRetryPolicy, sendBatch, type BatchDeps } from '../../../shared/campaigns/send-batch.ts';
import type { SendPolicy } from '../../../shared/campaigns/guardrails.ts';
import type { CampaignRequest } from '../../../shared/campaigns/requests.ts';
import type { EventPublisher, Mailer } from '../../../shared/ports.ts';
import { businessEvent } from '../../support/events.ts';
import { MemoryCustomerStore } from '../../support/memory-store.ts';

const now = new Date('2026-11-02T12:00:00.000Z');
const policy: SendPolicy = { controlGroupPercent: 0, controlGroupExperiment: 'v1', frequencyCapPerWeek: 2, cooldownDays: {}, holdoutPercent: 0 };
const links = { unsubscribeBaseUrl: 'https://example.com/u', helpBaseUrl: 'https://example.com/learn' };
const ses = mockClient(SESv2Client);
let store: MemoryCustomerStore;
let published: { detailType: string }[];
let sleeps: number[];

const noSingle: Mailer = { send: async () => Promise.reject(new Error('the batch path sends in bulk only')) };
const publisher: EventPublisher = { publish: async (events) => void published.push(...events) };
const deps = (over: Partial<BatchDeps> = {}): BatchDeps => ({
  store,
  mailer: noSingle,
  publisher,
  now: () => now,
  links,
  policy,
  bulkMailer: new SesBulkMailer(new SESv2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }), { from: 'news@acme.test', configurationSet: 'clm-config' }),
  sleep: async (ms) => void sleeps.push(ms),
  random: () => 0.5,
  ...over,
});

async function customers(n: number): Promise<CampaignRequest[]> {
  const requests: CampaignRequest[] = [];
  for (let i = 0; i < n; i++) {
    const customerId = `C-${String(i).padStart(4, '0')}`;
    await store.recordEvents(customerId, [
      businessEvent('CustomerProfileUpdated', { customerId, email: `c${i}@example.com`, firstName: 'Ada', occurredAt: '2026-10-01T00:00:00Z' }),
      businessEvent('ConsentChanged', { customerId, granted: true, occurredAt: '2026-10-02T00:00:00Z' }),
    ], now);
    requests.push({ requestId: 'nba#cross-sell#2026-11-02', customerId, campaign: 'cross-sell', source: 'next-best-action', rule: '' });
  }
  return requests;
}

/** SES's answer: SUCCESS for every entry, message ids numbered by call. */
const succeed = (input: SendBulkEmailCommandInput, call: number) => ({
  BulkEmailEntryResults: input.BulkEmailEntries!.map((_, i) => ({ Status: 'SUCCESS' as const, MessageId: `m-${call}-${i}` })),
});
const throttled = () => new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: { httpStatusCode: 429 } });
const calls = () => ses.commandCalls(SendBulkEmailCommand).map((c) => c.args[0].input);
const statuses = async (ids: string[]) => {
  const out: Record<string, number> = {};
  for (const id of ids) for (const r of (await store.ledger(id)).records) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
};

beforeEach(() => {
  ses.reset();
  store = new MemoryCustomerStore();
  published = [];
  sleeps = [];
});

describe('sendBatch through SendBulkEmail', () => {
  it('1,000 recipients: 20 calls of 50, each with the configuration set and every entry its own List-Unsubscribe; every recipient recorded', async () => {
    let n = 0;
    ses.on(SendBulkEmailCommand).callsFake((input: SendBulkEmailCommandInput) => succeed(input, n++));
    const requests = await customers(1000);
    const outcomes = await sendBatch(requests, deps());

    expect(calls()).toHaveLength(20);
    expect(calls().map((c) => c.BulkEmailEntries!.length)).toEqual(Array(20).fill(50));
    for (const c of calls()) {
      expect(c.ConfigurationSetName).toBe('clm-config');
      expect(c.FromEmailAddress).toBe('news@acme.test');
      expect(c.DefaultContent?.Template?.TemplateContent).toEqual({ Subject: '{{{subject}}}', Html: '{{{html}}}', Text: '{{{text}}}' });
    }
    const entries = calls().flatMap((c) => c.BulkEmailEntries!);
    expect(new Set(entries.map((e) => e.Destination!.ToAddresses![0])).size).toBe(1000);
    const unsubscribes = entries.map((e) => e.ReplacementHeaders!.find((h) => h.Name === 'List-Unsubscribe')!.Value!);
    expect(new Set(unsubscribes).size).toBe(1000);
    expect(entries[7]!.ReplacementHeaders).toEqual([
      { Name: 'List-Unsubscribe', Value: `<https://example.com/u/${Buffer.from('C-0007\ncross-sell#nba#cross-sell#2026-11-02').toString('base64url')}>` },
      { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
    ]);
    const data = JSON.parse(entries[7]!.ReplacementEmailContent!.ReplacementTemplate!.ReplacementTemplateData!);
    expect(data.subject).toBe('Ada, something that goes with what you have');
    expect(entries[7]!.ReplacementTags).toContainEqual({ Name: 'campaign', Value: 'cross-sell' });

    expect(outcomes.map((o) => o.outcome)).toEqual(Array(1000).fill('sent'));
    expect(await statuses(requests.map((r) => r.customerId))).toEqual({ sent: 1000 });
    expect(published.filter((p) => p.detailType === 'EmailSent')).toHaveLength(1000);
    // Redelivered: nothing more goes out.
    expect((await sendBatch(requests, deps())).map((o) => o.outcome)).toEqual(Array(1000).fill('already-done'));
    expect(calls()).toHaveLength(20);
  });

  it('a throttled call is retried after a jittered backoff; nothing is lost', async () => {
    let n = 0;
    ses.on(SendBulkEmailCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).callsFake((input: SendBulkEmailCommandInput) => succeed(input, n++));
    const requests = await customers(60);
    const outcomes = await sendBatch(requests, deps());
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(60).fill('sent'));
    expect(calls().map((c) => c.BulkEmailEntries!.length)).toEqual([50, 50, 50, 10]);
    // full jitter with random() = 0.5: half of 200 ms, then half of 400 ms
    expect(sleeps).toEqual([100, 200]);
    expect(await statuses(requests.map((r) => r.customerId))).toEqual({ sent: 60 });
  });

  it('entries SES throttles are sent again alone; a refused one is parked with its reason', async () => {
    let call = 0;
    ses.on(SendBulkEmailCommand).callsFake((input: SendBulkEmailCommandInput) => {
      call++;
      return {
        BulkEmailEntryResults: input.BulkEmailEntries!.map((e, i) => {
          const to = e.Destination!.ToAddresses![0]!;
          if (to === 'c3@example.com') return { Status: 'MESSAGE_REJECTED' as const, Error: `rejected ${to}` };
          if (call === 1 && i % 2 === 0) return { Status: 'ACCOUNT_THROTTLED' as const };
          return { Status: 'SUCCESS' as const, MessageId: `m-${call}-${i}` };
        }),
      };
    });
    const requests = await customers(10);
    const outcomes = await sendBatch(requests, deps());
    expect(calls().map((c) => c.BulkEmailEntries!.length)).toEqual([10, 5]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['sent', 'sent', 'sent', 'parked', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent']);
    expect(outcomes[3]).toEqual({ outcome: 'parked', sendId: 'cross-sell#nba#cross-sell#2026-11-02', reason: 'ses-message-rejected' });
    expect((await store.ledger('C-0003')).records[0]).toMatchObject({ status: 'parked', reason: 'ses-message-rejected' });
    expect(published.filter((p) => p.detailType === 'EmailSkipped')).toHaveLength(1);
  });

  it('still throttled after the last attempt: deferred through the timer, or released for the retry, never dropped', async () => {
    ses.on(SendBulkEmailCommand).rejects(throttled());
    const requests = await customers(3);
    const deferred: { customerId: string; until: string }[] = [];
    const timer = { defer: async (r: CampaignRequest, until: Date) => void deferred.push({ customerId: r.customerId, until: until.toISOString() }) };
    const outcomes = await sendBatch(requests, deps({ deferred: timer }));
    expect(calls()).toHaveLength(defaultRetryPolicy.attempts);
    expect(outcomes.map((o) => o.outcome)).toEqual(['deferred', 'deferred', 'deferred']);
    expect(deferred).toEqual(requests.map((r) => ({ customerId: r.customerId, until: '2026-11-02T12:15:00.000Z' })));
    expect(await statuses(requests.map((r) => r.customerId))).toEqual({ deferred: 3 });

    ses.reset();
    ses.on(SendBulkEmailCommand).rejects(throttled());
    const more = await customers(5);
    const released = await sendBatch(more.slice(3), deps());
    expect(released.map((o) => o.outcome)).toEqual(['retry', 'retry']);
    expect(await statuses(more.slice(3).map((r) => r.customerId))).toEqual({});
    // The retry, once SES takes mail again, sends them once.
    ses.reset();
    let n = 0;
    ses.on(SendBulkEmailCommand).callsFake((input: SendBulkEmailCommandInput) => succeed(input, n++));
    expect((await sendBatch(more.slice(3), deps())).map((o) => o.outcome)).toEqual(['sent', 'sent']);
  });

  it('a crash between the call and the record: the redelivery sends nothing twice', async () => {
    let n = 0;
    ses.on(SendBulkEmailCommand).callsFake((input: SendBulkEmailCommandInput) => succeed(input, n++));
    const requests = await customers(4);
    const crashing = Object.create(store) as MemoryCustomerStore;
    crashing.completeSend = async () => Promise.reject(new Error('worker died'));
    await expect(sendBatch(requests, deps({ store: crashing }))).rejects.toThrow('worker died');
    expect(calls()).toHaveLength(1);
    expect(await statuses(requests.map((r) => r.customerId))).toEqual({ submitted: 4 });
    const again = await sendBatch(requests, deps({ now: () => new Date(now.getTime() + 3600_000) }));
    expect(again.map((o) => o.outcome)).toEqual(['in-doubt', 'in-doubt', 'in-doubt', 'in-doubt']);
    expect(calls()).toHaveLength(1);
  });

  it('backoff: full jitter, doubling, capped', () => {
    const p = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((k) => backoffMs(k, p, () => 0.999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffMs(3, p, () => 0)).toBe(0);
  });
});
