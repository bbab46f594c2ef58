/**
 * The crash window of a bulk send, on DynamoDB Local and the SES v2 emulator: a worker that dies
 * after SES took its emails (before recording them) and one that dies after marking its entries
 * `submitted` but before calling SES. The redelivery sends nothing (in doubt) and sets the
 * reconciliation timer; SES's Send events of the emails it took (through the feedback path)
 * confirm their entries `sent`; when the timer goes off the confirmed ones are done (EmailSent
 * published) and the one SES never took is sent. Every customer gets exactly one email.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { SesBulkMailer } from '../../shared/adapters/ses-mailer.ts';
import { sendBatch, type BatchDeps } from '../../shared/campaigns/send-batch.ts';
import type { CampaignRequest } from '../../shared/campaigns/requests.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { feedbackTags } from '../../shared/email-feedback/ses-events.ts';
import { recordFeedbackBatch } from '../../shared/email-feedback/record-feedback.ts';
import { InMemoryRejectionLedger } from '../../shared/pipeline/in-memory-ports.ts';
import type { BulkMailer } from '../../shared/ports.ts';
import type { EmittedDetailType } from '../../shared/events/catalog.ts';
import { businessEvent } from '../support/events.ts';
import { freshTable, useLocalDynamoDbAndSes } from '../support/local-aws.ts';

const sendEventFixture = (JSON.parse(readFileSync(new URL('../fixtures/aws/ses-events.json', import.meta.url), 'utf8')) as Record<string, unknown>[])[0]!;
const T0 = new Date('2026-11-02T12:00:00.000Z');
const minutes = (m: number) => new Date(T0.getTime() + m * 60_000);

const local = useLocalDynamoDbAndSes();


type StoredEmail = { destination: { to: string[] } };
const inbox = async (): Promise<StoredEmail[]> => ((await (await fetch(`${local.aws().ses.endpoint}/store`)).json()) as { emails: StoredEmail[] }).emails;

/** SES's Send event of an email, as SES puts it on the default bus (the fixture's shape, this email's tags and id). */
function sesSendEvent(customerId: string, sendId: string, messageId: string, at: Date): string {
  const e = structuredClone(sendEventFixture) as { time: string; detail: { mail: { messageId: string; timestamp: string; tags: Record<string, string[]> } } };
  e.time = at.toISOString();
  e.detail.mail.messageId = messageId;
  e.detail.mail.timestamp = at.toISOString();
  for (const t of feedbackTags(customerId, sendId)) e.detail.mail.tags[t.name] = [t.value];
  return JSON.stringify(e);
}

describe('a worker dying in the crash window of a bulk send', () => {
  it('no customer gets a second copy or loses one: SES events confirm what SES took, the timeout releases what it never got', async () => {
    await fetch(`${local.aws().ses.endpoint}/clear-store`, { method: 'POST' });
    const { tableName } = await freshTable(local.aws().dynamodb.endpoint);
    const store = new DynamoCustomerStore(local.client(), { tableName, profiles: { empty: emptyProfile, apply: applyEvent } });
    const request = (customerId: string): CampaignRequest => ({ requestId: 'nba#reward#2026-11-02', customerId, campaign: 'reward', source: 'next-best-action', rule: '' });
    for (const id of ['a', 'b', 'c']) {
      await store.recordEvents(id, [
        businessEvent('CustomerProfileUpdated', { customerId: id, email: `${id}@example.com`, firstName: id.toUpperCase(), occurredAt: '2026-10-01T00:00:00Z' }),
        businessEvent('ConsentChanged', { customerId: id, granted: true, occurredAt: '2026-10-02T00:00:00Z' }),
      ], T0);
    }
    const ses1 = new SesBulkMailer(local.ses(), { from: 'news@example.com', configurationSet: 'clm-local' });
    const taken: { to: string; messageId: string }[] = [];
    const bulk: BulkMailer = {
      maxEntries: ses1.maxEntries,
      sendBulk: async (entries) => {
        const results = await ses1.sendBulk(entries);
        results.forEach((r, i) => r.status === 'sent' && taken.push({ to: entries[i]!.to, messageId: r.messageId }));
        return results;
      },
    };
    const published: { detailType: EmittedDetailType; detail: { sendId: string; customerId: string } }[] = [];
    const timers: { request: CampaignRequest; until: Date }[] = [];
    let now = T0;
    const deps = (overrides: Partial<BatchDeps> = {}): BatchDeps => ({
      store,
      mailer: { send: async () => Promise.reject(new Error('bulk only')) },
      publisher: { publish: async (events) => void published.push(...(events as typeof published)) },
      now: () => now,
      links: { unsubscribeBaseUrl: 'https://example.com/u', helpBaseUrl: 'https://example.com/learn' },
      policy: { controlGroupPercent: 0, controlGroupExperiment: 'v1', frequencyCapPerWeek: 2, cooldownDays: {}, holdoutPercent: 0 },
      bulkMailer: bulk,
      deferred: { defer: async (r, until) => void timers.push({ request: r, until }) },
      ...overrides,
    });
    const died = new Error('worker died');

    // Worker 1 dies after SES took a's and b's emails, before recording them.
    const dyingAfter = Object.create(store) as DynamoCustomerStore;
    dyingAfter.completeSend = async (r) => (r.status === 'sent' ? Promise.reject(died) : store.completeSend(r));
    await expect(sendBatch([request('a'), request('b')], deps({ store: dyingAfter }))).rejects.toThrow('worker died');
    // Worker 2 dies after marking c's entry submitted, before its SES call.
    const dyingBefore = Object.create(store) as DynamoCustomerStore;
    dyingBefore.releaseSend = async () => Promise.reject(died);
    await expect(sendBatch([request('c')], deps({ store: dyingBefore, bulkMailer: { maxEntries: 50, sendBulk: async () => Promise.reject(died) } }))).rejects.toThrow('worker died');
    expect((await inbox()).map((e) => e.destination.to[0]).sort()).toEqual(['a@example.com', 'b@example.com']);
    for (const id of ['a', 'b', 'c']) expect((await store.readCustomer(id)).sends.map((s) => s.status)).toEqual(['submitted']);

    // SQS delivers both batches again 5 minutes later: in doubt, nothing sent, a timer at the timeout (3 h) + 1 minute.
    now = minutes(5);
    const redelivered = await sendBatch([request('a'), request('b'), request('c')], deps());
    expect(redelivered).toEqual(['a', 'b', 'c'].map((id) => ({ outcome: 'in-doubt', sendId: 'reward#nba#reward#2026-11-02', until: minutes(181).toISOString() })));
    expect(timers.map((t) => [t.request.customerId, t.until.toISOString()])).toEqual(['a', 'b', 'c'].map((id) => [id, minutes(181).toISOString()]));
    expect(await inbox()).toHaveLength(2);

    // SES's Send events of a's and b's emails reach the feedback path (a redelivered one changes nothing).
    now = minutes(7);
    const events = taken.map((t) => sesSendEvent(t.to.split('@')[0]!, 'reward#nba#reward#2026-11-02', t.messageId, minutes(0)));
    const feedbackDeps = { store, rejected: { reject: async () => {} }, rejections: new InMemoryRejectionLedger(), now: () => now };
    const fb = await recordFeedbackBatch([...events, events[0]!], feedbackDeps);
    // (the batch's events are handled concurrently: either copy of a's event may be the one that confirms)
    expect(fb.map((r) => r.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(fb.filter((r) => r.outcome === 'accepted' && r.confirmed)).toHaveLength(2);
    for (const id of ['a', 'b']) {
      expect((await store.readCustomer(id)).sends).toEqual([
        expect.objectContaining({ status: 'sent', reason: 'confirmed-by-ses-event', messageId: taken.find((t) => t.to === `${id}@example.com`)!.messageId }),
      ]);
    }

    // Before the timeout a redelivery is still in doubt for c; a and b are done.
    now = minutes(60);
    expect((await sendBatch([request('c')], deps())).map((o) => o.outcome)).toEqual(['in-doubt']);

    // The timer goes off: a and b are done (their EmailSent published now), c — never taken by SES — is sent.
    now = minutes(181);
    const due = await sendBatch(timers.slice(0, 3).map((t) => t.request), deps());
    expect(due.map((o) => o.outcome)).toEqual(['already-done', 'already-done', 'sent']);
    const emails = (await inbox()).map((e) => e.destination.to[0]).sort();
    expect(emails).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    expect(published.filter((p) => p.detailType === 'EmailSent').map((p) => p.detail.customerId).sort()).toEqual(['a', 'b', 'c']);
    // and never again
    now = minutes(2000);
    expect((await sendBatch([request('a'), request('b'), request('c')], deps())).map((o) => o.outcome)).toEqual(['already-done', 'already-done', 'already-done']);
    expect(await inbox()).toHaveLength(3);
  }, 120_000);
});
