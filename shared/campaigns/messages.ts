/**
 * One customer's email of a campaign: the template (templates/, rendered by
 * ./templates.ts) filled with the customer's data, the offer the catalog picks for
 * the campaign and customer type, the reinforcing blocks (seed 003: an education
 * block for services paid for and not used), the personal links, and the one-click
 * unsubscribe headers (RFC 8058) on every email that carries marketing.
 *
 * A transactional email (statement, invoice, notice) carries its offer block only
 * when the customer has marketing consent; without it the block is dropped and the
 * email has no marketing content (and no List-Unsubscribe). Pure: links come from
 * the `PersonalLinks` the caller supplies (signed tokens in production).
 */
import { hasConsent, unusedPaidProducts, type CustomerProfile } from '../customers/profile.ts';
import { singleLine } from '../text/control-chars.ts';
import { chooseOffer, type CampaignCatalog, type CampaignName, type CustomerType } from './catalog.ts';
import type { CampaignRequest } from './requests.ts';
import { signedPageUrl, type KeyRing } from '../pages/tokens.ts';
import { localeCandidates, type TemplateData, type TemplateRenderer } from './templates.ts';
// SES feedback (docs/email-feedback.md): tags naming the customer and the send, so bounces, complaints, opens and clicks reach the customer's record.
import { feedbackTags } from '../email-feedback/ses-events.ts';

export type EmailMessage = {
  subject: string;
  html: string;
  text: string;
  headers: { name: string; value: string }[];
  tags: { name: string; value: string }[];
};

export type LinkSettings = {
  /** e.g. https://example.com/u — the customer's unsubscribe page is `<base>/<token>`. */
  unsubscribeBaseUrl: string;
  /** e.g. https://example.com/learn — the customer's personal help page is `<base>/<token>`; the base itself is the general help. */
  helpBaseUrl: string;
};

/** What a personal link is for. */
export type LinkPurpose = 'unsubscribe' | 'learn' | 'preferences' | 'confirm';

/** Builds the customer's personal links of one email. */
export type PersonalLinks = {
  help: string;
  link(purpose: LinkPurpose, customerId: string, sendId: string): string;
};

/**
 * An opaque, URL-safe token naming the send (base64url of customer id and send id). Not
 * signed: the default until the pages' signer (HMAC) is wired in through `PersonalLinks`.
 */
export const unsubscribeToken = (sendId: string, customerId: string): string =>
  Buffer.from(`${customerId}\n${sendId}`, 'utf8').toString('base64url');

/** Links from base URLs with the unsigned token (tests, and until signed tokens are configured). */
export function unsignedLinks(settings: LinkSettings): PersonalLinks {
  return {
    help: settings.helpBaseUrl,
    link: (purpose, customerId, sendId) => {
      const token = unsubscribeToken(sendId, customerId);
      return purpose === 'learn' ? `${settings.helpBaseUrl}/${token}` : `${settings.unsubscribeBaseUrl}/${token}${purpose === 'unsubscribe' ? '' : `?${purpose}`}`;
    },
  };
}

/**
 * Links signed for the public pages (shared/pages/tokens.ts, HMAC with the page keys): the
 * one-click unsubscribe page `/u/TOKEN` (also the preferences link: it shows the customer's
 * email permission with its button), the personal help page `/learn/TOKEN` and the welcome's
 * double opt-in confirmation `/confirm/TOKEN`. One token per customer and purpose, memoised for the batch.
 */
export function signedLinks(keys: KeyRing, pagesBaseUrl: string, helpUrl: string, now: Date): PersonalLinks {
  const cache = new Map<string, string>();
  const signed = (purpose: 'unsubscribe' | 'learn' | 'confirm', customerId: string) => {
    const key = `${purpose}\n${customerId}`;
    let url = cache.get(key);
    if (!url) cache.set(key, (url = signedPageUrl(keys, pagesBaseUrl, { purpose, customerId, now })));
    return url;
  };
  return {
    help: helpUrl,
    link: (purpose, customerId, sendId) => {
      if (purpose === 'learn') return signed('learn', customerId);
      if (purpose === 'confirm') return signed('confirm', customerId);
      return signed('unsubscribe', customerId);
    },
  };
}

/** Tag values SES accepts: letters, digits, `_` and `-`. */
const tagValue = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_';

/** Money as the templates show it: two decimals. */
const money = (n: number): string => n.toFixed(2);

export function customerTypeOf(profile: CustomerProfile): CustomerType {
  return profile.customerType?.value ?? (Object.keys(profile.subscriptions).length > 0 ? 'subscription' : 'adhoc');
}

/** The offer's copy in the first of the customer's locales it has (the catalog guarantees the default's). */
const offerCopyFor = <T>(copy: Record<string, T>, locales: string[]): T => copy[locales.find((l) => copy[l] !== undefined)!]!;

export type ComposeResult = { ok: true; message: EmailMessage; locale: string; offerId?: string } | { ok: false; error: string };

export function composeEmail(input: {
  request: CampaignRequest;
  profile: CustomerProfile;
  sendId: string;
  catalog: CampaignCatalog;
  renderer: TemplateRenderer;
  links: PersonalLinks;
}): ComposeResult {
  const { request, profile, sendId, catalog, links } = input;
  const campaign: CampaignName = request.campaign;
  const purpose = catalog.campaigns[campaign].purpose;
  const marketingConsent = hasConsent(profile, 'email', 'marketing');
  // Marketing content only where it may go: a marketing email (consent checked by the guardrails),
  // or a transactional one whose customer allows marketing. The welcome asks for permission: no offer.
  const mayMarket = purpose === 'marketing' || (purpose === 'transactional' && marketingConsent);
  const customerType = customerTypeOf(profile);
  const chosen = mayMarket ? chooseOffer(catalog, { campaign, customerType, nextBestAction: request.nextBestAction, ...(request.offerId && { offerId: request.offerId }) }) : undefined;
  const copy = chosen ? offerCopyFor(chosen.offer.copy, localeCandidates(profile.locale?.value, catalog.defaultLocale)) : undefined;
  const unused = unusedPaidProducts(profile);
  const learn = links.link('learn', profile.customerId, sendId);
  const education = (campaign === 'education' || mayMarket) && unused.length > 0 ? { url: learn, products: unused } : null;
  const carriesMarketing = purpose !== 'transactional' || chosen !== undefined || education !== null;
  const unsubscribe = carriesMarketing ? links.link('unsubscribe', profile.customerId, sendId) : null;

  const data: TemplateData = {
    firstName: singleLine(profile.firstName?.value ?? '') || 'there',
    rule: request.rule,
    offer: copy ? { headline: copy.headline, body: copy.body } : null,
    education,
    document: request.document ? { kind: request.document.kind, number: request.document.number, amount: money(request.document.amount), currency: request.document.currency } : null,
    links: {
      help: links.help,
      preferences: links.link('preferences', profile.customerId, sendId),
      unsubscribe,
      confirm: campaign === 'welcome' ? links.link('confirm', profile.customerId, sendId) : null,
      learn,
    },
  };
  const rendered = input.renderer.render(campaign, profile.locale?.value, data);
  if (!rendered.ok) return { ok: false, error: rendered.error };
  const headers = unsubscribe
    ? [
        { name: 'List-Unsubscribe', value: singleLine(`<${unsubscribe}>`) },
        { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
      ]
    : [];
  return {
    ok: true,
    locale: rendered.parts.locale,
    ...(chosen ? { offerId: chosen.id } : {}),
    message: {
      subject: rendered.parts.subject,
      html: rendered.parts.html,
      text: rendered.parts.text,
      headers,
      tags: [
        { name: 'campaign', value: campaign },
        { name: 'rule', value: tagValue(request.rule || request.source) },
        ...(chosen ? [{ name: 'offer', value: tagValue(chosen.id) }] : []),
        { name: 'customer_type', value: customerType },
        ...feedbackTags(profile.customerId, sendId),
      ],
    },
  };
}
