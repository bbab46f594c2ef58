import { describe, expect, it } from 'vitest';
import { matchesAny, matchesPattern } from '../../local/event-pattern.ts';
import { subscriptions, type RuleSubscription, type StreamSubscription } from '../../shared/wiring.ts';

const ev = (over: Record<string, unknown> = {}) => ({
  version: '0',
  id: 'x',
  source: 'com.example.orders',
  'detail-type': 'OrderPlaced',
  account: '000000000000',
  region: 'eu-west-1',
  resources: ['arn:1', 'arn:2'],
  detail: { amount: 42, currency: 'EUR', tags: ['a', 'b'], nested: { flag: true, none: null }, email: 'Ann@Example.com' },
  ...over,
});

describe('event pattern matcher', () => {
  it('matches exact values, arrays as OR, and nested objects', () => {
    expect(matchesPattern({ source: ['com.example.orders'] }, ev())).toBe(true);
    expect(matchesPattern({ source: ['a', 'com.example.orders'] }, ev())).toBe(true);
    expect(matchesPattern({ source: ['a'] }, ev())).toBe(false);
    expect(matchesPattern({ detail: { amount: [42] } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { amount: ['42'] } }, ev())).toBe(false);
    expect(matchesPattern({ detail: { nested: { flag: [true] } } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { nested: { flag: [false] } } }, ev())).toBe(false);
    expect(matchesPattern({ detail: { nested: { none: [null] } } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { nested: { flag: [null] } } }, ev())).toBe(false);
    expect(matchesPattern({}, ev())).toBe(true);
  });

  it('requires every field (AND) and matches array event values if any element matches', () => {
    expect(matchesPattern({ source: ['com.example.orders'], 'detail-type': ['OrderPlaced'] }, ev())).toBe(true);
    expect(matchesPattern({ source: ['com.example.orders'], 'detail-type': ['Other'] }, ev())).toBe(false);
    expect(matchesPattern({ resources: ['arn:2'] }, ev())).toBe(true);
    expect(matchesPattern({ detail: { tags: ['c', 'b'] } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { tags: ['c'] } }, ev())).toBe(false);
  });

  it('missing fields match only exists:false', () => {
    expect(matchesPattern({ detail: { missing: ['x'] } }, ev())).toBe(false);
    expect(matchesPattern({ detail: { missing: [{ exists: false }] } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { missing: [{ exists: true }] } }, ev())).toBe(false);
    expect(matchesPattern({ detail: { amount: [{ exists: true }] } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { amount: [{ exists: false }] } }, ev())).toBe(false);
    expect(matchesPattern({ nothere: { deeper: [{ exists: false }] } }, ev())).toBe(true);
    expect(matchesPattern({ nothere: { deeper: ['x'] } }, ev())).toBe(false);
    expect(matchesPattern({ detail: { missing: [{ 'anything-but': 'x' }] } }, ev())).toBe(false);
  });

  it('prefix and suffix, also ignoring case', () => {
    expect(matchesPattern({ source: [{ prefix: 'com.example.' }] }, ev())).toBe(true);
    expect(matchesPattern({ source: [{ prefix: 'clm.' }] }, ev())).toBe(false);
    expect(matchesPattern({ source: [{ suffix: '.orders' }] }, ev())).toBe(true);
    expect(matchesPattern({ source: [{ suffix: '.billing' }] }, ev())).toBe(false);
    expect(matchesPattern({ source: [{ prefix: { 'equals-ignore-case': 'COM.EXAMPLE' } }] }, ev())).toBe(true);
    expect(matchesPattern({ source: [{ suffix: { 'equals-ignore-case': '.ORDERS' } }] }, ev())).toBe(true);
    expect(matchesPattern({ detail: { amount: [{ prefix: '4' }] } }, ev())).toBe(false);
  });

  it('anything-but with a value, a list, prefix, suffix and equals-ignore-case', () => {
    expect(matchesPattern({ source: [{ 'anything-but': 'com.example.orders' }] }, ev())).toBe(false);
    expect(matchesPattern({ source: [{ 'anything-but': 'other' }] }, ev())).toBe(true);
    expect(matchesPattern({ source: [{ 'anything-but': ['a', 'com.example.orders'] }] }, ev())).toBe(false);
    expect(matchesPattern({ detail: { amount: [{ 'anything-but': [1, 2] }] } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { amount: [{ 'anything-but': 42 }] } }, ev())).toBe(false);
    expect(matchesPattern({ source: [{ 'anything-but': { prefix: 'clm.' } }] }, ev())).toBe(true);
    expect(matchesPattern({ source: [{ 'anything-but': { prefix: 'com.' } }] }, ev())).toBe(false);
    expect(matchesPattern({ source: [{ 'anything-but': { suffix: '.orders' } }] }, ev())).toBe(false);
    expect(matchesPattern({ source: [{ 'anything-but': { 'equals-ignore-case': 'COM.EXAMPLE.ORDERS' } }] }, ev())).toBe(false);
    expect(matchesPattern({ source: [{ 'anything-but': { 'equals-ignore-case': ['x', 'y'] } }] }, ev())).toBe(true);
    expect(matchesPattern({ source: [{ 'anything-but': { wildcard: 'com.*.orders' } }] }, ev())).toBe(false);
  });

  it('numeric ranges', () => {
    expect(matchesPattern({ detail: { amount: [{ numeric: ['>', 0] }] } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { amount: [{ numeric: ['>', 0, '<=', 42] }] } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { amount: [{ numeric: ['>', 0, '<', 42] }] } }, ev())).toBe(false);
    expect(matchesPattern({ detail: { amount: [{ numeric: ['=', 42] }] } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { amount: [{ numeric: ['>=', 43] }] } }, ev())).toBe(false);
    expect(matchesPattern({ detail: { currency: [{ numeric: ['>', 0] }] } }, ev())).toBe(false);
    expect(() => matchesPattern({ detail: { amount: [{ numeric: ['~', 1] }] } }, ev())).toThrow();
  });

  it('equals-ignore-case and wildcard', () => {
    expect(matchesPattern({ detail: { email: [{ 'equals-ignore-case': 'ann@example.COM' }] } }, ev())).toBe(true);
    expect(matchesPattern({ detail: { email: [{ 'equals-ignore-case': 'bob@example.com' }] } }, ev())).toBe(false);
    expect(matchesPattern({ source: [{ wildcard: 'com.*.orders' }] }, ev())).toBe(true);
    expect(matchesPattern({ source: [{ wildcard: '*orders' }] }, ev())).toBe(true);
    expect(matchesPattern({ source: [{ wildcard: 'com.*.billing' }] }, ev())).toBe(false);
    expect(matchesPattern({ source: [{ wildcard: 'com.example.orders' }] }, ev())).toBe(true);
    expect(matchesPattern({ source: [{ wildcard: 'com.example.order?' }] }, ev())).toBe(false);
  });

  it('$or of sub-patterns', () => {
    expect(matchesPattern({ $or: [{ source: ['x'] }, { detail: { amount: [42] } }] }, ev())).toBe(true);
    expect(matchesPattern({ $or: [{ source: ['x'] }, { detail: { amount: [1] } }] }, ev())).toBe(false);
  });

  it('rejects invalid patterns', () => {
    expect(() => matchesPattern({ source: [] }, ev())).toThrow();
    expect(() => matchesPattern({ source: [{ prefix: 1 }] }, ev())).toThrow();
    expect(() => matchesPattern({ source: [{ bogus: 'x' }] }, ev())).toThrow();
    expect(() => matchesPattern({ source: [{ prefix: 'a', suffix: 'b' }] }, ev())).toThrow();
  });
});

describe('the patterns in wiring.ts', () => {
  const rule = (id: string) => subscriptions.find((s) => s.id === id) as RuleSubscription;
  const stream = subscriptions.find((s) => s.kind === 'stream') as StreamSubscription;

  it('BusinessEventsToIngest takes every source except the stack’s own clm.*', () => {
    const p = rule('BusinessEventsToIngest').pattern;
    expect(matchesPattern(p, ev())).toBe(true);
    expect(matchesPattern(p, ev({ source: 'com.example.support', 'detail-type': 'Whatever' }))).toBe(true);
    expect(matchesPattern(p, ev({ source: 'clm.triggers', 'detail-type': 'ChurnTriggerFired' }))).toBe(false);
    expect(matchesPattern(p, ev({ source: 'clm.scoring' }))).toBe(false);
  });

  it('ChurnTriggersToCampaigns takes only ChurnTriggerFired from clm.triggers', () => {
    const p = rule('ChurnTriggersToCampaigns').pattern;
    expect(matchesPattern(p, ev({ source: 'clm.triggers', 'detail-type': 'ChurnTriggerFired' }))).toBe(true);
    expect(matchesPattern(p, ev({ source: 'clm.triggers', 'detail-type': 'Other' }))).toBe(false);
    expect(matchesPattern(p, ev({ source: 'com.evil', 'detail-type': 'ChurnTriggerFired' }))).toBe(false);
  });

  it('NewEventsToChurnTriggers takes inserted EVT# items of the trigger-relevant types', () => {
    const record = (eventName: string, sk: string, type: string) => ({
      eventID: '1',
      eventName,
      eventSource: 'aws:dynamodb',
      awsRegion: 'eu-west-1',
      dynamodb: {
        Keys: { pk: { S: 'CUST#1' }, sk: { S: sk } },
        NewImage: { pk: { S: 'CUST#1' }, sk: { S: sk }, type: { S: type } },
        SequenceNumber: '100',
        SizeBytes: 10,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    // The relevant types are read from the filter itself, so the test follows wiring.ts.
    const types = ((stream.filters[0] as any).dynamodb.NewImage.type.S as string[]).filter((t) => typeof t === 'string');
    expect(types).toContain('SupportCallLogged');
    for (const t of types) expect(matchesAny(stream.filters, record('INSERT', 'EVT#e1', t))).toBe(true);
    expect(matchesAny(stream.filters, record('MODIFY', 'EVT#e1', 'SupportCallLogged'))).toBe(false);
    expect(matchesAny(stream.filters, record('INSERT', 'PROFILE', 'SupportCallLogged'))).toBe(false);
    expect(matchesAny(stream.filters, record('INSERT', 'EVT#e1', 'InvoiceIssued'))).toBe(false);
    expect(matchesAny(stream.filters, record('INSERT', 'EVT#e1', 'CustomerProfileUpdated'))).toBe(false);
    const removed = { eventName: 'REMOVE', dynamodb: { Keys: { pk: { S: 'CUST#1' }, sk: { S: 'EVT#1' } } } };
    expect(matchesAny(stream.filters, removed)).toBe(false);
  });
});
