/**
 * The deliverability circuit breaker end to end in the local stack, with the real handlers: SES's
 * Send events and hard bounces, delivered to the local default bus as SES would, are counted by
 * email-feedback; a marketing send planned by campaigns while the bounce rate is over the breaker's
 * rate is deferred with its reason and its timer (no email), while a statement (transactional)
 * goes; a day later (the clock moved forward) the bounces have left the window, the timer sweep
 * hands the send back and it goes. The breaker's minimum volume is set from the shell
 * (CLM_CIRCUIT_BREAKER), as a user would.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock } from '../../local/clock.ts';
import { FUNCTIONS_CREDENTIALS, type EventBridgeEvent } from '../../local/bus.ts';
import { startLocalStack, type LocalStack } from '../../local/local-stack.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { inControlGroup, inGlobalHoldout } from '../../shared/campaigns/guardrails.ts';
import { sendDueEvent } from '../../shared/campaigns/deferred-sends.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { defaults } from '../../shared/defaults.ts';
import { feedbackTags } from '../../shared/email-feedback/ses-events.ts';
import { EMITTED_SOURCES } from '../../shared/events/catalog.ts';
import { ENV } from '../../shared/wiring.ts';

const RealDate = Date;
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/aws/ses-events.json', import.meta.url), 'utf8')) as EventBridgeEvent[];
let stack: LocalStack;
let store: DynamoCustomerStore;
const previous = process.env[ENV.circuitBreaker];

beforeAll(async () => {
  process.env[ENV.circuitBreaker] = JSON.stringify({ minSends: 20 });
  stack = await startLocalStack({ stateDir: mkdtempSync(path.join(os.tmpdir(), 'clm-breaker-')), maxBatchingWindowMs: 50, redeliveryDelayMs: 5 });
  store = new DynamoCustomerStore(stack.dynamodb, { tableName: stack.tableName, profiles: { empty: emptyProfile, apply: applyEvent } });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  globalThis.Date = RealDate;
  if (previous === undefined) delete process.env[ENV.circuitBreaker];
  else process.env[ENV.circuitBreaker] = previous;
});

/** SES's event of one email (the fixture of its type), for another customer's email: counted whoever it is for. */
function sesEvent(index: 0 | 5, n: number): EventBridgeEvent {
  const e = structuredClone(fixtures[index]!) as EventBridgeEvent & { detail: { mail: { messageId: string; timestamp: string; tags: Record<string, string[]> }; bounce?: { timestamp: string } } };
  const at = new Date(Date.now() - 60_000).toISOString();
  e.time = at;
  e.detail.mail.messageId = `local-${index}-${n}`;
  e.detail.mail.timestamp = at;
  if (e.detail.bounce) e.detail.bounce.timestamp = at;
  for (const t of feedbackTags(`someone-${n}`, `cross-sell#x-${n}`)) e.detail.mail.tags[t.name] = [t.value];
  return e;
}

async function put(entries: { source: string; type: string; detail: Record<string, unknown> }[], credentials = { accessKeyId: 'x', secretAccessKey: 'x' }) {
  const client = new EventBridgeClient({ endpoint: stack.endpoints.bus, region: 'eu-west-1', credentials });
  try {
    const res = await client.send(new PutEventsCommand({ Entries: entries.map((e) => ({ EventBusName: stack.busName, Source: e.source, DetailType: e.type, Detail: JSON.stringify(e.detail) })) }));
    expect(res.FailedEntryCount).toBe(0);
  } finally {
    client.destroy();
  }
}

describe('the deliverability circuit breaker through the local stack', () => {
  it('pauses marketing while the bounce rate is high (deferred with its reason), lets a statement through, and sends it once the rate recovers', async () => {
    let id = '';
    for (let i = 0; !id; i++) {
      const c = `breaker-${i}`;
      if (!inControlGroup(c, 'cross-sell', stack.controlGroupPercent, stack.controlGroupExperiment) && !inGlobalHoldout(c, defaults.holdoutPercent)) id = c;
    }
    // A time zone where it is midday now: outside the quiet hours, now and a day later.
    const offset = 12 - new Date().getUTCHours();
    const timeZone = offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    const ago = new Date(Date.now() - 86_400_000).toISOString();
    await put([
      { source: 'com.example.crm', type: 'CustomerProfileUpdated', detail: { eventId: `${id}-p`, customerId: id, occurredAt: ago, email: `${id}@example.com`, firstName: 'Bo', timeZone } },
      { source: 'com.example.crm', type: 'ConsentChanged', detail: { eventId: `${id}-c`, customerId: id, occurredAt: ago, channel: 'email', purpose: 'marketing', granted: true } },
    ]);
    // 20 emails SES took, 2 of them hard-bounced: 10% over the breaker's 4%.
    for (let n = 0; n < 20; n++) stack.bus.deliverServiceEvent(sesEvent(0, n));
    for (let n = 0; n < 2; n++) stack.bus.deliverServiceEvent(sesEvent(5, n));
    await stack.waitForIdle({ timeoutMs: 60_000 });

    // A marketing send (as the timer sweep hands one back) and a statement.
    const request = { requestId: 'nba#cross-sell#breaker', customerId: id, campaign: 'cross-sell' as const, source: 'next-best-action' as const, rule: '' };
    await put([{ source: EMITTED_SOURCES.campaigns, type: 'CampaignSendDue', detail: sendDueEvent(request, new Date().toISOString()) }], FUNCTIONS_CREDENTIALS);
    await put([{ source: 'com.example.billing', type: 'InvoiceIssued', detail: { eventId: `${id}-inv`, customerId: id, occurredAt: new Date().toISOString(), invoiceId: 'S-1', kind: 'statement', amount: 30, currency: 'EUR' } }]);
    await stack.waitForIdle({ timeoutMs: 60_000 });
    const mine = async () => (await stack.emails()).filter((m) => m.destination?.to?.[0] === `${id}@example.com`);
    expect((await mine()).map((m) => m.subject)).toHaveLength(1); // the statement only
    const paused = (await store.readCustomer(id)).sends.find((s) => s.campaign === 'cross-sell')!;
    expect(paused).toMatchObject({ status: 'deferred', reason: 'circuit-breaker: bounce rate 10.00% over 24 h' });
    expect((await store.readCustomer(id)).sends.find((s) => s.campaign === 'statement')).toMatchObject({ status: 'sent' });

    // A day later: the bounces have left the window; the sweep finds the paused send's timer due, and it goes.
    advanceClock(25 * 3_600_000);
    const swept = await stack.sweepTimers();
    expect(swept.result).toMatchObject({ fired: 1 });
    await stack.waitForIdle({ timeoutMs: 60_000 });
    expect(await mine()).toHaveLength(2);
    expect((await store.readCustomer(id)).sends.find((s) => s.campaign === 'cross-sell')).toMatchObject({ status: 'sent' });
  }, 180_000);
});
