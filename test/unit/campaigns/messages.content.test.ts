/**
 * The rendered emails written out in full (text, HTML, headers, tags), so a lost line, a lost
 * link or a broken escape shows. The unsubscribe token is decoded by hand, not through the code.
 */
import { describe, expect, it } from 'vitest';
import { emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { ChurnTriggerFired } from '../../../shared/events/catalog.ts';
import { renderEmail, unsubscribeToken } from '../../../shared/campaigns/messages.ts';

const links = { unsubscribeBaseUrl: 'https://example.com/unsubscribe', helpBaseUrl: 'https://example.com/help' };
const trigger = (rule: string, action: ChurnTriggerFired['action'] = 'retention-save'): ChurnTriggerFired => ({
  triggerId: `${rule}#c-1#e1`, customerId: 'c-1', rule, kind: 'single', action, reasons: ['x'], churnRiskBoost: 0.2, sourceEventIds: ['e1'], firedAt: '2026-11-01T00:00:00Z', schemaVersion: 1,
});
const named = (firstName: string | undefined): CustomerProfile => ({
  ...emptyProfile('c-1'),
  ...(firstName === undefined ? {} : { firstName: { value: firstName, at: '2026-10-01T00:00:00.000Z', by: 'e0' } }),
});
// base64url of "c-1\nretention-save#billing-complaint#c-1#e1"
const TOKEN = 'Yy0xCnJldGVudGlvbi1zYXZlI2JpbGxpbmctY29tcGxhaW50I2MtMSNlMQ';

describe('email content', () => {
  it('the unsubscribe token is base64url of customer id, newline, send id', () => {
    expect(unsubscribeToken('retention-save#billing-complaint#c-1#e1', 'c-1')).toBe(TOKEN);
    expect(Buffer.from(TOKEN, 'base64url').toString('utf8')).toBe('c-1\nretention-save#billing-complaint#c-1#e1');
  });

  it('retention save after a billing complaint: every line, link, header and tag', () => {
    const m = renderEmail({ campaign: 'retention-save', trigger: trigger('billing-complaint'), profile: named('  Ada '), sendId: 'retention-save#billing-complaint#c-1#e1', links });
    expect(m.subject).toBe('Ada, we want to put this right');
    expect(m.text).toBe(
      [
        'Hi Ada,',
        'You contacted us about your bill recently. We have looked into it, and a member of our team will make sure it is correct.',
        'As a thank-you for sticking with us, your next month comes with a 20% discount — no action needed.',
        'If anything is still not right, your help page below reaches a person, not a queue.',
        '',
        `Your help page: https://example.com/help/${TOKEN}`,
        `Unsubscribe: https://example.com/unsubscribe?token=${TOKEN}`,
      ].join('\n'),
    );
    expect(m.html).toBe(
      [
        '<!doctype html><html><body style="font-family:sans-serif">',
        '<p>Hi Ada,</p>',
        '<p>You contacted us about your bill recently. We have looked into it, and a member of our team will make sure it is correct.</p>',
        '<p>As a thank-you for sticking with us, your next month comes with a 20% discount — no action needed.</p>',
        '<p>If anything is still not right, your help page below reaches a person, not a queue.</p>',
        `<p><a href="https://example.com/help/${TOKEN}">Your personal help page</a></p>`,
        `<p style="font-size:small"><a href="https://example.com/unsubscribe?token=${TOKEN}">Unsubscribe from these emails</a></p>`,
        '</body></html>',
      ].join('\n'),
    );
    expect(m.tags).toEqual([
      { name: 'campaign', value: 'retention-save' },
      { name: 'rule', value: 'billing-complaint' },
      // base64url of the customer id and the send id: SES feedback finds the customer by them (docs/email-feedback.md)
      { name: 'clm-customer', value: 'Yy0x' },
      { name: 'clm-send', value: 'cmV0ZW50aW9uLXNhdmUjYmlsbGluZy1jb21wbGFpbnQjYy0xI2Ux' },
    ]);
  });

  it('retention save after another rule says sorry instead', () => {
    const m = renderEmail({ campaign: 'retention-save', trigger: trigger('poor-resolution'), profile: named('Bo'), sendId: 's', links });
    expect(m.text.split('\n')[1]).toBe('We noticed things have not been going as they should for you lately, and we are sorry.');
    expect(m.text).not.toContain('bill');
  });

  it('winback counter-offer: every line', () => {
    const m = renderEmail({ campaign: 'winback-counter-offer', trigger: trigger('cancelled-with-winback-permission', 'winback'), profile: named(undefined), sendId: 's', links });
    expect(m.subject).toBe('there, come back for three months at half price');
    expect(m.text.split('\n').slice(0, 3)).toEqual([
      'Hi there,',
      'When you left, you said we could get in touch. We have listened to why customers leave and made changes.',
      'If you would like to give us another try, your first three months are at half price.',
    ]);
    expect(m.text.split('\n')[3]).toBe('');
  });

  it('a blank first name falls back to "there"', () => {
    expect(renderEmail({ campaign: 'retention-save', trigger: trigger('downgrade'), profile: named('   '), sendId: 's', links }).subject).toBe('there, we want to put this right');
  });

  it('escapes every HTML special character of a name, and the tag keeps only safe characters', () => {
    const m = renderEmail({ campaign: 'retention-save', trigger: trigger('odd rule/é"x'), profile: named(`<i>&"O'Neil"</i>`), sendId: 's', links });
    expect(m.html).toContain('<p>Hi &lt;i&gt;&amp;&quot;O&#39;Neil&quot;&lt;/i&gt;,</p>');
    expect(m.tags[1]).toEqual({ name: 'rule', value: 'odd_rule___x' });
  });
});
