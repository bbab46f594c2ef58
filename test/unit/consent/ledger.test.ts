import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addMonths,
  consentHistory,
  consentRecordsOf,
  consentState,
  consentStatus,
  foldConsent,
  hasLiveGrant,
  type ConsentPurpose,
  type ConsentRecord,
} from '../../../shared/consent/ledger.ts';
import { businessEvent } from '../../support/events.ts';

const purposes: ConsentPurpose[] = ['marketing:email', 'marketing:sms', 'winback'];
/** Few instants, so ties are common; one pair is the same instant written twice. */
const instants = ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'];

const arbRecord: fc.Arbitrary<ConsentRecord> = fc
  .record({
    n: fc.integer({ min: 0, max: 30 }),
    purpose: fc.constantFrom(...purposes),
    action: fc.constantFrom('granted', 'withdrawn', 'requested' as const),
    at: fc.constantFrom(...instants),
    expires: fc.option(fc.constantFrom('2026-02-15T00:00:00.000Z', '2027-01-01T00:00:00.000Z'), { nil: undefined }),
  })
  .map(({ n, purpose, action, at, expires }) => ({
    // A record id names one record: the same id is always the same record (as an event id is one fact).
    recordId: `r${n}-${purpose}-${action}-${at}-${expires ?? ''}`,
    customerId: 'c-1',
    purpose,
    action,
    at,
    source: 'api' as const,
    actor: 'customer',
    ...(expires && action === 'granted' ? { expiresAt: expires } : {}),
    eventId: `r${n}`,
    eventType: 'ConsentChanged' as const,
    eventSource: 'com.example.crm',
  }));

/** The expected state computed from the whole ledger at once: per purpose, the decisive record with the greatest (at, recordId). */
function expectedState(records: ConsentRecord[]) {
  const out: Partial<Record<ConsentPurpose, ConsentRecord>> = {};
  for (const p of purposes) {
    const decisive = records.filter((r) => r.purpose === p && r.action !== 'requested').sort((a, b) => (a.at === b.at ? a.recordId.localeCompare(b.recordId) : a.at.localeCompare(b.at)));
    if (decisive.length) out[p] = decisive.at(-1);
  }
  return out;
}

describe('the consent state does not depend on arrival order or duplicates', () => {
  it('any permutation, with any records duplicated, gives the same state (and the one computed from the whole ledger)', () => {
    fc.assert(
      fc.property(
        fc.array(arbRecord, { minLength: 1, maxLength: 30 }).chain((records) =>
          fc.tuple(
            fc.constant(records),
            // a permutation of the records plus some of them again (redeliveries)
            fc.tuple(fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }), fc.subarray(records)).chain(([perm, dups]) =>
              fc.shuffledSubarray([...perm, ...dups], { minLength: perm.length + dups.length, maxLength: perm.length + dups.length }),
            ),
          ),
        ),
        ([records, delivered]) => {
          expect(consentState(delivered)).toEqual(consentState(records));
          expect(consentState(records)).toEqual(expectedState(records));
          // the history an auditor sees is the same set, in the same order
          expect(consentHistory(delivered)).toEqual(consentHistory(records));
          const now = new Date('2026-06-01T00:00:00Z');
          for (const p of purposes) expect(hasLiveGrant(consentState(delivered), p, now)).toBe(hasLiveGrant(consentState(records), p, now));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('folding a record twice changes nothing', () => {
    fc.assert(
      fc.property(fc.array(arbRecord, { maxLength: 10 }), arbRecord, (records, r) => {
        const s = consentState(records);
        expect(foldConsent(foldConsent(s, r), r)).toEqual(foldConsent(s, r));
      }),
    );
  });
});

describe('a live grant', () => {
  const grant = (at: string, over: Partial<ConsentRecord> = {}): ConsentRecord => ({
    recordId: `g-${at}`, customerId: 'c-1', purpose: 'winback', action: 'granted', at, source: 'exit-survey', actor: 'customer', eventId: `g-${at}`, eventType: 'ExitSurveyAnswered', eventSource: 'x', ...over,
  });

  it('no record, a withdrawal or an expired grant: not live, and says why', () => {
    expect(consentStatus({}, 'winback', new Date())).toEqual({ live: false, why: 'no-record' });
    const withdrawn = grant('2026-01-01T00:00:00.000Z', { action: 'withdrawn' });
    expect(consentStatus(consentState([withdrawn]), 'winback', new Date('2026-02-01T00:00:00Z'))).toMatchObject({ live: false, why: 'withdrawn' });
    const g = grant('2026-01-01T00:00:00.000Z', { expiresAt: '2026-03-01T00:00:00.000Z' });
    expect(consentStatus(consentState([g]), 'winback', new Date('2026-02-28T23:59:59.999Z'))).toMatchObject({ live: true });
    expect(consentStatus(consentState([g]), 'winback', new Date('2026-03-01T00:00:00.000Z'))).toMatchObject({ live: false, why: 'expired' });
  });

  it('a later withdrawal beats an earlier grant, and a later grant an earlier withdrawal; a tie goes to the larger record id', () => {
    const g = grant('2026-01-01T00:00:00.000Z', { recordId: 'b' });
    const w = grant('2026-01-01T00:00:00.000Z', { recordId: 'a', action: 'withdrawn' });
    expect(hasLiveGrant(consentState([g, w]), 'winback', new Date('2026-01-02T00:00:00Z'))).toBe(true);
    expect(hasLiveGrant(consentState([w, g]), 'winback', new Date('2026-01-02T00:00:00Z'))).toBe(true);
    const later = grant('2026-01-05T00:00:00.000Z', { recordId: 'a', action: 'withdrawn' });
    expect(hasLiveGrant(consentState([g, later]), 'winback', new Date('2026-01-06T00:00:00Z'))).toBe(false);
  });

  it('a double opt-in request is recorded but grants nothing; its confirmation grants', () => {
    const req = grant('2026-01-01T00:00:00.000Z', { recordId: 'req', action: 'requested', doubleOptIn: 'requested', purpose: 'marketing:email' });
    expect(hasLiveGrant(consentState([req]), 'marketing:email', new Date('2026-01-02T00:00:00Z'))).toBe(false);
    const conf = grant('2026-01-01T00:05:00.000Z', { recordId: 'conf', doubleOptIn: 'confirmed', purpose: 'marketing:email' });
    expect(hasLiveGrant(consentState([conf, req]), 'marketing:email', new Date('2026-01-02T00:00:00Z'))).toBe(true);
    expect(consentHistory([conf, req]).map((r) => r.recordId)).toEqual(['req', 'conf']);
  });
});

describe('the records an event carries', () => {
  it('a ConsentChanged gives one record with its source, actor, wording and expiry', () => {
    const e = businessEvent('ConsentChanged', {
      eventId: 'cc-1', occurredAt: '2026-05-01T12:00:00+02:00', channel: 'sms', purpose: 'marketing', granted: true, source: 'customer-service', actor: 'agent-7', wordingVersion: 'v2', expiresAt: '2027-05-01T00:00:00Z',
    });
    expect(consentRecordsOf(e)).toEqual([
      { recordId: 'cc-1', customerId: 'c-1', purpose: 'marketing:sms', action: 'granted', at: '2026-05-01T10:00:00.000Z', source: 'customer-service', actor: 'agent-7', wordingVersion: 'v2', expiresAt: '2027-05-01T00:00:00.000Z', eventId: 'cc-1', eventType: 'ConsentChanged', eventSource: 'com.example.test' },
    ]);
  });

  it('a withdrawal carries no expiry; the customer is the actor when none is named', () => {
    const e = businessEvent('ConsentChanged', { eventId: 'cc-2', occurredAt: '2026-05-01T00:00:00Z', channel: 'email', granted: false, source: 'unsubscribe-link', expiresAt: '2027-01-01T00:00:00Z' });
    expect(consentRecordsOf(e)).toEqual([expect.objectContaining({ action: 'withdrawn', actor: 'customer', source: 'unsubscribe-link', purpose: 'marketing:email' })]);
    expect(consentRecordsOf(e)[0]).not.toHaveProperty('expiresAt');
  });

  it('a winback grant lapses after the configured months (default 24)', () => {
    const cancel = businessEvent('SubscriptionCancelled', { eventId: 'sc', occurredAt: '2026-01-31T10:00:00Z', allowWinbackContact: true, wordingVersion: 'exit-v1' });
    expect(consentRecordsOf(cancel)).toEqual([expect.objectContaining({ purpose: 'winback', action: 'granted', expiresAt: '2028-01-31T10:00:00.000Z', wordingVersion: 'exit-v1', source: 'api' })]);
    expect(consentRecordsOf(cancel, { winbackPermissionMonths: 1 })[0]!.expiresAt).toBe('2026-02-28T10:00:00.000Z');
    const survey = businessEvent('ExitSurveyAnswered', { eventId: 'sv', occurredAt: '2026-01-31T10:00:00Z', reasonCode: 'price', allowWinbackContact: true, actor: 'agent-2', source: 'customer-service' });
    expect(consentRecordsOf(survey)).toEqual([expect.objectContaining({ purpose: 'winback', action: 'granted', source: 'customer-service', actor: 'agent-2', eventType: 'ExitSurveyAnswered' })]);
    const wb = businessEvent('ConsentChanged', { eventId: 'wb', occurredAt: '2026-01-31T10:00:00Z', channel: 'email', purpose: 'winback', granted: true });
    expect(consentRecordsOf(wb)[0]).toMatchObject({ purpose: 'winback', expiresAt: '2028-01-31T10:00:00.000Z' });
  });

  it('no answer gives no record; other events give none', () => {
    expect(consentRecordsOf(businessEvent('SubscriptionCancelled', { allowWinbackContact: undefined }))).toEqual([]);
    expect(consentRecordsOf(businessEvent('AccountClosed', {}))).toEqual([]);
    expect(consentRecordsOf(businessEvent('OrderPlaced', {}))).toEqual([]);
  });

  it('adds calendar months, falling back to the end of a shorter month', () => {
    expect(addMonths('2026-01-31T00:00:00.000Z', 1)).toBe('2026-02-28T00:00:00.000Z');
    expect(addMonths('2024-02-29T12:00:00.000Z', 24)).toBe('2026-02-28T12:00:00.000Z');
    expect(addMonths('2026-03-15T08:30:00.000Z', 24)).toBe('2028-03-15T08:30:00.000Z');
  });
});
