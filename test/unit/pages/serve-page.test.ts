import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, hasConsent } from '../../../shared/customers/profile.ts';
import { InMemoryConsentLedger, InMemoryCustomerStore } from '../../../shared/pipeline/in-memory-ports.ts';
import { CONTENT_SECURITY_POLICY } from '../../../shared/pages/html.ts';
import { learnContent, parseLearnContent } from '../../../shared/pages/learn-content.ts';
import { CONFIRM_WORDING_VERSION, PAGES_EVENT_SOURCE, servePage, type PageDeps, type PageRequest } from '../../../shared/pages/serve-page.ts';
import { signToken, type KeyRing, type TokenPurpose } from '../../../shared/pages/tokens.ts';
import { businessEvent } from '../../support/events.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';

/** The in-memory store, keeping the events it stored (what the pages recorded). */
class RecordingStore extends InMemoryCustomerStore {
  readonly events: BusinessEvent[] = [];
  override async recordEvent(event: BusinessEvent, receivedAt: Date) {
    const r = await super.recordEvent(event, receivedAt);
    if (r.status === 'stored') this.events.push(event);
    return r;
  }
}

const ring: KeyRing = { current: { id: 'k1', secret: new Uint8Array(randomBytes(32)) }, previous: [] };
const NOW = new Date('2026-12-01T12:00:00Z');
let store: RecordingStore;
let deps: PageDeps;

const tokenFor = (purpose: TokenPurpose, customerId = 'c-1', now = NOW) => signToken(ring, { purpose, customerId, now });
const path = (segment: string, purpose: TokenPurpose, customerId = 'c-1') => `/${segment}/${tokenFor(purpose, customerId)}`;
const form = (fields: Record<string, string>): Pick<PageRequest, 'contentType' | 'body'> => ({
  contentType: 'application/x-www-form-urlencoded',
  body: new URLSearchParams(fields).toString(),
});
const ev = (type: Parameters<typeof businessEvent>[0], fields: Record<string, unknown>) =>
  businessEvent(type, { customerId: 'c-1', occurredAt: '2026-11-01T00:00:00Z', ...fields });

async function seed(...events: ReturnType<typeof businessEvent>[]) {
  for (const e of events) await store.recordEvent(e, NOW);
}

beforeEach(() => {
  store = new RecordingStore({ empty: emptyProfile, apply: applyEvent });
  deps = { keys: { keyRing: async () => ring }, store, now: () => NOW, content: learnContent };
});

describe('every page', () => {
  it('sends the CSP and privacy headers, and HTML that loads nothing from elsewhere', async () => {
    const { response } = await servePage({ method: 'GET', path: path('u', 'unsubscribe') }, deps);
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
    expect(CONTENT_SECURITY_POLICY).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'/);
    expect(response.body).not.toMatch(/\b(src|href)=|<script|<link|<img|@import|url\(/i);
  });

  it('a tampered, foreign, expired or unknown-key token gets the same page, with nothing from the token', async () => {
    const good = tokenFor('learn');
    const cases: [string, string][] = [
      [`/learn/${good.slice(0, -2)}AA`, 'bad-signature'],
      [`/learn/${tokenFor('unsubscribe')}`, 'wrong-purpose'],
      [`/learn/${tokenFor('learn', 'c-1', new Date(NOW.getTime() - 61 * 86_400_000))}`, 'expired'],
      [`/learn/${signToken({ current: { id: 'other', secret: new Uint8Array(32) }, previous: [] }, { purpose: 'learn', customerId: 'c-1', now: NOW })}`, 'unknown-key'],
      ['/learn/garbage', 'malformed'],
    ];
    const bodies = new Set<string>();
    for (const [p, reason] of cases) {
      const { response, outcome } = await servePage({ method: 'GET', path: p }, deps);
      expect(response.status).toBe(404);
      expect(outcome).toEqual({ page: 'learn', result: 'invalid-token', tokenFailure: reason });
      expect(response.body).not.toContain('c-1');
      bodies.add(response.body);
    }
    expect(bodies.size).toBe(1);
    expect([...bodies][0]).toContain('This link is not valid, or it has expired.');
  });

  it('unknown paths are 404, wrong methods 405 with Allow, big bodies 413', async () => {
    expect((await servePage({ method: 'GET', path: '/' }, deps)).response.status).toBe(404);
    expect((await servePage({ method: 'GET', path: `/x/${tokenFor('learn')}` }, deps)).response.status).toBe(404);
    const r = await servePage({ method: 'POST', path: path('learn', 'learn') }, deps);
    expect([r.response.status, r.response.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect((await servePage({ method: 'DELETE', path: path('u', 'unsubscribe') }, deps)).response.status).toBe(405);
    expect((await servePage({ method: 'POST', path: path('exit', 'exit'), contentType: 'text/plain', body: 'x'.repeat(17_000) }, deps)).response.status).toBe(413);
  });
});

describe('/u/TOKEN one-click unsubscribe (RFC 8058)', () => {
  beforeEach(async () => {
    await seed(ev('CustomerProfileUpdated', { email: 'ada@example.com' }), ev('ConsentChanged', { channel: 'email', purpose: 'marketing', granted: true }));
  });

  it('GET shows a button and changes nothing (also HEAD)', async () => {
    const { response, outcome } = await servePage({ method: 'GET', path: path('u', 'unsubscribe') }, deps);
    expect(response.body).toContain('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>');
    expect(outcome).toEqual({ page: 'unsubscribe', result: 'shown', customerId: 'c-1' });
    expect((await servePage({ method: 'HEAD', path: path('u', 'unsubscribe') }, deps)).response.body).toBe('');
    expect(hasConsent((await store.getProfile('c-1'))!, 'email', 'marketing')).toBe(true);
  });

  it('POST List-Unsubscribe=One-Click withdraws marketing email consent at once, as a ConsentChanged from the unsubscribe link', async () => {
    const p = path('u', 'unsubscribe');
    const { response, outcome } = await servePage({ method: 'POST', path: p, ...form({ 'List-Unsubscribe': 'One-Click' }) }, deps);
    expect([response.status, outcome.result]).toEqual([200, 'unsubscribed']);
    expect(response.body).toContain('You are unsubscribed');
    const profile = (await store.getProfile('c-1'))!;
    expect(hasConsent(profile, 'email', 'marketing')).toBe(false);
    const stored = store.events.filter((e) => e.type === 'ConsentChanged' && e.source === PAGES_EVENT_SOURCE);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.detail).toMatchObject({ customerId: 'c-1', channel: 'email', purpose: 'marketing', granted: false, source: 'unsubscribe-link', occurredAt: NOW.toISOString() });
    // Posting again (a provider retrying): nothing more is stored.
    const again = await servePage({ method: 'POST', path: p, ...form({ 'List-Unsubscribe': 'One-Click' }) }, deps);
    expect([again.response.status, again.outcome.result]).toEqual([200, 'already-unsubscribed']);
    expect(store.events.filter((e) => e.source === PAGES_EVENT_SOURCE)).toHaveLength(1);
  });

  it('takes the multipart/form-data body some mail providers send', async () => {
    const body = '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n';
    const { outcome } = await servePage({ method: 'POST', path: path('u', 'unsubscribe'), contentType: 'multipart/form-data; boundary=XyZ', body }, deps);
    expect(outcome.result).toBe('unsubscribed');
  });

  it('a POST without List-Unsubscribe=One-Click changes nothing', async () => {
    for (const req of [form({ 'List-Unsubscribe': 'yes' }), form({}), { contentType: 'text/plain', body: 'List-Unsubscribe=One-Click' }, {}]) {
      const { response, outcome } = await servePage({ method: 'POST', path: path('u', 'unsubscribe'), ...req }, deps);
      expect([response.status, outcome.result]).toEqual([400, 'invalid-form']);
    }
    expect(hasConsent((await store.getProfile('c-1'))!, 'email', 'marketing')).toBe(true);
  });

  it('after a new grant, the same link withdraws again; a grant dated ahead of the clock is still withdrawn', async () => {
    const p = path('u', 'unsubscribe');
    await servePage({ method: 'POST', path: p, ...form({ 'List-Unsubscribe': 'One-Click' }) }, deps);
    await seed(ev('ConsentChanged', { channel: 'email', purpose: 'marketing', granted: true, occurredAt: '2026-12-01T15:00:00Z' }));
    expect(hasConsent((await store.getProfile('c-1'))!, 'email', 'marketing')).toBe(true);
    const { outcome } = await servePage({ method: 'POST', path: p, ...form({ 'List-Unsubscribe': 'One-Click' }) }, deps);
    expect(outcome.result).toBe('unsubscribed');
    expect(hasConsent((await store.getProfile('c-1'))!, 'email', 'marketing')).toBe(false);
  });

  it('an unknown (or erased) customer gets the confirmation and nothing is stored', async () => {
    const { response, outcome } = await servePage({ method: 'POST', path: path('u', 'unsubscribe', 'nobody'), ...form({ 'List-Unsubscribe': 'One-Click' }) }, deps);
    expect([response.status, outcome.result]).toEqual([200, 'unknown-customer']);
    expect(await store.getProfile('nobody')).toBeUndefined();
  });
});

describe('/learn/TOKEN personal help page', () => {
  it('lists the services the customer pays for and does not use, with their steps; used ones are left out', async () => {
    await seed(
      ev('CustomerProfileUpdated', { firstName: 'Ada', locale: 'en-GB' }),
      ev('SubscriptionStarted', { subscriptionId: 's1', productId: 'tv', plan: 'complete', monthlyPrice: 27, currency: 'EUR' }),
      ev('SubscriptionStarted', { subscriptionId: 's2', productId: 'broadband', plan: 'plus', monthlyPrice: 39, currency: 'EUR' }),
      ev('SubscriptionStarted', { subscriptionId: 's3', productId: 'holo-phone', plan: 'x', monthlyPrice: 5, currency: 'EUR' }),
      ev('UsageRecorded', { productId: 'broadband', quantity: 100, unit: 'GB' }),
    );
    const { response } = await servePage({ method: 'GET', path: path('learn', 'learn') }, deps);
    expect(response.status).toBe(200);
    expect(response.body).toContain('<p>Hi Ada,</p>');
    expect(response.body).toContain('<h2>TV</h2>');
    expect(response.body).toContain('You pay €27.00 a month for the complete plan');
    expect(response.body).toContain('<li>Install the TV app on your smart TV, phone or tablet from its app store.</li>');
    expect(response.body).not.toContain('<h2>Broadband</h2>');
    expect(response.body).toContain('<h2>Your holo-phone service</h2>');
  });

  it('escapes everything that came from producers', async () => {
    await seed(
      ev('CustomerProfileUpdated', { firstName: '<img src=x onerror=alert(1)>' }),
      ev('SubscriptionStarted', { subscriptionId: 's1', productId: '<script>p</script>', plan: '"><b>plan', monthlyPrice: 5, currency: 'EUR' }),
    );
    const { response } = await servePage({ method: 'GET', path: path('learn', 'learn') }, deps);
    expect(response.body).toContain('Hi &lt;img src=x onerror=alert(1)&gt;,');
    expect(response.body).toContain('Your &lt;script&gt;p&lt;/script&gt; service');
    expect(response.body).toContain('the &quot;&gt;&lt;b&gt;plan plan');
    expect(response.body).not.toMatch(/<script|<img|<b>/);
  });

  it('someone using everything (or unknown) gets a short page', async () => {
    const { response } = await servePage({ method: 'GET', path: path('learn', 'learn', 'nobody') }, deps);
    expect(response.body).toContain('You are using every service you pay for.');
  });

  it('property: no producer text reaches the page unescaped', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }), async (name, product) => {
        const s = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
        const profile = applyEvent(applyEvent(emptyProfile('c-1'), ev('CustomerProfileUpdated', { firstName: 'x' })), ev('SubscriptionStarted', { subscriptionId: 's1', productId: 'x', plan: 'p', monthlyPrice: 1, currency: 'EUR' }));
        profile.firstName = { value: name, at: '2026-01-01T00:00:00.000Z', by: 'e' };
        profile.subscriptions.s1!.productId = { value: product, at: '2026-01-01T00:00:00.000Z', by: 'e' };
        s.getProfile = async () => profile;
        const { response } = await servePage({ method: 'GET', path: path('learn', 'learn') }, { ...deps, store: s });
        const body = response.body.replace(/<style>[^]*?<\/style>/, '').replace(/<(!doctype|\/?(html|head|body|main|meta|title|h1|h2|p|ol|li|section))\b[^<>]*>/g, '');
        expect(body).not.toMatch(/[<>]/);
      }),
      { numRuns: 200 },
    );
  });
});

describe('/exit/TOKEN exit survey', () => {
  beforeEach(async () => {
    await seed(ev('SubscriptionCancelled', { subscriptionId: 's1', productId: 'tv', reason: 'price', allowWinbackContact: false }));
  });

  it('GET shows the fixed reasons and the contact question', async () => {
    const { response } = await servePage({ method: 'GET', path: path('exit', 'exit') }, deps);
    for (const r of ['price', 'service-quality', 'network', 'billing', 'moved', 'competitor', 'no-longer-needed', 'other']) {
      expect(response.body).toContain(`name="reason" value="${r}"`);
    }
    expect(response.body).toContain('name="mayContactLater" value="yes"');
    expect(response.body).toContain('<textarea id="reasonText" name="reasonText"');
  });

  it('POST stores one ExitSurveyAnswered per link; a second answer of the same link changes nothing', async () => {
    const p = path('exit', 'exit');
    const { response, outcome } = await servePage({ method: 'POST', path: p, ...form({ reason: 'network', reasonText: 'no signal\r\nat home', mayContactLater: 'yes' }) }, deps);
    expect([response.status, outcome.result]).toEqual([200, 'answered']);
    const stored = store.events.filter((e) => e.type === 'ExitSurveyAnswered');
    // The catalog's ExitSurveyAnswered: the taxonomy's code, the customer's words, the winback answer and the question's wording.
    expect(stored.map((e) => e.detail)).toMatchObject([{ customerId: 'c-1', reasonCode: 'network', reason: 'no signal at home', allowWinbackContact: true, wordingVersion: 'exit-survey-v1', source: 'exit-survey' }]);
    expect(stored[0]!.source).toBe(PAGES_EVENT_SOURCE);
    const again = await servePage({ method: 'POST', path: p, ...form({ reason: 'price', mayContactLater: 'no' }) }, deps);
    expect(again.outcome.result).toBe('already-answered');
    expect(store.events.filter((e) => e.type === 'ExitSurveyAnswered')).toHaveLength(1);
  });

  it('an incomplete answer shows the form again with the error and what was chosen, escaped', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ mayContactLater: 'yes' }, /Please choose a reason/],
      [{ reason: 'bribery', mayContactLater: 'yes' }, /Please choose a reason/],
      [{ reason: 'other', reasonText: '  ', mayContactLater: 'no' }, /Please tell us the reason/],
      [{ reason: 'price', reasonText: '<b>x</b>' }, /Please answer whether we may contact you later/],
    ];
    for (const [fields, message] of cases) {
      const { response, outcome } = await servePage({ method: 'POST', path: path('exit', 'exit'), ...form(fields) }, deps);
      expect([response.status, outcome.result]).toEqual([400, 'invalid-form']);
      expect(response.body).toMatch(message);
      expect(response.body).not.toContain('<b>x</b>');
    }
    const { response } = await servePage({ method: 'POST', path: path('exit', 'exit'), ...form({ reason: 'price', reasonText: '<b>x</b>' }) }, deps);
    expect(response.body).toContain('value="price" required checked>');
    expect(response.body).toContain('&lt;b&gt;x&lt;/b&gt;</textarea>');
    expect(store.events.filter((e) => e.type === 'ExitSurveyAnswered')).toHaveLength(0);
  });

  it('"other" with its text is stored with the text', async () => {
    await servePage({ method: 'POST', path: path('exit', 'exit'), ...form({ reason: 'other', reasonText: 'x'.repeat(600), mayContactLater: 'no' }) }, deps);
    const d = store.events.find((e) => e.type === 'ExitSurveyAnswered')!.detail as { reason: string; allowWinbackContact: boolean };
    expect([d.reason.length, d.allowWinbackContact]).toEqual([500, false]);
  });
});

describe('help page content (content/pages/learn.json)', () => {
  it('is valid, and a broken file is refused naming the field', () => {
    expect(Object.keys(learnContent.locales.en!.products).sort()).toEqual(['broadband', 'cloud-backup', 'mobile', 'tv']);
    expect(() => parseLearnContent({ defaultLocale: 'nl', locales: { en: learnContent.locales.en } })).toThrow(/defaultLocale/);
    expect(() => parseLearnContent({ ...learnContent, locales: { en: { ...learnContent.locales.en, other: { name: 'x', intro: 'y', steps: [] } } } })).toThrow(/locales\.en\.other\.steps/);
  });
});

describe('/confirm/TOKEN: the double opt-in confirmation', () => {
  it('GET (and HEAD) shows the button and changes nothing; POST confirms once per link, with source and wording version', async () => {
    const ledger = new InMemoryConsentLedger();
    deps = { ...deps, consent: ledger };
    await seed(ev('CustomerProfileUpdated', { email: 'c1@example.com' }));
    store.events.length = 0;
    const p = path('confirm', 'confirm');
    const shown = await servePage({ method: 'GET', path: p }, deps);
    expect(shown.response.status).toBe(200);
    expect(shown.outcome).toEqual({ page: 'confirm', result: 'shown', customerId: 'c-1' });
    expect(shown.response.body).toContain('<button type="submit">Confirm</button>');
    expect((await servePage({ method: 'HEAD', path: p }, deps)).response.body).toBe('');
    expect(store.events).toEqual([]);
    expect(await ledger.history('c-1')).toEqual([]);

    // a POST without the form's field confirms nothing
    expect((await servePage({ method: 'POST', path: p, ...form({}) }, deps)).outcome.result).toBe('invalid-form');
    const done = await servePage({ method: 'POST', path: p, ...form({ confirm: 'yes' }) }, deps);
    expect(done.response.status).toBe(200);
    expect(done.outcome).toEqual({ page: 'confirm', result: 'confirmed', customerId: 'c-1' });
    expect(store.events.map((e) => [e.type, e.source, e.detail])).toEqual([
      [
        'ConsentChanged',
        PAGES_EVENT_SOURCE,
        expect.objectContaining({ channel: 'email', purpose: 'marketing', granted: true, doubleOptIn: 'confirmed', source: 'double-opt-in', actor: 'customer', wordingVersion: CONFIRM_WORDING_VERSION }),
      ],
    ]);
    expect(hasConsent((await store.getProfile('c-1'))!, 'email', 'marketing')).toBe(true);
    expect((await ledger.history('c-1')).map((r) => [r.purpose, r.action, r.doubleOptIn, r.source, r.wordingVersion])).toEqual([
      ['marketing:email', 'granted', 'confirmed', 'double-opt-in', 'confirm-page-v1'],
    ]);
    // the same link again: nothing more
    expect((await servePage({ method: 'POST', path: p, ...form({ confirm: 'yes' }) }, deps)).outcome.result).toBe('already-confirmed');
    expect(store.events).toHaveLength(1);
  });

  it('an unknown customer: the page thanks, nothing is stored; a forged, foreign or expired token: the error page', async () => {
    const unknown = await servePage({ method: 'POST', path: path('confirm', 'confirm', 'nobody'), ...form({ confirm: 'yes' }) }, deps);
    expect(unknown.outcome.result).toBe('unknown-customer');
    expect(store.events).toEqual([]);
    for (const [p, reason] of [
      [`/confirm/${tokenFor('confirm').slice(0, -2)}AA`, 'bad-signature'],
      [`/confirm/${tokenFor('unsubscribe')}`, 'wrong-purpose'],
      [`/confirm/${tokenFor('confirm', 'c-1', new Date(NOW.getTime() - 31 * 86_400_000))}`, 'expired'],
    ] as const) {
      const { response, outcome } = await servePage({ method: 'POST', path: p, ...form({ confirm: 'yes' }) }, deps);
      expect(response.status).toBe(404);
      expect(outcome).toEqual({ page: 'confirm', result: 'invalid-token', tokenFailure: reason });
    }
    expect(store.events).toEqual([]);
  });
});
