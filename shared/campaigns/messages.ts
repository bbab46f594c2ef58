/**
 * Email content for each campaign, with the one-click unsubscribe headers
 * (RFC 8058) that mailbox providers require of bulk senders. Pure: the links
 * are built from base URLs the caller supplies.
 *
 * Producer text (the first name) is untrusted: it is made one line (control
 * characters become spaces) before it goes anywhere, so no header (subject,
 * custom headers) can carry CR, LF or another control character, and it is
 * HTML-escaped in the HTML body. The catalog already refuses control
 * characters; this holds for profiles stored before it did.
 */
import type { ChurnTriggerFired } from '../events/catalog.ts';
import type { CustomerProfile } from '../customers/profile.ts';
import { singleLine } from '../text/control-chars.ts';
import type { CampaignName } from './guardrails.ts';
import { offerCopy } from '../winback/offer-copy.ts';

export type EmailMessage = {
  subject: string;
  html: string;
  text: string;
  headers: { name: string; value: string }[];
  tags: { name: string; value: string }[];
};

export type LinkSettings = {
  /** e.g. https://example.com/unsubscribe — gets `?token=` appended. */
  unsubscribeBaseUrl: string;
  /** e.g. https://example.com/help — the customer's personal help page is below it. */
  helpBaseUrl: string;
};

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** An opaque, URL-safe token naming the send (base64url of customer id and send id; not signed: the unsubscribe endpoint that will resolve it through the ledger is not built yet). */
export const unsubscribeToken = (sendId: string, customerId: string): string =>
  Buffer.from(`${customerId}\n${sendId}`, 'utf8').toString('base64url');

const copy: Record<CampaignName, (name: string, trigger: ChurnTriggerFired) => { subject: string; lines: string[] }> = {
  'retention-save': (name, trigger) => ({
    subject: `${name}, we want to put this right`,
    lines: [
      `Hi ${name},`,
      trigger.rule === 'billing-complaint'
        ? 'You contacted us about your bill recently. We have looked into it, and a member of our team will make sure it is correct.'
        : 'We noticed things have not been going as they should for you lately, and we are sorry.',
      'As a thank-you for sticking with us, your next month comes with a 20% discount — no action needed.',
      'If anything is still not right, your help page below reaches a person, not a queue.',
    ],
  }),
  'winback-counter-offer': (name) => ({
    subject: `${name}, come back for three months at half price`,
    lines: [
      `Hi ${name},`,
      'When you left, you said we could get in touch. We have listened to why customers leave and made changes.',
      'If you would like to give us another try, your first three months are at half price.',
    ],
  }),
  // The winback sequence's counter-offers: the offer chosen by leaving reason and value (shared/winback/).
  'winback-sequence': (name, trigger) => offerCopy(name, trigger),
};

export function renderEmail(input: {
  campaign: CampaignName;
  trigger: ChurnTriggerFired;
  profile: CustomerProfile;
  sendId: string;
  links: LinkSettings;
}): EmailMessage {
  const { campaign, trigger, profile, sendId, links } = input;
  const name = singleLine(profile.firstName?.value ?? '') || 'there';
  const { subject, lines } = copy[campaign](name, trigger);
  const token = unsubscribeToken(sendId, profile.customerId);
  const unsubscribeUrl = `${links.unsubscribeBaseUrl}?token=${token}`;
  const helpUrl = `${links.helpBaseUrl}/${encodeURIComponent(token)}`;
  const text = [...lines, '', `Your help page: ${helpUrl}`, `Unsubscribe: ${unsubscribeUrl}`].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    ...lines.map((l) => `<p>${escapeHtml(l)}</p>`),
    `<p><a href="${escapeHtml(helpUrl)}">Your personal help page</a></p>`,
    `<p style="font-size:small"><a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe from these emails</a></p>`,
    '</body></html>',
  ].join('\n');
  return {
    subject: singleLine(subject),
    html,
    text,
    headers: [
      { name: 'List-Unsubscribe', value: singleLine(`<${unsubscribeUrl}>`) },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ],
    tags: [
      { name: 'campaign', value: campaign },
      { name: 'rule', value: trigger.rule.replace(/[^A-Za-z0-9_-]/g, '_') },
    ],
  };
}
