/**
 * Issue 11's "a forged or expired survey link": the exit survey behind a link that is forged
 * (a changed signature, another customer's id under the same signature, a key the stack does not
 * hold), meant for another page, or expired (60 days) gets the same error page for GET and POST,
 * and a POSTed answer stores nothing: no ExitSurveyAnswered, no winback permission in the consent ledger.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { InMemoryConsentLedger, InMemoryCustomerStore } from '../../../shared/pipeline/in-memory-ports.ts';
import { learnContent } from '../../../shared/pages/learn-content.ts';
import { servePage, type PageDeps } from '../../../shared/pages/serve-page.ts';
import { signToken, tokenLifetimeDays, type KeyRing } from '../../../shared/pages/tokens.ts';
import { businessEvent } from '../../support/events.ts';

const ring: KeyRing = { current: { id: 'k1', secret: new Uint8Array(randomBytes(32)) }, previous: [] };
const NOW = new Date('2026-12-01T12:00:00Z');
const DAY = 86_400_000;
const answer = { contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams({ reason: 'price', mayContactLater: 'yes' }).toString() };
let store: InMemoryCustomerStore;
let consent: InMemoryConsentLedger;
let deps: PageDeps;

beforeEach(async () => {
  store = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
  consent = new InMemoryConsentLedger();
  deps = { keys: { keyRing: async () => ring }, store, now: () => NOW, content: learnContent, consent };
  await store.recordEvent(businessEvent('SubscriptionCancelled', { customerId: 'c-1', subscriptionId: 's1', productId: 'tv', occurredAt: '2026-11-30T00:00:00Z', allowWinbackContact: false }), NOW);
});

describe('a forged or expired exit-survey link', () => {
  const exit = (customerId: string, now: Date) => signToken(ring, { purpose: 'exit', customerId, now });

  it('a link of its lifetime works (the control case)', async () => {
    const stillValid = exit('c-1', new Date(NOW.getTime() - (tokenLifetimeDays.exit * DAY - 60_000)));
    expect((await servePage({ method: 'POST', path: `/exit/${stillValid}`, ...answer }, deps)).outcome.result).toBe('answered');
    expect((await consent.history('c-1')).map((r) => [r.purpose, r.action, r.source])).toEqual([['winback', 'granted', 'exit-survey']]);
  });

  it('gets the same error page for GET and POST, and a POSTed answer records nothing', async () => {
    const good = exit('c-1', NOW);
    // version.key.claims.mac: another customer's claims under this link's MAC
    const other = exit('c-2', NOW).split('.');
    const swapped = [...other.slice(0, 3), good.split('.')[3]].join('.');
    const cases: [string, string][] = [
      [`${good.slice(0, -2)}${good.endsWith('AA') ? 'BA' : 'AA'}`, 'bad-signature'],
      [exit('c-1', new Date(NOW.getTime() - (tokenLifetimeDays.exit * DAY + 60_000))), 'expired'],
      [signToken(ring, { purpose: 'learn', customerId: 'c-1', now: NOW }), 'wrong-purpose'],
      [signToken({ current: { id: 'forged', secret: new Uint8Array(32) }, previous: [] }, { purpose: 'exit', customerId: 'c-1', now: NOW }), 'unknown-key'],
      [swapped, 'bad-signature'],
      ['not-a-token', 'malformed'],
    ];
    const bodies = new Set<string>();
    for (const [token, reason] of cases) {
      for (const request of [{ method: 'GET' as const, path: `/exit/${token}` }, { method: 'POST' as const, path: `/exit/${token}`, ...answer }]) {
        const { response, outcome } = await servePage(request, deps);
        expect([response.status, outcome], `${reason} ${request.method}`).toEqual([404, { page: 'exit', result: 'invalid-token', tokenFailure: reason }]);
        expect(response.body).not.toContain('c-1');
        bodies.add(response.body);
      }
    }
    expect(bodies.size).toBe(1);
    expect(await consent.history('c-1')).toEqual([]);
    // the profile's winback state is still the cancellation's "no", not a grant
    expect((await store.getProfile('c-1'))?.consentState.winback).toMatchObject({ action: 'withdrawn', eventType: 'SubscriptionCancelled' });
  });
});
