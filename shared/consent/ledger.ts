/**
 * The consent ledger: append-only records, per customer and purpose, of every grant and
 * withdrawal (and the first step of a double opt-in), with when, where it came from, who
 * recorded it, the wording the customer saw and when a grant lapses. Pure.
 *
 * The current state of a purpose is its latest decisive record (a grant or a withdrawal) by
 * (`at`, `recordId`): a maximum, so the state does not depend on the order in which records
 * arrive, nor on a record arriving twice (test/unit/consent/ledger.test.ts checks both with
 * fast-check). A purpose is usable only while its latest decisive record is a grant that has
 * not expired: no record, a withdrawal, or an expired grant all mean "do not contact".
 */
import type { BusinessEvent, InboundDetail, channels, consentSources } from '../events/catalog.ts';
import { defaults } from '../defaults.ts';

type Channel = (typeof channels)[number];

/** ISO with offset → UTC `…Z` (as the profile's toUtcIso; kept here so the ledger imports nothing of the profile). */
const toUtcIso = (ts: string): string => new Date(ts).toISOString();
export type ConsentSource = (typeof consentSources)[number];

/**
 * What a record is for: `marketing:<channel>`, `service:<channel>`, or `winback` (contact about
 * coming back, on any channel the customer's marketing consent allows).
 */
export type ConsentPurpose = `marketing:${Channel}` | `service:${Channel}` | 'winback';

export const WINBACK: ConsentPurpose = 'winback';
export const MARKETING_EMAIL: ConsentPurpose = 'marketing:email';

export type ConsentAction = 'granted' | 'withdrawn' | 'requested';

export type ConsentRecord = {
  /** Unique per record: the event's id, suffixed when one event gives several records. The idempotency key. */
  recordId: string;
  customerId: string;
  purpose: ConsentPurpose;
  /** `requested`: the first step of a double opt-in (a confirmation went out); not a grant. */
  action: ConsentAction;
  /** When the customer gave or withdrew it (the event's occurredAt, UTC). */
  at: string;
  source: ConsentSource;
  /** Who recorded it: `customer`, or the agent or system id the producer gave. */
  actor: string;
  /** The wording the customer saw, when the producer says. */
  wordingVersion?: string;
  /** When a grant lapses (UTC); absent: it does not. */
  expiresAt?: string;
  /** Double opt-in: which step this record is. */
  doubleOptIn?: 'requested' | 'confirmed';
  /** The event the record came from, its type and producer. */
  eventId: string;
  eventType: BusinessEvent['type'];
  eventSource: string;
};

export type ConsentPolicy = {
  /** A winback grant without its own expiry lapses this many months after it was given. */
  winbackPermissionMonths: number;
};

export const defaultConsentPolicy: ConsentPolicy = { winbackPermissionMonths: defaults.winbackPermissionMonths };

/** `at` plus whole calendar months (UTC); a day past the month's end falls back to its last day. */
export function addMonths(at: string, months: number): string {
  const d = new Date(at);
  const day = d.getUTCDate();
  const shifted = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
  const lastDay = new Date(Date.UTC(shifted.getUTCFullYear(), shifted.getUTCMonth() + 1, 0)).getUTCDate();
  shifted.setUTCDate(Math.min(day, lastDay));
  return shifted.toISOString();
}

type Detail<T extends BusinessEvent['type']> = InboundDetail<T>;

/** The winback record of an answer to "may we contact you later?" (none when the question was not answered). */
function winbackAnswer(
  event: BusinessEvent,
  answer: { allowWinbackContact?: boolean; wordingVersion?: string },
  source: ConsentSource,
  actor: string | undefined,
  policy: ConsentPolicy,
): ConsentRecord[] {
  if (answer.allowWinbackContact === undefined) return [];
  const d = event.detail;
  const at = toUtcIso(d.occurredAt);
  return [
    {
      recordId: d.eventId,
      customerId: d.customerId,
      purpose: WINBACK,
      action: answer.allowWinbackContact ? 'granted' : 'withdrawn',
      at,
      source,
      actor: actor ?? 'customer',
      ...(answer.wordingVersion ? { wordingVersion: answer.wordingVersion } : {}),
      ...(answer.allowWinbackContact ? { expiresAt: addMonths(at, policy.winbackPermissionMonths) } : {}),
      eventId: d.eventId,
      eventType: event.type,
      eventSource: event.source,
    },
  ];
}

/** The consent records an event carries (none for most events). Pure; the same event always gives the same records. */
export function consentRecordsOf(event: BusinessEvent, policy: ConsentPolicy = defaultConsentPolicy): ConsentRecord[] {
  switch (event.type) {
    case 'ConsentChanged': {
      const e = event.detail as Detail<'ConsentChanged'>;
      const at = toUtcIso(e.occurredAt);
      const purpose: ConsentPurpose = e.purpose === 'winback' ? WINBACK : `${e.purpose}:${e.channel}`;
      const action: ConsentAction = !e.granted ? 'withdrawn' : e.doubleOptIn === 'requested' ? 'requested' : 'granted';
      const expiresAt =
        action !== 'granted' ? undefined : e.expiresAt ? toUtcIso(e.expiresAt) : purpose === WINBACK ? addMonths(at, policy.winbackPermissionMonths) : undefined;
      return [
        {
          recordId: e.eventId,
          customerId: e.customerId,
          purpose,
          action,
          at,
          source: e.source,
          actor: e.actor ?? 'customer',
          ...(e.wordingVersion ? { wordingVersion: e.wordingVersion } : {}),
          ...(expiresAt ? { expiresAt } : {}),
          ...(e.doubleOptIn && e.granted ? { doubleOptIn: e.doubleOptIn } : {}),
          eventId: e.eventId,
          eventType: event.type,
          eventSource: event.source,
        },
      ];
    }
    case 'SubscriptionCancelled':
    case 'AccountClosed': {
      const e = event.detail as Detail<'SubscriptionCancelled'> | Detail<'AccountClosed'>;
      return winbackAnswer(event, e, 'api', undefined, policy);
    }
    case 'ExitSurveyAnswered': {
      const e = event.detail as Detail<'ExitSurveyAnswered'>;
      return winbackAnswer(event, e, e.source, e.actor, policy);
    }
    default:
      return [];
  }
}

/** Whether record `a` is later than `b`: by time, then by record id (so ties resolve the same way everywhere). */
export const isLater = (a: Pick<ConsentRecord, 'at' | 'recordId'>, b: Pick<ConsentRecord, 'at' | 'recordId'>): boolean =>
  a.at > b.at || (a.at === b.at && a.recordId > b.recordId);

/** The current state: per purpose, its latest decisive record (a grant or a withdrawal). */
export type ConsentState = Partial<Record<ConsentPurpose, ConsentRecord>>;

/** Folds one record into the state (commutative, idempotent). A `requested` step decides nothing. */
export function foldConsent(state: ConsentState, record: ConsentRecord): ConsentState {
  if (record.action === 'requested') return state;
  const held = state[record.purpose];
  return !held || isLater(record, held) ? { ...state, [record.purpose]: record } : state;
}

/** The state a whole ledger gives, whatever the order of its records and however often each appears. */
export function consentState(records: readonly ConsentRecord[]): ConsentState {
  return records.reduce(foldConsent, {} as ConsentState);
}

/** Why a purpose may or may not be used now. */
export type ConsentStatus =
  | { live: true; record: ConsentRecord }
  | { live: false; why: 'no-record' | 'withdrawn' | 'expired'; record?: ConsentRecord };

export function consentStatus(state: ConsentState | undefined, purpose: ConsentPurpose, now: Date): ConsentStatus {
  const record = state?.[purpose];
  if (!record) return { live: false, why: 'no-record' };
  if (record.action !== 'granted') return { live: false, why: 'withdrawn', record };
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now.getTime()) return { live: false, why: 'expired', record };
  return { live: true, record };
}

/** True only when the purpose's latest decisive record is a grant that has not expired at `now`. */
export function hasLiveGrant(state: ConsentState | undefined, purpose: ConsentPurpose, now: Date): boolean {
  return consentStatus(state, purpose, now).live;
}

/** A customer's full history for an auditor: every record once, oldest first (ties by record id). */
export function consentHistory(records: readonly ConsentRecord[]): ConsentRecord[] {
  const byId = new Map<string, ConsentRecord>();
  for (const r of records) byId.set(r.recordId, r);
  return [...byId.values()].sort((a, b) => (isLater(a, b) ? 1 : isLater(b, a) ? -1 : 0));
}

