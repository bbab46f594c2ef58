/**
 * Composed emails written out (text, headers, tags), so a lost line, a lost link, a wrong
 * offer or a marketing block in the wrong place shows. Tokens are decoded by hand.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import { composeEmail, unsignedLinks, unsubscribeToken } from '../../../shared/campaigns/messages.ts';
import { defaultCatalog } from '../../../shared/campaigns/catalog.ts';
import { loadTemplateSet } from '../../../shared/campaigns/template-files.ts';
import { TemplateRenderer } from '../../../shared/campaigns/templates.ts';
import type { CampaignRequest } from '../../../shared/campaigns/requests.ts';
import { businessEvent } from '../../support/events.ts';

const renderer = new TemplateRenderer(loadTemplateSet());
const links = unsignedLinks({ unsubscribeBaseUrl: 'https://example.com/u', helpBaseUrl: 'https://example.com/learn' });
const SEND = 'retention-save#billing-complaint#c-1#e1';
// base64url of "c-1\nretention-save#billing-complaint#c-1#e1"
const TOKEN = 'Yy0xCnJldGVudGlvbi1zYXZlI2JpbGxpbmctY29tcGxhaW50I2MtMSNlMQ';

const customer = (fields: { consent?: boolean; locale?: string; subscriber?: boolean; unused?: boolean } = {}): CustomerProfile => {
  const events = [businessEvent('CustomerProfileUpdated', { firstName: '  Ada ', locale: fields.locale, customerType: fields.subscriber ? 'subscription' : 'adhoc' })];
  if (fields.consent !== undefined) events.push(businessEvent('ConsentChanged', { granted: fields.consent }));
  if (fields.subscriber) events.push(businessEvent('SubscriptionStarted', { subscriptionId: 'sub-1', productId: 'tv', plan: 'basic', monthlyPrice: 10, currency: 'EUR' }));
  if (fields.subscriber && !fields.unused) events.push(businessEvent('UsageRecorded', { productId: 'tv', quantity: 3, unit: 'h' }));
  return events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));
};
const statement = (extra: Partial<CampaignRequest> = {}): CampaignRequest => ({
  requestId: 'e9', customerId: 'c-1', campaign: 'statement', source: 'event', rule: '', document: { kind: 'statement', number: 'ST-2026-11', amount: 42.5, currency: 'EUR' }, ...extra,
});
const compose = (request: CampaignRequest, profile: CustomerProfile, sendId = SEND) => {
  const out = composeEmail({ request, profile, sendId, catalog: defaultCatalog, renderer, links });
  if (!out.ok) throw new Error(out.error);
  return out;
};

describe('email content', () => {
  it('the token is base64url of customer id, newline, send id', () => {
    expect(unsubscribeToken(SEND, 'c-1')).toBe(TOKEN);
    expect(Buffer.from(TOKEN, 'base64url').toString('utf8')).toBe(`c-1\n${SEND}`);
  });

  it('retention save of a subscriber after a billing complaint: every line, link, header and tag', () => {
    const out = compose({ requestId: 'billing-complaint#c-1#e1', customerId: 'c-1', campaign: 'retention-save', source: 'trigger', rule: 'billing-complaint' }, customer({ consent: true, subscriber: true }));
    expect(out.offerId).toBe('save-20');
    expect(out.message.subject).toBe('Ada, we want to put this right');
    expect(out.message.text).toBe(
      [
        'Hi Ada,',
        '',
        'You contacted us about your bill recently. We have looked into it, and a member of our team will make sure it is correct.',
        '',
        'If anything is still not right, our help page reaches a person, not a queue.',
        '',
        '** 20% off your next month **',
        'As a thank-you for sticking with us, your next month comes with a 20% discount. No action needed.',
        '',
        '--',
        'Help: https://example.com/learn',
        `Your email preferences: https://example.com/u/${TOKEN}?preferences`,
        `Unsubscribe from marketing emails: https://example.com/u/${TOKEN}`,
        '',
      ].join('\n'),
    );
    expect(out.message.headers).toEqual([
      { name: 'List-Unsubscribe', value: `<https://example.com/u/${TOKEN}>` },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]);
    expect(out.message.tags).toEqual([
      { name: 'campaign', value: 'retention-save' },
      { name: 'rule', value: 'billing-complaint' },
      { name: 'offer', value: 'save-20' },
      { name: 'customer_type', value: 'subscription' },
      // base64url of the customer id and the send id: SES feedback finds the customer by them (docs/email-feedback.md)
      { name: 'clm-customer', value: 'Yy0x' },
      { name: 'clm-send', value: 'cmV0ZW50aW9uLXNhdmUjYmlsbGluZy1jb21wbGFpbnQjYy0xI2Ux' },
    ]);
  });

  it('a statement with marketing consent carries the offer of the next best action, and the education block', () => {
    const out = compose(statement({ nextBestAction: 'down-sell' }), customer({ consent: true, subscriber: true, unused: true }));
    expect(out.offerId).toBe('right-size-plan');
    expect(out.message.subject).toBe('Your statement ST-2026-11');
    expect(out.message.text).toContain('Your statement ST-2026-11 is ready: 42.50 EUR.');
    expect(out.message.text).toContain('** A plan that fits what you use **');
    expect(out.message.text).toContain(`You pay for tv and have not used it yet. Your personal page shows how to get started, step by step: https://example.com/learn/${TOKEN}`);
    expect(out.message.headers.map((h) => h.name)).toEqual(['List-Unsubscribe', 'List-Unsubscribe-Post']);
  });

  it('a statement without marketing consent drops the offer block and every marketing part', () => {
    const out = compose(statement({ nextBestAction: 'down-sell' }), customer({ consent: false, subscriber: true, unused: true }));
    expect(out.offerId).toBeUndefined();
    expect(out.message.text).toContain('Your statement ST-2026-11 is ready: 42.50 EUR.');
    expect(out.message.text).not.toContain('**');
    expect(out.message.text).not.toContain('You pay for');
    expect(out.message.text).not.toContain('Unsubscribe');
    expect(out.message.html).not.toContain('<table');
    expect(out.message.headers).toEqual([]);
  });

  it('in German for a German customer, offer copy included', () => {
    const out = compose(statement(), customer({ consent: true, subscriber: true, locale: 'de-DE' }));
    expect(out.locale).toBe('de');
    expect(out.message.subject).toBe('Ihre Abrechnung ST-2026-11');
    expect(out.message.text).toContain('** Mehr für wenig mehr **');
  });

  it('the welcome asks to confirm, with no offer', () => {
    const out = compose({ requestId: 'first-purchase#c-1', customerId: 'c-1', campaign: 'welcome', source: 'event', rule: '' }, customer(), 'welcome#first-purchase#c-1');
    expect(out.offerId).toBeUndefined();
    const token = unsubscribeToken('welcome#first-purchase#c-1', 'c-1');
    expect(out.message.text).toContain(`Yes, keep me posted: https://example.com/u/${token}?confirm`);
    expect(out.message.tags).toContainEqual({ name: 'rule', value: 'event' });
  });

  it('a blank first name falls back to "there", and the rule tag keeps only safe characters', () => {
    const p = { ...customer({ consent: true }), firstName: { value: '   ', at: '2026-10-01T00:00:00.000Z', by: 'e0' } };
    const out = compose({ requestId: 'x', customerId: 'c-1', campaign: 'retention-save', source: 'trigger', rule: 'odd rule/é"x' }, p);
    expect(out.message.subject).toBe('there, we want to put this right');
    expect(out.message.tags[1]).toEqual({ name: 'rule', value: 'odd_rule___x' });
  });
});
