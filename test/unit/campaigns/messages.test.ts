import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { composeEmail, unsignedLinks, unsubscribeToken, type EmailMessage } from '../../../shared/campaigns/messages.ts';
import { campaignNames, defaultCatalog, type CampaignName } from '../../../shared/campaigns/catalog.ts';
import { loadTemplateSet } from '../../../shared/campaigns/template-files.ts';
import { TemplateRenderer } from '../../../shared/campaigns/templates.ts';
import type { CampaignRequest } from '../../../shared/campaigns/requests.ts';
import type { CustomerProfile } from '../../../shared/customers/profile.ts';
import { businessEvent } from '../../support/events.ts';

const renderer = new TemplateRenderer(loadTemplateSet());
const links = unsignedLinks({ unsubscribeBaseUrl: 'https://example.com/u', helpBaseUrl: 'https://example.com/learn' });
const request = (campaign: CampaignName, customerId = 'c-1'): CampaignRequest => ({
  requestId: 'r1',
  customerId,
  campaign,
  source: 'trigger',
  rule: 'billing-complaint',
  ...(['statement', 'invoice', 'collection-notice'].includes(campaign) ? { document: { kind: 'statement' as const, number: 'S-1', amount: 10, currency: 'EUR' } } : {}),
});
const compose = (campaign: CampaignName, profile: CustomerProfile, sendId = 's1'): EmailMessage => {
  const out = composeEmail({ request: request(campaign, profile.customerId), profile, sendId, catalog: defaultCatalog, renderer, links });
  if (!out.ok) throw new Error(out.error);
  return out.message;
};

describe('composeEmail', () => {
  it('carries one-click unsubscribe headers (RFC 8058) on a marketing email', () => {
    const profile = applyEvent(emptyProfile('c-1'), businessEvent('CustomerProfileUpdated', { firstName: 'Ada' }));
    const m = compose('retention-save', profile);
    const token = unsubscribeToken('s1', 'c-1');
    expect(m.headers).toEqual([
      { name: 'List-Unsubscribe', value: `<https://example.com/u/${token}>` },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]);
    expect(m.subject).toMatch(/^Ada, /);
    expect(m.text).toMatch(/about your bill/);
    expect(m.tags).toContainEqual({ name: 'campaign', value: 'retention-save' });
  });

  it('escapes names in HTML and falls back when there is none', () => {
    const evil = applyEvent(emptyProfile('c-1'), businessEvent('CustomerProfileUpdated', { firstName: '<b>Eve</b>' }));
    expect(compose('retention-save', evil).html).toContain('&lt;b&gt;Eve&lt;/b&gt;');
    expect(compose('winback-counter-offer', emptyProfile('c-2')).subject).toMatch(/^there, /);
  });

  /** A profile whose stored first name is `firstName` as is: one stored before the catalog refused control characters. */
  const storedWithName = (firstName: string, customerId = 'c-1'): CustomerProfile => {
    const event = businessEvent('CustomerProfileUpdated', { firstName: 'placeholder' });
    Object.assign(event.detail, { customerId, firstName });
    return applyEvent(emptyProfile(customerId), event);
  };
  // Any C0/C1 control, DEL, or U+2028/U+2029.
  const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

  it('neutralises a header injection in a stored name: the subject stays one line, the text body gets no extra line', () => {
    const m = compose('retention-save', storedWithName('Eve\r\nBcc: someone@example.com'));
    expect(m.subject).toBe('Eve Bcc: someone@example.com, we want to put this right');
    expect(m.text.split('\n')[0]).toBe('Hi Eve Bcc: someone@example.com,');
    expect(m.html).toContain('<p>Hi Eve Bcc: someone@example.com,</p>');
    expect(compose('retention-save', storedWithName('\r\n\t')).subject).toMatch(/^there, /);
  });

  it('property: for any stored name, customer id and campaign, no header carries a control character and the HTML carries no markup from them', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 120 }),
      fc.string({ unit: fc.constantFrom('\r', '\n', '\t', '\u0000', '\u0085', '\u2028', '\u2029', '\u007f', 'a', ' ', ':', '<', '>', '&', '"', "'"), maxLength: 40 }),
    );
    const templateTags = new Set<string>();
    for (const c of campaignNames) for (const tag of compose(c, storedWithName('Ada')).html.match(/<\/?[a-z!][^>]*>/gi)!) templateTags.add(tag);
    fc.assert(
      fc.property(text, fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom(...campaignNames), (name, customerId, campaign) => {
        const m = compose(campaign, storedWithName(name, customerId), `s#${customerId}`);
        expect(m.subject).not.toMatch(CONTROL);
        for (const h of m.headers) expect(`${h.name}${h.value}`).not.toMatch(CONTROL);
        for (const t of m.tags) expect(`${t.name}${t.value}`).toMatch(/^[A-Za-z0-9_-]+$/);
        // Producer text never opens a tag in the HTML: the only tags are the templates' own (links differ by token).
        for (const tag of m.html.match(/<\/?[a-z!][^>]*>/gi)!) expect(tag.startsWith('<a href=') || templateTags.has(tag)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
