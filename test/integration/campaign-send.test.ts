/** sendCampaign with the real store (DynamoDB Local) and the real SES v2 emulator. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { SesMailer } from '../../shared/adapters/ses-mailer.ts';
import { localDynamoDbClient } from '../../local/services.ts';
import { defaultSendPolicy } from '../../shared/campaigns/guardrails.ts';
import { sendCampaign } from '../../shared/campaigns/send-campaign.ts';
import type { ChurnTriggerFired } from '../../shared/events/catalog.ts';
import type { EventPublisher, Mailer } from '../../shared/ports.ts';
import { composeEmail, unsignedLinks } from '../../shared/campaigns/messages.ts';
import { defaultCatalog } from '../../shared/campaigns/catalog.ts';
import { loadTemplateSet } from '../../shared/campaigns/template-files.ts';
import { TemplateRenderer } from '../../shared/campaigns/templates.ts';
import { validateInbound } from '../../shared/events/validate.ts';
import { businessEvent, churnTrigger, detail, envelope } from '../support/events.ts';
import { freshTable, sdkConfig, startLocalAws, type LocalAws } from '../support/local-aws.ts';
import { applyEvent as apply, emptyProfile as empty } from '../../shared/customers/profile.ts';
const profiles = { empty, apply };
const emptyProfileOf = empty;

let aws: LocalAws;
let ddb: ReturnType<typeof localDynamoDbClient>;
let ses: SESv2Client;
let store: DynamoCustomerStore;
const published: { detailType: string; detail: unknown }[] = [];
const publisher: EventPublisher = { publish: async (events) => void published.push(...events) };
const links = { unsubscribeBaseUrl: 'https://example.com/unsubscribe', helpBaseUrl: 'https://example.com/help' };
const policy = { ...defaultSendPolicy, controlGroupPercent: 0 };

type StoredEmail = {
  messageId: string;
  from: string;
  subject: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  headers?: { name: string; value: string }[];
  body: { text?: string; html?: string };
};
const inbox = async (): Promise<StoredEmail[]> => ((await (await fetch(`${aws.ses.endpoint}/store`)).json()) as { emails: StoredEmail[] }).emails;

beforeAll(async () => {
  aws = await startLocalAws();
  ddb = localDynamoDbClient(aws.dynamodb.endpoint);
  ses = new SESv2Client(sdkConfig(aws.ses.endpoint));
});
afterAll(async () => {
  ddb?.destroy();
  ses?.destroy();
  await aws?.stop();
});
beforeEach(async () => {
  const { tableName } = await freshTable(aws.dynamodb.endpoint);
  store = new DynamoCustomerStore(ddb, { tableName, profiles });
  published.length = 0;
  await fetch(`${aws.ses.endpoint}/clear-store`, { method: 'POST' });
});

async function consentingCustomer(customerId: string, email: string): Promise<void> {
  await store.recordEvent(businessEvent('CustomerProfileUpdated', { customerId, email, firstName: 'Grace' }), new Date());
  await store.recordEvent(businessEvent('ConsentChanged', { customerId, granted: true }), new Date());
}

/** A trigger as the churn-trigger handler records and publishes it (`recorded: false` = forged: on the bus, not in the table). */
async function fired(customerId: string, eventId = 'e-1', recorded = true): Promise<ChurnTriggerFired> {
  const t = trigger(customerId, eventId);
  if (recorded) await store.recordTrigger(t, new Date(t.firedAt));
  return t;
}

const trigger = (customerId: string, eventId = 'e-1'): ChurnTriggerFired => churnTrigger(customerId, eventId);

describe('sendCampaign (DynamoDB Local + SES v2 emulator)', () => {
  it('sends one retention email with one-click unsubscribe headers, and never twice on redelivery', async () => {
    await consentingCustomer('g-1', 'grace@example.com');
    const mailer = new SesMailer(ses, { from: 'care@example.com' });
    const deps = { store, mailer, publisher, now: () => new Date(), links, policy };
    const first = await sendCampaign(await fired('g-1'), deps);
    expect(first.outcome).toBe('sent');
    const again = await Promise.all([sendCampaign(await fired('g-1'), deps), sendCampaign(await fired('g-1'), deps)]);
    expect(again.map((o) => o.outcome)).toEqual(['already-done', 'already-done']);

    const emails = await inbox();
    expect(emails).toHaveLength(1);
    expect(emails[0]!.destination.to).toEqual(['grace@example.com']);
    expect(emails[0]!.subject).toMatch(/^Grace, /);
    expect(emails[0]!.headers?.map((h) => h.name)).toEqual(expect.arrayContaining(['List-Unsubscribe', 'List-Unsubscribe-Post']));
    expect(published.map((p) => p.detailType)).toEqual(['EmailSent']);
    const { records: [ledger] } = await store.recentSends('g-1', new Date(Date.now() - 60_000));
    expect(ledger).toMatchObject({ status: 'sent', campaign: 'retention-save', messageId: emails[0]!.messageId });
  });

  it('holds the weekly cap when triggers of one customer are handled at the same time by different workers', async () => {
    await consentingCustomer('r-1', 'r@example.com');
    const mailer = new SesMailer(ses, { from: 'care@example.com' });
    const capped = { store, mailer, publisher, now: () => new Date(), links, policy: { ...policy, frequencyCapPerWeek: 1, cooldownDays: { 'retention-save': 0, 'winback-counter-offer': 0, 'winback-sequence': 0 } } };
    const triggers = await Promise.all(['a', 'b', 'c', 'd'].map((id) => fired('r-1', id)));
    const outcomes = await Promise.allSettled(triggers.map((t) => sendCampaign(t, capped)));
    const sent = outcomes.filter((o) => o.status === 'fulfilled' && o.value.outcome === 'sent');
    expect(sent).toHaveLength(1);
    expect(await inbox()).toHaveLength(1);
    // the others were capped, or found the ledger busy and will be retried (and then capped)
    for (const o of outcomes) if (o.status === 'fulfilled' && o.value.outcome !== 'sent') expect(o.value).toMatchObject({ outcome: 'skipped', reason: 'frequency-cap' });
  });

  it('ignores a trigger this stack did not record (forged on the bus): nothing sent, nothing recorded', async () => {
    await consentingCustomer('x-1', 'x@example.com');
    const mailer = new SesMailer(ses, { from: 'care@example.com' });
    const out = await sendCampaign(await fired('x-1', 'forged', false), { store, mailer, publisher, now: () => new Date(), links, policy });
    expect(out).toEqual({ outcome: 'unknown-trigger' });
    expect(await inbox()).toHaveLength(0);
    expect((await store.recentSends('x-1', new Date(0))).records).toEqual([]);
    expect(published).toEqual([]);
  });

  it('publishes EmailSent once even if the bus failed after the email went out', async () => {
    await consentingCustomer('p-1', 'p@example.com');
    const mailer = new SesMailer(ses, { from: 'care@example.com' });
    let fail = true;
    const flakyBus: EventPublisher = {
      publish: async (events) => {
        if (fail) {
          fail = false;
          throw new Error('PutEvents failed');
        }
        published.push(...events);
      },
    };
    const deps = { store, mailer, publisher: flakyBus, now: () => new Date(), links, policy };
    const t = await fired('p-1');
    await expect(sendCampaign(t, deps)).rejects.toThrow(/PutEvents failed/);
    expect(await inbox()).toHaveLength(1);
    expect(published).toEqual([]);
    expect((await sendCampaign(t, deps)).outcome).toBe('already-done'); // the redelivery publishes what was missed
    expect((await sendCampaign(t, deps)).outcome).toBe('already-done');
    expect(published.map((p) => p.detailType)).toEqual(['EmailSent']);
    expect(await inbox()).toHaveLength(1);
  });

  it('does not lose an email when SES fails: the claim is released and the retry sends exactly one', async () => {
    await consentingCustomer('g-2', 'g2@example.com');
    const real = new SesMailer(ses, { from: 'care@example.com' });
    let failures = 1;
    const flaky: Mailer = {
      send: async (input) => {
        if (failures-- > 0) throw Object.assign(new Error('Throttling: Maximum sending rate exceeded.'), { name: 'TooManyRequestsException' });
        return real.send(input);
      },
    };
    const deps = { store, mailer: flaky, publisher, now: () => new Date(), links, policy };
    await expect(sendCampaign(await fired('g-2'), deps)).rejects.toThrow(/Maximum sending rate/);
    expect(await inbox()).toHaveLength(0);
    expect((await sendCampaign(await fired('g-2'), deps)).outcome).toBe('sent');
    expect((await sendCampaign(await fired('g-2'), deps)).outcome).toBe('already-done');
    expect(await inbox()).toHaveLength(1);
  });

  it('skips without consent and records why; the frequency cap holds across triggers', async () => {
    await store.recordEvent(businessEvent('CustomerProfileUpdated', { customerId: 'n-1', email: 'n@example.com' }), new Date());
    const mailer = new SesMailer(ses, { from: 'care@example.com' });
    const deps = { store, mailer, publisher, now: () => new Date(), links, policy };
    expect(await sendCampaign(await fired('n-1'), deps)).toMatchObject({ outcome: 'skipped', reason: 'no-marketing-consent' });
    expect(published.map((p) => p.detailType)).toEqual(['EmailSkipped']);

    await consentingCustomer('f-1', 'f@example.com');
    const capped = { ...deps, policy: { ...policy, frequencyCapPerWeek: 1, cooldownDays: { 'retention-save': 0, 'winback-counter-offer': 0, 'winback-sequence': 0 } } };
    expect((await sendCampaign(await fired('f-1', 'a'), capped)).outcome).toBe('sent');
    expect(await sendCampaign(await fired('f-1', 'b'), capped)).toMatchObject({ outcome: 'skipped', reason: 'frequency-cap' });
    expect(await inbox()).toHaveLength(1);
  });

  it('a first name carrying CR/LF cannot add a header: refused on ingest, and neutralised if a profile already holds one', async () => {
    const injection = 'Eve\r\nBcc: someone@example.com';
    // The catalog refuses it, with a reason that names the character and not the value.
    const refused = validateInbound(envelope('CustomerProfileUpdated', detail('CustomerProfileUpdated', { customerId: 'i-1', firstName: injection })));
    expect(refused).toMatchObject({ ok: false, code: 'invalid-detail', reason: expect.stringMatching(/firstName: must not contain control characters .*U\+000D/) });

    // A profile stored before validation refused it (built past the catalog) is sent through the real SES adapter.
    await consentingCustomer('i-1', 'eve@example.com');
    const stored = businessEvent('CustomerProfileUpdated', { customerId: 'i-1', email: 'eve@example.com' });
    Object.assign(stored.detail, { firstName: injection });
    await store.recordEvent(stored, new Date());
    const mailer = new SesMailer(ses, { from: 'care@example.com' });
    expect((await sendCampaign(await fired('i-1'), { store, mailer, publisher, now: () => new Date(), links, policy })).outcome).toBe('sent');

    const [email, ...more] = await inbox();
    expect(more).toEqual([]);
    expect(email!.subject).toBe('Eve Bcc: someone@example.com, we want to put this right');
    expect(email!.subject).not.toMatch(/[\r\n]/);
    expect(email!.destination).toMatchObject({ to: ['eve@example.com'], cc: [], bcc: [] });
    expect(email!.headers?.map((h) => h.name.toLowerCase())).not.toContain('bcc');
    expect(email!.body.text?.split('\n')[0]).toBe('Hi Eve Bcc: someone@example.com,');
  });

  it('the SES adapter refuses to send a header value with a control character (defence in depth)', async () => {
    const composed = composeEmail({
      request: { requestId: 't', customerId: 'd-1', campaign: 'retention-save', source: 'trigger', rule: 'billing-complaint' },
      profile: emptyProfileOf('d-1'), sendId: 's', catalog: defaultCatalog, renderer: new TemplateRenderer(loadTemplateSet()), links: unsignedLinks(links),
    });
    if (!composed.ok) throw new Error(composed.error);
    const message = composed.message;
    const mailer = new SesMailer(ses, { from: 'care@example.com' });
    await expect(mailer.send({ to: 'd@example.com', message: { ...message, subject: 'Hi\r\nBcc: x@example.com' } })).rejects.toThrow(/Subject contains a control character \(U\+000D at position 2\)/);
    await expect(mailer.send({ to: 'd@example.com', message: { ...message, headers: [{ name: 'X-Note', value: 'a\nb' }] } })).rejects.toThrow(/X-Note contains a control character/);
    const badFrom = new SesMailer(ses, { from: 'Care\r\nBcc: x@example.com <care@example.com>' });
    await expect(badFrom.send({ to: 'd@example.com', message })).rejects.toThrow(/From contains a control character/);
    expect(await inbox()).toHaveLength(0);
    // The same message, unchanged, goes through.
    await mailer.send({ to: 'd@example.com', message });
    expect(await inbox()).toHaveLength(1);
  });
});
