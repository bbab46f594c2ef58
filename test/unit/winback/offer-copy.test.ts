/**
 * A winback step's email: the offer the sequence chose by the leaving reason travels in the
 * trigger; the campaigns function turns it into the `winback-sequence` campaign's request, and
 * the catalog (templates/campaigns.json) holds each offer's words. Expected words written by hand.
 */
import { describe, expect, it } from 'vitest';
import { composeEmail, unsignedLinks } from '../../../shared/campaigns/messages.ts';
import { defaultCatalog } from '../../../shared/campaigns/catalog.ts';
import { requestFromTrigger } from '../../../shared/campaigns/requests.ts';
import { loadTemplateSet } from '../../../shared/campaigns/template-files.ts';
import { TemplateRenderer } from '../../../shared/campaigns/templates.ts';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { offerByReason } from '../../../shared/winback/sequence.ts';
import { offerOf, winbackOfferOf } from '../../../shared/winback/offer-copy.ts';
import { businessEvent, churnTrigger } from '../../support/events.ts';

const step = (offer: string) => ({ reasons: [`winback step 2: offer ${offer}`, 'left: price'] });
const renderer = new TemplateRenderer(loadTemplateSet());
const links = unsignedLinks({ unsubscribeBaseUrl: 'https://e/u', helpBaseUrl: 'https://e/h' });

describe('the words of a winback counter-offer', () => {
  it('reads the offer from the trigger, and names the catalog\'s offer without the step', () => {
    expect(offerOf(step('price-discount-premium-2'))).toBe('price-discount-premium-2');
    expect(winbackOfferOf(step('price-discount-premium-2'))).toBe('winback-price-discount-premium');
    expect(winbackOfferOf(step('network-fix-news-3'))).toBe('winback-network-fix-news');
    expect(offerOf({ reasons: ['cancelled: price'] })).toBeUndefined();
  });

  it('every reason\'s offer, and its premium variant, is an offer of the winback-sequence campaign with words of its own', () => {
    const ids = [...new Set(Object.values(offerByReason))].flatMap((o) => [`winback-${o}`, `winback-${o}-premium`]);
    for (const id of ids) expect(defaultCatalog.offers[id]?.campaigns, id).toEqual(['winback-sequence']);
    expect(new Set(ids.map((id) => defaultCatalog.offers[id]!.copy.en!.body)).size).toBe(ids.length);
  });

  it('a step becomes the winback-sequence email with its reason\'s offer and the unsubscribe headers', () => {
    const trigger = churnTrigger('c-1', 'e', { rule: 'winback-sequence', action: 'winback', reasons: step('network-fix-news-2').reasons });
    const request = requestFromTrigger(trigger)!;
    expect(request).toMatchObject({ campaign: 'winback-sequence', offerId: 'winback-network-fix-news' });
    const profile = [
      businessEvent('CustomerProfileUpdated', { customerId: 'c-1', firstName: 'Bo', email: 'bo@example.com' }),
      businessEvent('ConsentChanged', { customerId: 'c-1', granted: true }),
    ].reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));
    const r = composeEmail({ request, profile, sendId: 's-1', catalog: defaultCatalog, renderer, links });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.offerId).toBe('winback-network-fix-news');
    expect(r.message.subject).toBe('Bo, may we welcome you back?');
    expect(r.message.text).toContain('We have upgraded the network where you live. Come back and try it free for a month.');
    expect(r.message.headers.map((h) => h.name)).toEqual(['List-Unsubscribe', 'List-Unsubscribe-Post']);
  });

  it('an unknown offer falls back to the campaign\'s first offer, the welcome back', () => {
    const request = requestFromTrigger(churnTrigger('c-1', 'e', { rule: 'winback-sequence', action: 'winback', reasons: ['winback step 1'] }))!;
    expect(request.offerId).toBeUndefined();
    const profile = [businessEvent('CustomerProfileUpdated', { customerId: 'c-1', firstName: 'Bo', email: 'bo@example.com' }), businessEvent('ConsentChanged', { customerId: 'c-1', granted: true })].reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));
    const r = composeEmail({ request, profile, sendId: 's-2', catalog: defaultCatalog, renderer, links });
    expect(r.ok && r.offerId).toBe('winback-welcome-back');
  });
});
