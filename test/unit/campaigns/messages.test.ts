import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { renderEmail, unsubscribeToken } from '../../../shared/campaigns/messages.ts';
import type { CustomerProfile } from '../../../shared/customers/profile.ts';
import { businessEvent } from '../../support/events.ts';

const trigger = {
  triggerId: 't1', customerId: 'c-1', rule: 'billing-complaint', kind: 'single' as const, action: 'retention-save' as const,
  reasons: ['x'], churnRiskBoost: 0.2, sourceEventIds: ['e1'], firedAt: '2026-11-01T00:00:00Z', schemaVersion: 1 as const,
};
const links = { unsubscribeBaseUrl: 'https://example.com/unsubscribe', helpBaseUrl: 'https://example.com/help' };

describe('renderEmail', () => {
  it('carries one-click unsubscribe headers (RFC 8058) and a personal help link', () => {
    const profile = applyEvent(emptyProfile('c-1'), businessEvent('CustomerProfileUpdated', { firstName: 'Ada' }));
    const m = renderEmail({ campaign: 'retention-save', trigger, profile, sendId: 's1', links });
    const token = unsubscribeToken('s1', 'c-1');
    expect(m.headers).toEqual([
      { name: 'List-Unsubscribe', value: `<https://example.com/unsubscribe?token=${token}>` },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]);
    expect(m.subject).toMatch(/^Ada, /);
    expect(m.text).toMatch(/about your bill/);
    expect(m.html).toContain(`https://example.com/help/${token}`);
    expect(m.tags).toContainEqual({ name: 'campaign', value: 'retention-save' });
  });

  it('escapes names in HTML and falls back when there is none', () => {
    const evil = applyEvent(emptyProfile('c-1'), businessEvent('CustomerProfileUpdated', { firstName: '<b>Eve</b>' }));
    expect(renderEmail({ campaign: 'retention-save', trigger, profile: evil, sendId: 's', links }).html).toContain('&lt;b&gt;Eve&lt;/b&gt;');
    const anon = emptyProfile('c-2');
    expect(renderEmail({ campaign: 'winback-counter-offer', trigger, profile: anon, sendId: 's', links }).subject).toMatch(/^there, /);
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
    const m = renderEmail({ campaign: 'retention-save', trigger, profile: storedWithName('Eve\r\nBcc: someone@example.com'), sendId: 's', links });
    expect(m.subject).toBe('Eve Bcc: someone@example.com, we want to put this right');
    expect(m.text.split('\n')[0]).toBe('Hi Eve Bcc: someone@example.com,');
    expect(m.html).toContain('<p>Hi Eve Bcc: someone@example.com,</p>');
    expect(renderEmail({ campaign: 'retention-save', trigger, profile: storedWithName('\r\n\t'), sendId: 's', links }).subject).toMatch(/^there, /);
  });

  it('property: for any stored name and customer id, no header carries a control character and the HTML carries no markup from them', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 120 }),
      fc.string({ unit: fc.constantFrom('\r', '\n', '\t', '\u0000', '\u0085', '\u2028', '\u2029', '\u007f', 'a', ' ', ':', '<', '>', '&', '"', "'"), maxLength: 40 }),
    );
    fc.assert(
      fc.property(text, fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('retention-save', 'winback-counter-offer') as fc.Arbitrary<'retention-save' | 'winback-counter-offer'>, (name, customerId, campaign) => {
        const m = renderEmail({ campaign, trigger, profile: storedWithName(name, customerId), sendId: `s#${customerId}`, links });
        expect(m.subject).not.toMatch(CONTROL);
        for (const h of m.headers) expect(`${h.name}${h.value}`).not.toMatch(CONTROL);
        for (const t of m.tags) expect(`${t.name}${t.value}`).toMatch(/^[A-Za-z0-9_-]+$/);
        // Producer text never opens a tag in the HTML: the only tags are the template's own.
        expect(m.html.match(/<\/?[a-z!][^>]*>/gi)!.every((tag) => /^<(!doctype html|\/?html|\/?body|\/?p|\/?a)\b/i.test(tag))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
