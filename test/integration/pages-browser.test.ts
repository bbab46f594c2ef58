/**
 * The public pages end to end, in headless Chromium (playwright-core, /usr/bin/chromium) against
 * the local stack: customers are put on the local bus and stored by the real ingest handler; the
 * links are signed with the key ring the local stack generated for its state directory; the pages
 * server invokes the real pages handler with function URL events; the answers land in DynamoDB
 * Local. Also RFC 8058's one-click POST as a mail provider sends it, without a browser.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHandler } from '../../local/invoke.ts';
import { startLocalStack, type LocalStack } from '../../local/local-stack.ts';
import { PAGE_KEYS_FILE } from '../../local/page-keys.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { DynamoConsentLedger } from '../../shared/adapters/dynamodb-consent-ledger.ts';
import { applyEvent, emptyProfile, hasConsent } from '../../shared/customers/profile.ts';
import { parseKeyRing, signToken, signedPageUrl, type KeyRing, type TokenPurpose } from '../../shared/pages/tokens.ts';

let stack: LocalStack;
let browser: Browser;
let keys: KeyRing;
let store: DynamoCustomerStore;
const hour = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

const entry = (detailType: string, customerId: string, eventId: string, detail: Record<string, unknown>, occurredAt = hour(48)) => ({
  EventBusName: 'ServerlessClm-events',
  Source: 'com.example.test',
  DetailType: detailType,
  Detail: JSON.stringify({ eventId, customerId, occurredAt, ...detail }),
});

/** A time zone where it is midday now. */
const middayZone = () => {
  const offset = 12 - new Date().getUTCHours();
  return offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
};

const link = (purpose: TokenPurpose, customerId: string) => signedPageUrl(keys, stack.endpoints.pages, { purpose, customerId, now: new Date() });

/** A page that records every request it makes and every console message (a CSP violation is one). */
async function openPage(): Promise<{ page: Page; requests: string[]; console: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  const console: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  return { page, requests, console };
}

async function storedEvents(customerId: string) {
  const out = await stack.dynamodb.send(
    new QueryCommand({
      TableName: stack.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)',
      ExpressionAttributeValues: { ':pk': { S: `CUST#${customerId}` }, ':evt': { S: 'EVT#' } },
    }),
  );
  return (out.Items ?? []).map((i) => ({ type: i.type!.S!, source: i.source!.S!, detail: JSON.parse(JSON.stringify(i.detail!.M)) as Record<string, Record<string, unknown>> }));
}

beforeAll(async () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'clm-pages-'));
  stack = await startLocalStack({ stateDir, maxBatchingWindowMs: 50 });
  keys = parseKeyRing(readFileSync(path.join(stateDir, PAGE_KEYS_FILE), 'utf8'));
  store = new DynamoCustomerStore(stack.dynamodb, { tableName: stack.tableName, profiles: { empty: emptyProfile, apply: applyEvent } });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });

  const bus = new EventBridgeClient({ endpoint: stack.endpoints.bus, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const consent = { channel: 'email', purpose: 'marketing', granted: true };
  const entries = [
        entry('CustomerProfileUpdated', 'P-1', 'p1-profile', { email: 'ada@example.com', firstName: '<b>Ada</b>', locale: 'en-GB' }),
        entry('ConsentChanged', 'P-1', 'p1-consent', consent),
        entry('SubscriptionStarted', 'P-1', 'p1-tv', { subscriptionId: 's-tv', productId: 'tv', plan: 'complete', monthlyPrice: 27, currency: 'EUR' }, hour(24 * 90)),
        entry('SubscriptionStarted', 'P-1', 'p1-bb', { subscriptionId: 's-bb', productId: 'broadband', plan: 'plus', monthlyPrice: 39, currency: 'EUR' }, hour(24 * 90)),
        entry('UsageRecorded', 'P-1', 'p1-usage', { productId: 'broadband', quantity: 120, unit: 'GB' }),
        entry('CustomerProfileUpdated', 'P-2', 'p2-profile', { email: 'bo@example.com', firstName: 'Bo' }),
        entry('ConsentChanged', 'P-2', 'p2-consent', consent),
        entry('CustomerProfileUpdated', 'P-4', 'p4-profile', { email: 'cy@example.com' }),
        entry('ConsentChanged', 'P-4', 'p4-consent', consent),
        entry('SubscriptionStarted', 'P-3', 'p3-start', { subscriptionId: 's-m', productId: 'mobile', plan: 'm', monthlyPrice: 20, currency: 'EUR' }, hour(24 * 200)),
        entry('SubscriptionCancelled', 'P-3', 'p3-cancel', { subscriptionId: 's-m', productId: 'mobile', reason: 'network', allowWinbackContact: false }),
        // A first order: the welcome goes (at midday in her time zone, outside the quiet hours) and asks her to confirm.
        entry('CustomerProfileUpdated', 'P-5', 'p5-profile', { email: 'dee@example.com', firstName: 'Dee', timeZone: middayZone() }),
        entry('OrderPlaced', 'P-5', 'p5-order', { orderId: 'o-5', amount: 40, currency: 'EUR' }, hour(1)),
  ];
  for (let i = 0; i < entries.length; i += 10) {
    const out = await bus.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
    expect(out.FailedEntryCount).toBe(0);
  }
  bus.destroy();
  await stack.waitForIdle({ timeoutMs: 60_000 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('public pages in headless Chromium, served by the local stack', () => {
  it('/u/TOKEN: the GET page only shows a button; pressing it unsubscribes at once, as a ConsentChanged from the unsubscribe link', async () => {
    const { page, requests, console } = await openPage();
    const url = link('unsubscribe', 'P-1');
    const res = await page.goto(url);
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-security-policy']).toMatch(/^default-src 'none'/);
    await expect(page.locator('h1').textContent()).resolves.toBe('Unsubscribe from our marketing emails');
    // Loading (and reloading) the page changes nothing: link scanners follow GETs.
    await page.reload();
    expect(hasConsent((await store.getProfile('P-1'))!, 'email', 'marketing')).toBe(true);

    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.waitForURL(url);
    await expect(page.locator('h1').textContent()).resolves.toBe('You are unsubscribed');
    expect(hasConsent((await store.getProfile('P-1'))!, 'email', 'marketing')).toBe(false);
    const consent = (await storedEvents('P-1')).filter((e) => e.type === 'ConsentChanged' && e.source === 'serverless-clm.pages');
    expect(consent.map((e) => [e.detail.granted, e.detail.source])).toEqual([[{ BOOL: false }, { S: 'unsubscribe-link' }]]);
    // The consent ledger has the withdrawal, as the auditor sees it.
    const ledger = await new DynamoConsentLedger(stack.dynamodb, { tableName: stack.tableName }).history('P-1');
    expect(ledger.map((r) => [r.purpose, r.action, r.source])).toEqual([['marketing:email', 'granted', 'api'], ['marketing:email', 'withdrawn', 'unsubscribe-link']]);
    // Nothing but the page itself was loaded (no external resources), and no CSP violation was reported.
    expect(requests.every((r) => r.startsWith(stack.endpoints.pages))).toBe(true);
    expect(console).toEqual([]);
    await page.close();
  });

  it("/u/TOKEN: RFC 8058's one-click POST, as a mail provider sends it, unsubscribes with no page and no login", async () => {
    const res = await fetch(link('unsubscribe', 'P-2'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(res.status).toBe(200);
    expect(hasConsent((await store.getProfile('P-2'))!, 'email', 'marketing')).toBe(false);
  });

  it('the handler takes a function URL event in the exact shape AWS delivers (test/fixtures/aws)', async () => {
    const fixture = readFileSync(new URL('../fixtures/aws/function-url-one-click-unsubscribe.json', import.meta.url), 'utf8');
    const token = signToken(keys, { purpose: 'unsubscribe', customerId: 'P-4', now: new Date() });
    const handler = await loadHandler('pages');
    const result = (await handler(JSON.parse(fixture.replaceAll('/u/TOKEN', `/u/${token}`)), {} as never)) as { statusCode: number; headers: Record<string, string>; body: string };
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-security-policy']).toMatch(/^default-src 'none'/);
    expect(result.body).toContain('You are unsubscribed');
    expect(hasConsent((await store.getProfile('P-4'))!, 'email', 'marketing')).toBe(false);
    // Not a function URL event: a plain 400, nothing read.
    expect(((await handler({ hello: 'world' }, {} as never)) as { statusCode: number }).statusCode).toBe(400);
  });

  it('/learn/TOKEN: the services the customer pays for and does not use, with the steps; her name shown as text', async () => {
    const { page, requests, console } = await openPage();
    const res = await page.goto(link('learn', 'P-1'));
    expect(res!.status()).toBe(200);
    await expect(page.locator('h2').allTextContents()).resolves.toEqual(['TV']);
    await expect(page.locator('p').first().textContent()).resolves.toBe('Hi <b>Ada</b>,');
    await expect(page.locator('b').count()).resolves.toBe(0);
    await expect(page.locator('section p.muted').textContent()).resolves.toBe('You pay €27.00 a month for the complete plan, and have not used it yet.');
    await expect(page.locator('section ol li').count()).resolves.toBe(4);
    expect(requests).toHaveLength(1);
    expect(console).toEqual([]);
    await page.close();
  });

  it('/exit/TOKEN: the survey stores the reason and the contact answer as an ExitSurveyAnswered', async () => {
    const { page, console } = await openPage();
    await page.goto(link('exit', 'P-3'));
    await page.getByLabel('The network (coverage, speed, outages)').check();
    await page.getByLabel('Tell us more').fill('no signal at home');
    await page.getByLabel('Yes').check();
    await page.getByRole('button', { name: 'Send' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Thank you');
    const answers = (await storedEvents('P-3')).filter((e) => e.type === 'ExitSurveyAnswered');
    expect(answers).toHaveLength(1);
    expect([answers[0]!.detail.reasonCode, answers[0]!.detail.reason, answers[0]!.detail.allowWinbackContact]).toEqual([{ S: 'network' }, { S: 'no signal at home' }, { BOOL: true }]);
    const winback = (await new DynamoConsentLedger(stack.dynamodb, { tableName: stack.tableName }).history('P-3')).filter((r) => r.purpose === 'winback');
    // the answer on the cancellation, then the survey's, with its source and the question's wording
    expect(winback.at(-1)).toEqual(expect.objectContaining({ action: 'granted', source: 'exit-survey', actor: 'customer', wordingVersion: 'exit-survey-v1', eventType: 'ExitSurveyAnswered' }));
    expect(console).toEqual([]);
    await page.close();
  });

  it('/confirm/TOKEN: the welcome asks (recorded), the GET page only shows a button, pressing it confirms; both steps in the consent ledger', async () => {
    const welcome = (await stack.emails()).find((m) => m.destination?.to?.[0] === 'dee@example.com') as { subject: string; body: { text: string } } | undefined;
    expect(welcome?.subject).toBeDefined();
    const url = /\S+\/confirm\/[A-Za-z0-9._-]+/.exec(welcome!.body.text)![0];
    expect(url.startsWith(`${stack.endpoints.pages}/confirm/v1.`)).toBe(true);
    const ledger = new DynamoConsentLedger(stack.dynamodb, { tableName: stack.tableName });
    const steps = async () => (await ledger.history('P-5')).map((r) => [r.purpose, r.action, r.doubleOptIn, r.source, r.wordingVersion, r.eventSource]);
    // The first step, recorded when the welcome went: not a grant.
    expect(await steps()).toEqual([['marketing:email', 'requested', 'requested', 'double-opt-in', 'welcome-v1', 'serverless-clm.campaigns']]);
    expect(hasConsent((await store.getProfile('P-5'))!, 'email', 'marketing')).toBe(false);

    const { page, requests, console } = await openPage();
    const res = await page.goto(url);
    expect(res!.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Confirm your email subscription');
    // Loading (and reloading) the page changes nothing: link scanners follow GETs.
    await page.reload();
    expect(await steps()).toHaveLength(1);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(url);
    await expect(page.locator('h1').textContent()).resolves.toBe('Thank you, you are subscribed');
    expect(hasConsent((await store.getProfile('P-5'))!, 'email', 'marketing')).toBe(true);
    expect(await steps()).toEqual([
      ['marketing:email', 'requested', 'requested', 'double-opt-in', 'welcome-v1', 'serverless-clm.campaigns'],
      ['marketing:email', 'granted', 'confirmed', 'double-opt-in', 'confirm-page-v1', 'serverless-clm.pages'],
    ]);
    expect((await storedEvents('P-5')).filter((e) => e.type === 'ConsentChanged').map((e) => [e.source, e.detail.doubleOptIn])).toEqual(
      expect.arrayContaining([
        ['serverless-clm.campaigns', { S: 'requested' }],
        ['serverless-clm.pages', { S: 'confirmed' }],
      ]),
    );
    expect(requests.every((r) => r.startsWith(stack.endpoints.pages))).toBe(true);
    expect(console).toEqual([]);

    // A forged, foreign or expired confirmation link: the error page, nothing recorded.
    const expired = `${stack.endpoints.pages}/confirm/${signToken(keys, { purpose: 'confirm', customerId: 'P-5', now: new Date(Date.now() - 31 * 86_400_000) })}`;
    for (const bad of [`${url.slice(0, -3)}abc`, link('learn', 'P-5').replace('/learn/', '/confirm/'), expired]) {
      const r = await page.goto(bad);
      expect(r!.status()).toBe(404);
      await expect(page.locator('h1').textContent()).resolves.toBe('This link does not work');
      const posted = await fetch(bad, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
      expect(posted.status).toBe(404);
    }
    expect(await steps()).toHaveLength(2);
    await page.close();
  });

  it('a tampered, foreign or expired link gets the same error page, which reveals nothing', async () => {
    const { page } = await openPage();
    const good = link('learn', 'P-1');
    const expired = `${stack.endpoints.pages}/learn/${signToken(keys, { purpose: 'learn', customerId: 'P-1', now: new Date(Date.now() - 61 * 86_400_000) })}`;
    const bodies = new Set<string>();
    for (const url of [`${good.slice(0, -3)}abc`, link('unsubscribe', 'P-1').replace('/u/', '/learn/'), expired, `${stack.endpoints.pages}/exit/not-a-token`]) {
      const res = await page.goto(url);
      expect(res!.status()).toBe(404);
      await expect(page.locator('h1').textContent()).resolves.toBe('This link does not work');
      const text = await page.locator('body').innerText();
      expect(text).not.toMatch(/P-1|Ada|expired\b.*token|signature/i);
      bodies.add(text);
    }
    expect(bodies.size).toBe(1);
    await page.close();
  });
});
