/**
 * sendCampaign on an in-memory store: the outcome of each decision, what goes to the mailer,
 * the ledger and the bus, and how redelivery, a failed send, a busy claim and a changing
 * ledger are handled. (The same paths against DynamoDB Local: test/integration/campaign-send.test.ts.)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ChurnTriggerFired } from '../../../shared/events/catalog.ts';
import type { SendPolicy } from '../../../shared/campaigns/guardrails.ts';
import { CAMPAIGNS_EVENT_SOURCE, SendInProgressError, WELCOME_OPT_IN_WORDING_VERSION, handleRequest, sendCampaign } from '../../../shared/campaigns/send-campaign.ts';
import type { CampaignRequest } from '../../../shared/campaigns/requests.ts';
import { InMemoryConsentLedger } from '../../../shared/pipeline/in-memory-ports.ts';
import { hasConsent } from '../../../shared/customers/profile.ts';
import type { EventPublisher, Mailer } from '../../../shared/ports.ts';
import { businessEvent } from '../../support/events.ts';
import { MemoryCustomerStore } from '../../support/memory-store.ts';

const now = new Date('2026-11-01T12:00:00.000Z');
const DAY = 86_400_000;
const links = { unsubscribeBaseUrl: 'https://example.com/unsubscribe', helpBaseUrl: 'https://example.com/help' };
const policy: SendPolicy = { controlGroupPercent: 0, controlGroupExperiment: 'v1', frequencyCapPerWeek: 2, cooldownDays: { 'retention-save': 30, 'winback-counter-offer': 90, 'winback-sequence': 30 } };

const trigger = (over: Partial<ChurnTriggerFired> = {}): ChurnTriggerFired => ({
  triggerId: 'billing-complaint#c-1#e1',
  customerId: 'c-1',
  rule: 'billing-complaint',
  kind: 'single',
  action: 'retention-save',
  reasons: ['support call about billing'],
  churnRiskBoost: 0.2,
  sourceEventIds: ['e1'],
  firedAt: now.toISOString(),
  schemaVersion: 1,
  ...over,
});

let store: MemoryCustomerStore;
let mails: { to: string; subject: string }[];
let published: { detailType: string; detail: unknown }[];
let mailer: Mailer;
let publisher: EventPublisher;
const deps = (over: Record<string, unknown> = {}) => ({ store, mailer, publisher, now: () => now, links, policy, ...over });

async function customer(consent = true, id = 'c-1') {
  await store.recordEvents(id, [
    businessEvent('CustomerProfileUpdated', { customerId: id, email: 'ada@example.com', firstName: 'Ada', occurredAt: '2026-10-01T00:00:00Z' }),
    businessEvent('ConsentChanged', { customerId: id, granted: consent, occurredAt: '2026-10-02T00:00:00Z' }),
  ], now);
}
const recorded = async (t: ChurnTriggerFired) => store.recordTrigger(t, now);

beforeEach(() => {
  store = new MemoryCustomerStore();
  mails = [];
  published = [];
  let n = 0;
  mailer = { send: async ({ to, message }) => (mails.push({ to, subject: message.subject }), { messageId: `m-${++n}` }) };
  publisher = { publish: async (events) => void published.push(...events) };
});

describe('sendCampaign', () => {
  it('sends, records the send in the ledger and publishes EmailSent once', async () => {
    await customer();
    await recorded(trigger());
    expect(await sendCampaign(trigger(), deps())).toEqual({ outcome: 'sent', sendId: 'retention-save#billing-complaint#c-1#e1', messageId: 'm-1' });
    expect(mails).toEqual([{ to: 'ada@example.com', subject: 'Ada, we want to put this right' }]);
    expect(published).toEqual([
      {
        detailType: 'EmailSent',
        detail: { sendId: 'retention-save#billing-complaint#c-1#e1', customerId: 'c-1', campaign: 'retention-save', templateId: 'retention-save', messageId: 'm-1', sentAt: now.toISOString(), schemaVersion: 1 },
      },
    ]);
    expect(store.calls.filter((c) => c.method === 'markPublished').map((c) => c.args)).toEqual([['c-1', { kind: 'send', sendId: 'retention-save#billing-complaint#c-1#e1' }, now]]);
    expect((await store.ledger('c-1')).records).toEqual([
      { sendId: 'retention-save#billing-complaint#c-1#e1', customerId: 'c-1', campaign: 'retention-save', status: 'sent', at: now.toISOString(), messageId: 'm-1', publishedAt: now.toISOString() },
    ]);
  });

  it('claims with the ledger version it read, a 120 s lease by default, a 3-hour reconciliation timeout, and reads 90 days of sends (the longest cooldown)', async () => {
    await customer();
    await recorded(trigger());
    await sendCampaign(trigger(), deps());
    expect(store.calls.find((c) => c.method === 'recentSends')?.args).toEqual(['c-1', new Date(now.getTime() - 90 * DAY)]);
    expect(store.calls.find((c) => c.method === 'claimSend')?.args).toEqual([
      { sendId: 'retention-save#billing-complaint#c-1#e1', customerId: 'c-1', campaign: 'retention-save' },
      now,
      120,
      0,
      { submittedTimeoutSeconds: 3 * 3600 },
    ]);
    const short: SendPolicy = { ...policy, cooldownDays: { 'retention-save': 2, 'winback-counter-offer': 3, 'winback-sequence': 3 } };
    store.calls.length = 0;
    await recorded(trigger({ triggerId: 't2' }));
    await sendCampaign(trigger({ triggerId: 't2' }), deps({ policy: short, leaseSeconds: 30 }));
    expect(store.calls.find((c) => c.method === 'recentSends')?.args[1]).toEqual(new Date(now.getTime() - 7 * DAY));
    expect(store.calls.find((c) => c.method === 'claimSend')?.args.slice(2)).toEqual([30, 1, { submittedTimeoutSeconds: 3 * 3600 }]);
  });

  it('a redelivered trigger sends nothing more and publishes nothing more', async () => {
    await customer();
    await recorded(trigger());
    await sendCampaign(trigger(), deps());
    expect(await sendCampaign(trigger(), deps())).toEqual({ outcome: 'already-done', sendId: 'retention-save#billing-complaint#c-1#e1' });
    expect(mails).toHaveLength(1);
    expect(published).toHaveLength(1);
  });

  it('publishes the outcome on redelivery when the first publish failed', async () => {
    await customer();
    await recorded(trigger());
    const failing: EventPublisher = { publish: async () => Promise.reject(new Error('bus down')) };
    await expect(sendCampaign(trigger(), deps({ publisher: failing }))).rejects.toThrow('bus down');
    expect(mails).toHaveLength(1);
    expect(await sendCampaign(trigger(), deps())).toEqual({ outcome: 'already-done', sendId: 'retention-save#billing-complaint#c-1#e1' });
    expect(mails).toHaveLength(1);
    expect(published.map((p) => p.detailType)).toEqual(['EmailSent']);
    expect((await store.ledger('c-1')).records[0]?.publishedAt).toBe(now.toISOString());
  });

  it('skips without consent: records the skip and publishes EmailSkipped with the reason', async () => {
    await customer(false);
    await recorded(trigger());
    expect(await sendCampaign(trigger(), deps())).toEqual({ outcome: 'skipped', sendId: 'retention-save#billing-complaint#c-1#e1', reason: 'no-marketing-consent' });
    expect(mails).toEqual([]);
    expect(published).toEqual([
      { detailType: 'EmailSkipped', detail: { sendId: 'retention-save#billing-complaint#c-1#e1', customerId: 'c-1', campaign: 'retention-save', reason: 'no-marketing-consent', skippedAt: now.toISOString(), schemaVersion: 1 } },
    ]);
    expect((await store.ledger('c-1')).records[0]).toMatchObject({ status: 'skipped', reason: 'no-marketing-consent', at: now.toISOString() });
    // a skip is done: the redelivery does not publish again
    expect(await sendCampaign(trigger(), deps())).toMatchObject({ outcome: 'already-done' });
    expect(published).toHaveLength(1);
  });

  it('holds a control customer back: records control, publishes EmailSkipped with the control reason', async () => {
    await customer();
    await recorded(trigger());
    expect(await sendCampaign(trigger(), deps({ policy: { ...policy, controlGroupPercent: 100 } }))).toEqual({
      outcome: 'control',
      sendId: 'retention-save#billing-complaint#c-1#e1',
      reason: 'control group (100%)',
    });
    expect(mails).toEqual([]);
    expect(published).toEqual([
      { detailType: 'EmailSkipped', detail: expect.objectContaining({ reason: 'control group (100%)', campaign: 'retention-save' }) },
    ]);
    expect((await store.ledger('c-1')).records[0]).toMatchObject({ status: 'control', publishedAt: now.toISOString() });
  });

  it('a trigger the stack did not record sends and records nothing', async () => {
    await customer();
    expect(await sendCampaign(trigger(), deps())).toEqual({ outcome: 'unknown-trigger' });
    expect(mails).toEqual([]);
    expect(published).toEqual([]);
    expect((await store.ledger('c-1')).records.length).toBe(0);
  });

  it('a trigger that is not a campaign sends and records nothing', async () => {
    await customer();
    await recorded(trigger({ action: 'none' }));
    expect(await sendCampaign(trigger({ action: 'none' }), deps())).toEqual({ outcome: 'not-a-campaign' });
    expect((await store.ledger('c-1')).records.length).toBe(0);
    expect(published).toEqual([]);
  });

  it('a failed send releases the claim and rethrows, so the retry sends', async () => {
    await customer();
    await recorded(trigger());
    const down: Mailer = { send: async () => Promise.reject(new Error('SES throttled')) };
    await expect(sendCampaign(trigger(), deps({ mailer: down }))).rejects.toThrow('SES throttled');
    expect((await store.ledger('c-1')).records.length).toBe(0);
    expect(published).toEqual([]);
    expect(await sendCampaign(trigger(), deps())).toMatchObject({ outcome: 'sent' });
  });

  it('a live claim of another worker is retried later (SendInProgressError), an expired one is taken over', async () => {
    await customer();
    await recorded(trigger());
    await store.claimSend({ sendId: 'retention-save#billing-complaint#c-1#e1', customerId: 'c-1', campaign: 'retention-save' }, new Date(now.getTime() - 60_000), 120, 0);
    const err = await sendCampaign(trigger(), deps()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendInProgressError);
    expect((err as Error).name).toBe('SendInProgressError');
    expect((err as Error).message).toMatch(/being handled by another worker/);
    expect(mails).toEqual([]);
    expect(await sendCampaign(trigger(), deps({ now: () => new Date(now.getTime() + 61_000) }))).toMatchObject({ outcome: 'sent' });
  });

  it('decides again when another send of the customer was claimed meanwhile (the caps may now say no)', async () => {
    await customer();
    await recorded(trigger());
    // Two other sends are claimed between this worker's read and its claim, once.
    const claimSend = store.claimSend.bind(store);
    let raced = false;
    store.claimSend = async (entry, at, lease, version) => {
      if (!raced) {
        raced = true;
        for (const id of ['education#x', 'cross-sell#y']) await claimSend({ sendId: id, customerId: 'c-1', campaign: id.split('#')[0]! }, at, lease, (await store.ledger('c-1')).ledgerVersion);
      }
      return claimSend(entry, at, lease, version);
    };
    expect(await sendCampaign(trigger(), deps())).toEqual({ outcome: 'skipped', sendId: 'retention-save#billing-complaint#c-1#e1', reason: 'frequency-cap' });
    expect(mails).toEqual([]);
  });

  it('gives up after five stale decisions', async () => {
    await customer();
    await recorded(trigger());
    let claims = 0;
    store.claimSend = async () => (claims++, { state: 'stale' });
    await expect(sendCampaign(trigger(), deps())).rejects.toThrow(SendInProgressError);
    await expect(sendCampaign(trigger(), deps())).rejects.toThrow("the customer's sends kept changing; retry later");
    expect(claims).toBe(10);
  });
});

describe('the double opt-in request', () => {
  it('a welcome that went records the request (on the customer and in the consent ledger) once, before its EmailSent; other emails record none', async () => {
    await store.recordEvents('w-1', [businessEvent('CustomerProfileUpdated', { customerId: 'w-1', email: 'wen@example.com', firstName: 'Wen', occurredAt: '2026-10-01T00:00:00Z' })], now);
    await customer(true, 'c-2');
    const consent = new InMemoryConsentLedger();
    const welcome: CampaignRequest = { requestId: 'first-purchase#w-1', customerId: 'w-1', campaign: 'welcome', source: 'event', rule: '' };
    const statement: CampaignRequest = { requestId: 's-1', customerId: 'c-2', campaign: 'statement', source: 'event', rule: '', document: { kind: 'statement', number: 'S-1', amount: 1, currency: 'EUR' } };
    expect((await handleRequest(welcome, deps({ consent }))).outcome).toBe('sent');
    expect((await handleRequest(welcome, deps({ consent }))).outcome).toBe('already-done');
    expect((await handleRequest(statement, deps({ consent }))).outcome).toBe('sent');
    expect((await consent.history('w-1')).map((r) => [r.purpose, r.action, r.doubleOptIn, r.source, r.actor, r.wordingVersion, r.eventSource, r.at])).toEqual([
      ['marketing:email', 'requested', 'requested', 'double-opt-in', 'serverless-clm', WELCOME_OPT_IN_WORDING_VERSION, CAMPAIGNS_EVENT_SOURCE, now.toISOString()],
    ]);
    expect(await consent.history('c-2')).toEqual([]);
    // not a grant: no marketing consent from it
    expect(hasConsent((await store.getProfile('w-1'))!, 'email', 'marketing')).toBe(false);
    expect((await store.getProfile('w-1'))!.eventCount).toBe(2);
    expect(published.map((p) => p.detailType)).toEqual(['EmailSent', 'EmailSent']);
  });
});
