/**
 * The operator's report of one customer written out in full for a customer with every part
 * filled in (each line worked out from the input by hand), masked and unmasked, and the report
 * of an unknown customer.
 */
import { describe, expect, it } from 'vitest';
import { explainReason, formatCustomerReport } from '../../../shared/customers/customer-report.ts';
import { applyEvent, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import type { CustomerRecord, SendRecord, TriggerRecord } from '../../../shared/ports.ts';
import { businessEvent } from '../../support/events.ts';
import { consentRecordsOf } from '../../../shared/consent/ledger.ts';

const ev = (type: Parameters<typeof businessEvent>[0], occurredAt: string, fields: Record<string, unknown>) => businessEvent(type, { customerId: 'C-7', occurredAt, ...fields });
const events = [
  ev('CustomerProfileUpdated', '2026-01-02T00:00:00Z', { email: 'Grace@Example.com', firstName: 'Grace', preferredChannel: 'email', customerType: 'subscription' }),
  ev('ConsentChanged', '2026-01-03T00:00:00Z', { channel: 'sms', purpose: 'marketing', granted: false }),
  ev('ConsentChanged', '2026-01-03T00:00:00Z', { channel: 'email', purpose: 'marketing', granted: true }),
  ev('OrderPlaced', '2026-02-01T00:00:00Z', { orderId: 'o1', amount: 12.5 }),
  ev('OrderReturned', '2026-02-03T00:00:00Z', { orderId: 'o1', amount: 2, currency: 'EUR' }),
  ev('InvoiceIssued', '2026-02-04T00:00:00Z', { invoiceId: 'i1', amount: 30, currency: 'EUR' }),
  ev('PaymentFailed', '2026-02-05T00:00:00Z', {}),
  ev('SupportCallLogged', '2026-02-06T00:00:00Z', { callId: 'k1', reason: 'billing' }),
  ev('SupportCallLogged', '2026-02-07T00:00:00Z', { callId: 'k2', reason: 'network' }),
  ev('SubscriptionStarted', '2026-01-05T00:00:00Z', { subscriptionId: 's1', productId: 'fibre', plan: 'fibre-500', monthlyPrice: 40, currency: 'EUR' }),
  ev('SubscriptionStarted', '2026-01-05T00:00:00Z', { subscriptionId: 's2', productId: 'tv', plan: 'tv-basic', monthlyPrice: 10, currency: 'EUR' }),
  ev('SubscriptionCancelled', '2026-03-01T00:00:00Z', { subscriptionId: 's2', productId: 'tv', reason: 'price', allowWinbackContact: true }),
];
const profile: CustomerProfile = events.reduce((p: CustomerProfile, e: BusinessEvent) => applyEvent(p, e), emptyProfile('C-7'));
/** Her consent ledger, as ingest appends it from the same events (in another order: the state does not depend on it). */
const ledger = events.flatMap((e) => consentRecordsOf(e)).reverse();
const now = new Date('2026-04-01T00:00:00Z');

const trigger = (triggerId: string, firedAt: string, over: Partial<TriggerRecord> = {}): TriggerRecord => ({
  triggerId, customerId: 'C-7', rule: 'billing-complaint', kind: 'single', action: 'retention-save', reasons: ['support call about billing'],
  churnRiskBoost: 0.2, sourceEventIds: ['e'], firedAt, publishedAt: firedAt, ...over,
});
const send = (sendId: string, status: SendRecord['status'], at: string, over: Partial<SendRecord> = {}): SendRecord => ({
  sendId, customerId: 'C-7', campaign: sendId.split('#')[0]!, status, at, publishedAt: at, ...over,
});
const record: CustomerRecord = {
  customerId: 'C-7',
  profile,
  triggers: [
    trigger('t1', '2026-03-01T10:00:00.000Z'),
    trigger('t3', '2026-03-03T10:00:00.000Z', { rule: 'cancelled-with-winback-permission', action: 'winback', reasons: ['cancelled: price'] }),
    trigger('t2', '2026-03-02T10:00:00.000Z', { rule: 'downgrade', reasons: ['subscription downgraded'] }),
    trigger('t4', '2026-03-04T10:00:00.000Z', { rule: 'custom', kind: 'timer', action: 'none', reasons: ['a', 'b'] }),
    trigger('t5', '2026-03-05T10:00:00.000Z', { publishedAt: undefined }),
  ],
  sends: [
    send('retention-save#t1', 'sent', '2026-03-01T10:00:01.000Z', { messageId: 'm-1' }),
    send('retention-save#t2', 'skipped', '2026-03-02T10:00:01.000Z', { reason: 'cooldown', publishedAt: undefined }),
    send('winback-counter-offer#t3', 'sending', '2026-03-03T10:00:01.000Z'),
  ],
  consent: ledger,
};

const profileLines = (email: string, name: string) => [
  'Profile',
  `  email              ${email}   (email marketing consent: yes, from the consent ledger)`,
  `  first name         ${name}`,
  '  preferred channel  email',
  '  customer type      subscription',
  '  consent            from the consent ledger, now: marketing:email may contact (granted 2026-01-03T00:00:00.000Z); marketing:sms may not contact (withdrawn 2026-01-03T00:00:00.000Z); winback may contact (granted 2026-03-01T00:00:00.000Z, until 2028-03-01T00:00:00.000Z)',
  '  events             12, first 2026-01-02T00:00:00.000Z, last 2026-03-01T00:00:00.000Z',
  '  orders             1 (spend 12.5), returns 1, invoices 1, failed payments 1',
  '  support calls      2 (billing 1, network 1)',
  '  subscriptions      fibre active (fibre-500); tv cancelled 2026-03-01T00:00:00.000Z (winback contact allowed)',
];
const rest = [
  '',
  'Triggers (5, newest first)',
  '  2026-03-05T10:00:00.000Z  billing-complaint (single) → retention-save   support call about billing',
  '      no retention-save decision: the trigger is not on the bus yet (churn-triggers publishes it on its next attempt)',
  '  2026-03-04T10:00:00.000Z  custom (timer) → none   a; b',
  '      no email: the action "none" has no email campaign',
  '  2026-03-03T10:00:00.000Z  cancelled-with-winback-permission (single) → winback   cancelled: price',
  '      winback-counter-offer being sent (claimed 2026-03-03T10:00:01.000Z)',
  '  2026-03-02T10:00:00.000Z  downgrade (single) → retention-save   subscription downgraded',
  '      retention-save skipped 2026-03-02T10:00:01.000Z: cooldown: this campaign already went to the customer in the 30 days before',
  '  2026-03-01T10:00:00.000Z  billing-complaint (single) → retention-save   support call about billing',
  '      retention-save sent 2026-03-01T10:00:01.000Z, message m-1',
  '',
  'Send ledger (3, newest first)',
  '  2026-03-03T10:00:01.000Z  sending  winback-counter-offer  ',
  '      winback-counter-offer#t3',
  '  2026-03-02T10:00:01.000Z  skipped  retention-save         cooldown: this campaign already went to the customer in the 30 days before',
  '      retention-save#t2  (outcome not yet on the bus)',
  '  2026-03-01T10:00:01.000Z  sent     retention-save         message m-1',
  '      retention-save#t1',
  '',
];

describe('customer report, in full', () => {
  it("shows the consent state derived from the ledger, not the profile's registers: a later withdrawal, an expiry", () => {
    const withdrawn = businessEvent('ConsentChanged', { customerId: 'C-7', occurredAt: '2026-03-20T00:00:00Z', channel: 'email', purpose: 'marketing', granted: false, source: 'unsubscribe-link' });
    const lines = (r: CustomerRecord, at: Date) => formatCustomerReport(r, { now: at }).split('\n').filter((l) => /^ {2}(email|consent) /.test(l));
    // the profile still says granted: only the ledger has the withdrawal
    expect(lines({ ...record, consent: [...ledger, ...consentRecordsOf(withdrawn)] }, now)).toEqual([
      '  email              g•••@example.com   (email marketing consent: no, from the consent ledger)',
      '  consent            from the consent ledger, now: marketing:email may not contact (withdrawn 2026-03-20T00:00:00.000Z); marketing:sms may not contact (withdrawn 2026-01-03T00:00:00.000Z); winback may contact (granted 2026-03-01T00:00:00.000Z, until 2028-03-01T00:00:00.000Z)',
    ]);
    expect(lines(record, new Date('2028-03-02T00:00:00Z'))[1]).toContain('winback may not contact (the grant of 2026-03-01T00:00:00.000Z expired 2028-03-01T00:00:00.000Z)');
  });

  it('masks the address and the first name by default', () => {
    expect(formatCustomerReport(record, { now }).split('\n')).toEqual(['Customer C-7', '', ...profileLines('g•••@example.com', 'G•••'), ...rest]);
  });

  it('shows them when asked', () => {
    expect(formatCustomerReport(record, { showPersonalData: true, now }).split('\n')).toEqual(['Customer C-7', '', ...profileLines('grace@example.com', 'Grace'), ...rest]);
  });

  it('a customer the stack knows nothing about', () => {
    expect(formatCustomerReport({ customerId: 'nobody', triggers: [], sends: [] })).toBe(
      [
        'Customer nobody',
        '',
        'Profile',
        '  none: the stack has stored no event for this customer id (ids are case-sensitive)',
        '',
        'Triggers (0, newest first)',
        '  none fired (only events of the last 14 days fire triggers)',
        '',
        'Send ledger (0, newest first)',
        '  empty: no email was sent, held back or skipped for this customer',
        '',
      ].join('\n'),
    );
  });

  it('an empty profile: dashes, no consent, no calls, no subscriptions; an address without a local part is masked whole', () => {
    const bare = { ...emptyProfile('C-8'), email: { value: '@example.com', at: '2026-01-01T00:00:00.000Z', by: 'e' } };
    expect(formatCustomerReport({ customerId: 'C-8', profile: bare, triggers: [], sends: [] }).split('\n').slice(2, 12)).toEqual([
      'Profile',
      '  email              •••   (email marketing consent: no, from the consent ledger)',
      '  first name         —',
      '  preferred channel  — (email is allowed)',
      '  customer type      —',
      '  consent            none in the consent ledger (no marketing email: consent is opt-in)',
      '  events             0, first —, last —',
      '  orders             0 (spend 0), returns 0, invoices 0, failed payments 0',
      '  support calls      0',
      '  subscriptions      —',
    ]);
  });

  it('an empty first name (a producer may send ""): empty, masked or not, and not the dash of a name never given', () => {
    const named = (firstName: string) => applyEvent(emptyProfile('C-9'), ev('CustomerProfileUpdated', '2026-01-02T00:00:00Z', { customerId: 'C-9', firstName }));
    const nameLine = (p: CustomerProfile, showPersonalData?: boolean) =>
      formatCustomerReport({ customerId: 'C-9', profile: p, triggers: [], sends: [] }, { showPersonalData }).split('\n')[4];
    expect(named('').firstName?.value).toBe('');
    expect(nameLine(named(''))).toBe('  first name         ');
    expect(nameLine(named(''), true)).toBe('  first name         ');
    // one character is masked to itself and the dots; a name is cut at its first code point, not a UTF-16 unit
    expect(nameLine(named('Å'))).toBe('  first name         Å•••');
    expect(nameLine(named('😀x'))).toBe('  first name         😀•••');
  });

  it('explains each reason in words', () => {
    expect(explainReason(undefined)).toBe('');
    expect(explainReason('no-marketing-consent')).toBe('no marketing consent for email (no grant recorded, or withdrawn)');
    expect(explainReason('no-email-address')).toBe('the profile has no email address');
    expect(explainReason('unknown-customer')).toBe('no profile for the customer when the trigger was handled');
    expect(explainReason('no-winback-permission')).toBe('no live winback permission in the consent ledger (never given, or withdrawn; see clm consent)');
    expect(explainReason('winback-permission-expired')).toBe('the winback permission expired (see clm consent)');
    expect(explainReason('marketing-consent-expired')).toBe('the marketing consent for email expired (see clm consent)');
    expect(explainReason('not-a-former-customer')).toBe('the customer has not left, or came back: no winback');
    expect(explainReason('cooldown')).toBe('cooldown: this campaign already went to the customer in the cooldown days before');
    expect(explainReason('cooldown', 'no-such-campaign')).toBe('cooldown: this campaign already went to the customer in the cooldown days before');
    expect(explainReason('frequency-cap')).toBe('frequency cap: the customer already got the weekly maximum of marketing emails (CLM_FREQUENCY_CAP_PER_WEEK)');
  });
});
