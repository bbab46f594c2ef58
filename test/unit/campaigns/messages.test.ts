import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { renderEmail, unsubscribeToken } from '../../../shared/campaigns/messages.ts';
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
});
