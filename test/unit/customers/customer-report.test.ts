import { describe, expect, it } from 'vitest';
import { explainReason, formatCustomerReport, printable } from '../../../shared/customers/customer-report.ts';
import { emptyProfile } from '../../../shared/customers/profile.ts';
import type { CustomerRecord, TriggerRecord } from '../../../shared/ports.ts';

const trigger = (id: string, over: Partial<TriggerRecord> = {}): TriggerRecord => ({
  triggerId: id,
  customerId: 'C-1',
  rule: 'billing-complaint',
  kind: 'single',
  action: 'retention-save',
  reasons: ['support call about billing'],
  churnRiskBoost: 0.2,
  sourceEventIds: ['e'],
  firedAt: '2026-11-20T08:00:00.000Z',
  ...over,
});

describe('customer report', () => {
  it('escapes control characters from producers, in every field shown', () => {
    const profile = { ...emptyProfile('C-1\u001b[2J'), firstName: { value: 'Eve\r\nBcc: x@example.com', at: '2026-01-01T00:00:00Z', by: 'e' } };
    const record: CustomerRecord = { customerId: 'C-1\u001b[2J', profile, triggers: [trigger('t\n1', { reasons: ['a\rb'] })], sends: [] };
    const text = formatCustomerReport(record, { showPersonalData: true });
    expect(text).not.toMatch(/[\r\u001b]/);
    expect(text.split('\n').every((l) => !l.includes('Bcc') || l.includes('\\u000d\\u000aBcc'))).toBe(true);
    expect(printable('a\u2028b\u0000')).toBe('a\\u2028b\\u0000');
  });

  it('says what became of each trigger, including the ones with no decision yet', () => {
    const record: CustomerRecord = {
      customerId: 'C-1',
      profile: emptyProfile('C-1'),
      triggers: [
        trigger('t1'),
        trigger('t2', { publishedAt: '2026-11-20T08:00:01.000Z' }),
        trigger('t3'),
        trigger('t4', { action: 'winback', rule: 'cancelled' }),
      ],
      sends: [
        { sendId: 'retention-save#t3', customerId: 'C-1', campaign: 'retention-save', status: 'control', at: '2026-11-20T08:00:02.000Z', reason: 'control group (10%)', publishedAt: 'x' },
        { sendId: 'winback-counter-offer#t4', customerId: 'C-1', campaign: 'winback-counter-offer', status: 'skipped', at: '2026-11-20T08:00:02.000Z', reason: 'prefers-sms' },
      ],
    };
    const text = formatCustomerReport(record);
    expect(text).toContain('no retention-save decision: the trigger is not on the bus yet');
    expect(text).toContain('no retention-save decision recorded (campaigns has not handled it yet, or failed: see its dead-letter queue)');
    expect(text).toContain("retention-save held back 2026-11-20T08:00:02.000Z: control group (10%): held out on purpose, to measure the campaign's effect");
    expect(text).toContain('winback-counter-offer skipped 2026-11-20T08:00:02.000Z: the customer prefers sms, not email');
    expect(text).toContain('(outcome not yet on the bus)');
    expect(text).toMatch(/consent\s+none in the consent ledger/);
  });

  it('explains every reason code the guardrails give', () => {
    for (const r of ['no-marketing-consent', 'no-email-address', 'unknown-customer', 'no-winback-permission', 'cooldown', 'frequency-cap', 'prefers-push', 'control group (10%)']) {
      expect(explainReason(r, 'retention-save'), r).not.toBe(r);
    }
    expect(explainReason('cooldown', 'winback-counter-offer')).toContain('90 days');
    expect(explainReason('something-new')).toBe('something-new');
  });
});
