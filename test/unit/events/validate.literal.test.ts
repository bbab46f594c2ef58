/**
 * Validation on events written out as the JSON a producer sends (not built through the
 * validator or a helper): what is accepted, with which defaults, and what is rejected with
 * which code and reason. Expectations are literal.
 */
import { describe, expect, it } from 'vitest';
import { describeIssues, parseEmitted, validateInbound } from '../../../shared/events/validate.ts';
import { z } from 'zod';

const now = new Date('2026-11-01T12:00:00.000Z');
const wrap = (detailType: string, detail: string, source = 'com.example.crm') =>
  `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"${detailType}","source":"${source}","account":"111122223333","time":"2026-11-01T11:00:00Z","region":"eu-west-1","resources":[],"detail":${detail}}`;

describe('accepted events, written as JSON', () => {
  it.each([
    [
      'CustomerProfileUpdated',
      '{"eventId":"crm-1","customerId":"c-1","occurredAt":"2026-10-31T09:00:00+01:00","email":"Ada@Example.com","firstName":"Ada","locale":"en-GB","timeZone":"Europe/London","preferredChannel":"email","preferredHour":9,"customerType":"subscription"}',
      { eventId: 'crm-1', customerId: 'c-1', occurredAt: '2026-10-31T09:00:00+01:00', schemaVersion: 1, email: 'Ada@Example.com', firstName: 'Ada', locale: 'en-GB', timeZone: 'Europe/London', preferredChannel: 'email', preferredHour: 9, customerType: 'subscription' },
    ],
    [
      'ConsentChanged',
      '{"eventId":"cons-1","customerId":"c-1","occurredAt":"2026-10-31T09:00:00Z","channel":"email","granted":true}',
      { eventId: 'cons-1', customerId: 'c-1', occurredAt: '2026-10-31T09:00:00Z', schemaVersion: 1, channel: 'email', purpose: 'marketing', granted: true, source: 'api' },
    ],
    [
      'SupportCallLogged',
      '{"eventId":"  call-1  ","customerId":"c-1","occurredAt":"2026-10-31T09:00:00Z","callId":"k-1","reason":"billing"}',
      { eventId: 'call-1', customerId: 'c-1', occurredAt: '2026-10-31T09:00:00Z', schemaVersion: 1, callId: 'k-1', reason: 'billing', channel: 'phone' },
    ],
    [
      'SupportCallResolved',
      '{"eventId":"res-1","customerId":"c-1","occurredAt":"2026-10-31T09:00:00Z","callId":"k-1","resolutionMinutes":95.5}',
      { eventId: 'res-1', customerId: 'c-1', occurredAt: '2026-10-31T09:00:00Z', schemaVersion: 1, callId: 'k-1', resolutionMinutes: 95.5, resolved: true },
    ],
    [
      'InvoiceIssued',
      '{"eventId":"inv-1","customerId":"c-1","occurredAt":"2026-10-31T09:00:00Z","invoiceId":"i-1","amount":0,"currency":"EUR","dueDate":"2026-11-30"}',
      { eventId: 'inv-1', customerId: 'c-1', occurredAt: '2026-10-31T09:00:00Z', schemaVersion: 1, invoiceId: 'i-1', kind: 'invoice', amount: 0, currency: 'EUR', dueDate: '2026-11-30' },
    ],
    [
      'SubscriptionCancelled',
      '{"eventId":"can-1","customerId":"c-1","occurredAt":"2026-10-31T09:00:00Z","schemaVersion":1,"subscriptionId":"s-1","productId":"fibre","reason":"moving abroad","allowWinbackContact":false}',
      { eventId: 'can-1', customerId: 'c-1', occurredAt: '2026-10-31T09:00:00Z', schemaVersion: 1, subscriptionId: 's-1', productId: 'fibre', reason: 'moving abroad', allowWinbackContact: false },
    ],
    [
      'OrderPlaced',
      '{"eventId":"ord-1","customerId":"c-1","occurredAt":"2026-10-31T09:00:00Z","orderId":"o-1","amount":1000000000,"currency":"USD","items":[{"sku":"A","quantity":2,"price":5,"category":"toys"}]}',
      { eventId: 'ord-1', customerId: 'c-1', occurredAt: '2026-10-31T09:00:00Z', schemaVersion: 1, orderId: 'o-1', amount: 1e9, currency: 'USD', items: [{ sku: 'A', quantity: 2, price: 5, category: 'toys' }] },
    ],
  ])('%s', (type, detail, expected) => {
    const r = validateInbound(wrap(type, detail), now);
    expect(r).toEqual({ ok: true, event: { type, source: 'com.example.crm', detail: expected }, envelopeId: '6a7e8feb-b491-4cf7-a9f1-bf3703467718' });
  });

  it('takes an envelope object as well as a string, with or without an envelope id', () => {
    const r = validateInbound(JSON.parse('{"source":"com.example.usage","detail-type":"ProductAdopted","detail":{"eventId":"pa-1","customerId":"c-9","occurredAt":"2026-10-01T00:00:00Z","productId":"tv"}}'), now);
    expect(r).toEqual({ ok: true, event: { type: 'ProductAdopted', source: 'com.example.usage', detail: { eventId: 'pa-1', customerId: 'c-9', occurredAt: '2026-10-01T00:00:00Z', schemaVersion: 1, productId: 'tv' } }, envelopeId: undefined });
  });
});

describe('rejected events, written as JSON', () => {
  const base = '"eventId":"e-1","customerId":"c-1","occurredAt":"2026-10-31T09:00:00Z"';
  it.each([
    ['an empty body', '', 'not-json', 'body is not JSON'],
    ['truncated JSON', '{"detail-type":"OrderPlaced","source":"x"', 'not-json', 'body is not JSON (syntax error at position 41)'],
    ['no detail-type', '{"source":"com.example.crm","detail":{}}', 'bad-envelope', 'not an EventBridge event: detail-type: Invalid input: expected string, received undefined'],
    ['an empty source', '{"source":"","detail-type":"OrderPlaced","detail":{}}', 'bad-envelope', 'not an EventBridge event: source: Too small: expected string to have >=1 characters'],
    ['a detail that is not an object', '{"source":"com.example.crm","detail-type":"OrderPlaced","detail":"hello"}', 'bad-envelope', 'not an EventBridge event: detail: Invalid input: expected record, received string'],
    ['a JSON array', '[1,2]', 'bad-envelope', 'not an EventBridge event: (root): Invalid input: expected object, received array'],
    ['a clm.* source', wrap('OrderPlaced', `{${base}}`, 'clm.campaigns'), 'own-source', 'source "clm.campaigns" is reserved for events the stack emits'],
    [
      'an unknown detail-type',
      wrap('OrderTeleported', `{${base}}`),
      'unknown-detail-type',
      'unknown detail-type "OrderTeleported"; known: CustomerProfileUpdated, OrderPlaced, OrderStatusChanged, OrderReturned, InvoiceIssued, UsageRecorded, SupportCallLogged, SupportCallResolved, SubscriptionStarted, SubscriptionChanged, SubscriptionCancelled, CancellationRequested, AccountClosed, ExitSurveyAnswered, CustomerErasureRequested, PaymentFailed, ProductAdopted, ConsentChanged, EmailFeedback',
    ],
    [
      'SES feedback from a producer (only aws.ses may send it)',
      wrap('EmailFeedback', `{${base},"kind":"complaint","messageId":"m-1","addressHash":"${'a'.repeat(64)}"}`),
      'invalid-detail',
      'EmailFeedback: only aws.ses may send it (source "com.example.crm")',
    ],
    ['a prototype key as detail-type', wrap('toString', `{${base}}`), 'unknown-detail-type', expect.stringMatching(/^unknown detail-type "toString"/)],
    ['a reason out of the list', wrap('SupportCallLogged', `{${base},"callId":"k","reason":"weather"}`), 'invalid-detail', expect.stringMatching(/^SupportCallLogged: reason: Invalid option: expected one of "billing"\|"network"/)],
    ['a negative amount and a lower-case currency', wrap('OrderReturned', `{${base},"orderId":"o","amount":-1,"currency":"eur"}`), 'invalid-detail', 'OrderReturned: amount: Too small: expected number to be >=0; currency: an ISO 4217 code such as EUR'],
    ['a four-letter currency', wrap('OrderReturned', `{${base},"orderId":"o","amount":1,"currency":"EURO"}`), 'invalid-detail', 'OrderReturned: currency: an ISO 4217 code such as EUR'],
    ['a currency with a prefix', wrap('OrderReturned', `{${base},"orderId":"o","amount":1,"currency":"xEUR"}`), 'invalid-detail', 'OrderReturned: currency: an ISO 4217 code such as EUR'],
    ['an amount above 10^9', wrap('PaymentFailed', `{${base},"paymentId":"p","amount":1000000001,"currency":"EUR"}`), 'invalid-detail', 'PaymentFailed: amount: Too big: expected number to be <=1000000000'],
    ['a blank eventId', wrap('ProductAdopted', '{"eventId":"   ","customerId":"c-1","occurredAt":"2026-10-31T09:00:00Z","productId":"tv"}'), 'invalid-detail', 'ProductAdopted: eventId: Too small: expected string to have >=1 characters'],
    ['an occurredAt without offset', wrap('ProductAdopted', '{"eventId":"x","customerId":"c-1","occurredAt":"2026-10-31 09:00","productId":"tv"}'), 'invalid-detail', 'ProductAdopted: occurredAt: Invalid ISO datetime'],
    ['schema version 2', wrap('ProductAdopted', `{${base},"schemaVersion":2,"productId":"tv"}`), 'invalid-detail', 'ProductAdopted: schemaVersion: Invalid input: expected 1'],
    ['an email that is not one', wrap('CustomerProfileUpdated', `{${base},"email":"not-an-email"}`), 'invalid-detail', 'CustomerProfileUpdated: email: Invalid email address'],
    ['a CR LF in a first name', wrap('CustomerProfileUpdated', `{${base},"firstName":"Ann\\r\\nBcc"}`), 'invalid-detail', 'CustomerProfileUpdated: firstName: must not contain control characters such as CR or LF (found U+000D at position 3)'],
    ['an hour of 24', wrap('CustomerProfileUpdated', `{${base},"preferredHour":24}`), 'invalid-detail', 'CustomerProfileUpdated: preferredHour: Too big: expected number to be <=23'],
    ['a cancellation reason outside the taxonomy', wrap('SubscriptionCancelled', `{${base},"subscriptionId":"s","productId":"p","reasonCode":"weather"}`), 'invalid-detail', expect.stringMatching(/^SubscriptionCancelled: reasonCode: Invalid option: expected one of "price"\|"service-quality"\|"network"\|"billing"\|"moved"\|"competitor"\|"no-longer-needed"\|"other"$/)],
    ['an exit survey without the winback answer', wrap('ExitSurveyAnswered', `{${base},"reasonCode":"price"}`), 'invalid-detail', 'ExitSurveyAnswered: allowWinbackContact: Invalid input: expected boolean, received undefined'],
    ['a consent from an unknown source', wrap('ConsentChanged', `{${base},"channel":"email","granted":true,"source":"rumour"}`), 'invalid-detail', expect.stringMatching(/^ConsentChanged: source: Invalid option/)],
    ['a date more than a day ahead', wrap('ProductAdopted', '{"eventId":"x","customerId":"c-1","occurredAt":"2026-11-02T12:00:00.001Z","productId":"tv"}'), 'invalid-detail', 'ProductAdopted: occurredAt: more than 24 hours in the future'],
    ['a date before 1970', wrap('ProductAdopted', '{"eventId":"x","customerId":"c-1","occurredAt":"1969-12-31T23:59:59Z","productId":"tv"}'), 'invalid-detail', 'ProductAdopted: occurredAt: before 1970-01-01T00:00:00Z'],
  ])('rejects %s', (_name, raw, code, reason) => {
    const r = validateInbound(raw, now);
    expect(r).toMatchObject({ ok: false, code, reason });
  });

  it('names the detail-type and source of a rejected event, never its values', () => {
    const r = validateInbound(wrap('CustomerProfileUpdated', `{"eventId":"e","customerId":"c","occurredAt":"2026-10-31T09:00:00Z","email":"secret-person@@example"}`), now);
    expect(r).toEqual({ ok: false, code: 'invalid-detail', reason: 'CustomerProfileUpdated: email: Invalid email address', source: 'com.example.crm', detailType: 'CustomerProfileUpdated' });
    expect(JSON.stringify(r)).not.toContain('secret-person');
  });

  it('a date exactly a day ahead, and exactly 1970, are accepted', () => {
    expect(validateInbound(wrap('ProductAdopted', '{"eventId":"x","customerId":"c","occurredAt":"2026-11-02T12:00:00.000Z","productId":"tv"}'), now).ok).toBe(true);
    expect(validateInbound(wrap('ProductAdopted', '{"eventId":"x","customerId":"c","occurredAt":"1970-01-01T00:00:00Z","productId":"tv"}'), now).ok).toBe(true);
  });

  it('the size limit is 256 KiB of UTF-8, for a string and for an object', () => {
    // pads with "é" (2 bytes in UTF-8) and one "a" when the remainder is odd, to exactly `total` bytes
    const padded = (total: number) => {
      const shell = wrap('ProductAdopted', '{"eventId":"x","customerId":"c","occurredAt":"2026-10-31T09:00:00Z","productId":"tv","pad":""}');
      const room = total - Buffer.byteLength(shell);
      return shell.replace('"pad":""', `"pad":"${'é'.repeat(Math.floor(room / 2))}${'a'.repeat(room % 2)}"`);
    };
    expect(Buffer.byteLength(padded(262_144))).toBe(262_144);
    expect(validateInbound(padded(262_144), now).ok).toBe(true);
    expect(validateInbound(padded(262_145), now)).toEqual({ ok: false, code: 'too-large', reason: 'event is 262145 bytes; the limit is 262144' });
    expect(validateInbound(JSON.parse(padded(262_145)), now)).toMatchObject({ ok: false, code: 'too-large' });
  });
});

describe('issues and emitted events', () => {
  it('joins issues as path: message; root issues as (root)', () => {
    const r = z.object({ a: z.object({ b: z.number() }), c: z.string() }).safeParse({ a: { b: 'x' } });
    expect(describeIssues(r.error!)).toBe('a.b: Invalid input: expected number, received string; c: Invalid input: expected string, received undefined');
  });

  it('parses an emitted event and throws on a bad one', () => {
    const ok = JSON.parse('{"sendId":"s","customerId":"c","campaign":"retention-save","reason":"cooldown","skippedAt":"2026-11-01T12:00:00.000Z"}');
    expect(parseEmitted('EmailSkipped', ok)).toEqual({ ...ok, schemaVersion: 1 });
    expect(() => parseEmitted('EmailSkipped', { ...ok, reason: 3 })).toThrow('invalid EmailSkipped: reason: Invalid input: expected string, received number');
  });
});
