/**
 * SendBulkEmail on the SES v2 emulator (aws-ses-v2-local implements it): a batch of 60
 * requests through sendBatch goes out in two calls, every recipient gets exactly their own
 * email with their own List-Unsubscribe, and a redelivered batch sends nothing more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SesBulkMailer } from '../../shared/adapters/ses-mailer.ts';
import { sendBatch } from '../../shared/campaigns/send-batch.ts';
import type { CampaignRequest } from '../../shared/campaigns/requests.ts';
import type { Mailer } from '../../shared/ports.ts';
import { businessEvent } from '../support/events.ts';
import { MemoryCustomerStore } from '../support/memory-store.ts';
import { sdkConfig, startLocalAws, type LocalAws } from '../support/local-aws.ts';

let aws: LocalAws;
let ses: SESv2Client;
type StoredEmail = { destination: { to: string[] }; subject: string; headers?: { name: string; value: string }[]; body: { text?: string; html?: string } };
const inbox = async (): Promise<StoredEmail[]> => ((await (await fetch(`${aws.ses.endpoint}/store`)).json()) as { emails: StoredEmail[] }).emails;

beforeAll(async () => {
  aws = await startLocalAws();
  ses = new SESv2Client(sdkConfig(aws.ses.endpoint));
}, 120_000);
afterAll(async () => {
  ses?.destroy();
  await aws?.stop();
});

describe('bulk sends on the SES emulator', () => {
  it('60 requests: every recipient gets their own email once, with their own one-click unsubscribe', async () => {
    const store = new MemoryCustomerStore();
    const now = new Date('2026-11-02T12:00:00.000Z');
    const requests: CampaignRequest[] = [];
    for (let i = 0; i < 60; i++) {
      const customerId = `B-${i}`;
      await store.recordEvents(customerId, [
        businessEvent('CustomerProfileUpdated', { customerId, email: `b${i}@example.com`, firstName: `Ada <${i}>`, occurredAt: '2026-10-01T00:00:00Z' }),
        businessEvent('ConsentChanged', { customerId, granted: true, occurredAt: '2026-10-02T00:00:00Z' }),
      ], now);
      requests.push({ requestId: 'nba#reward#2026-11-02', customerId, campaign: 'reward', source: 'next-best-action', rule: '' });
    }
    const calls: number[] = [];
    const bulk = new SesBulkMailer(ses, { from: 'news@example.com', configurationSet: 'clm-local' });
    const counting = { maxEntries: bulk.maxEntries, sendBulk: (e: Parameters<typeof bulk.sendBulk>[0]) => (calls.push(e.length), bulk.sendBulk(e)) };
    const noSingle: Mailer = { send: async () => Promise.reject(new Error('bulk only')) };
    const deps = {
      store, mailer: noSingle, publisher: { publish: async () => {} }, now: () => now,
      links: { unsubscribeBaseUrl: 'https://example.com/u', helpBaseUrl: 'https://example.com/learn' },
      policy: { controlGroupPercent: 0, controlGroupExperiment: 'v1', frequencyCapPerWeek: 2, cooldownDays: {}, holdoutPercent: 0 },
      bulkMailer: counting,
    };
    const outcomes = await sendBatch(requests, deps);
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(60).fill('sent'));
    expect(calls).toEqual([50, 10]);
    const emails = await inbox();
    expect(emails).toHaveLength(60);
    for (let i = 0; i < 60; i++) {
      const mine = emails.filter((e) => e.destination.to[0] === `b${i}@example.com`);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.subject).toBe(`Ada <${i}>, thank you`);
      expect(mine[0]!.body.html).toContain(`Hi Ada &lt;${i}&gt;,`);
      const token = Buffer.from(`B-${i}\nreward#nba#reward#2026-11-02`).toString('base64url');
      expect(mine[0]!.headers).toEqual(expect.arrayContaining([
        { name: 'List-Unsubscribe', value: `<https://example.com/u/${token}>` },
        { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
      ]));
    }
    expect((await sendBatch(requests, deps)).map((o) => o.outcome)).toEqual(Array(60).fill('already-done'));
    expect(await inbox()).toHaveLength(60);
  }, 120_000);
});
