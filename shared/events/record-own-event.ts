/**
 * Stores a business event the stack itself writes on the customer's behalf (a page's answer, the
 * first step of a double opt-in), validated against the catalog as a producer's event is: its
 * consent records appended to the consent ledger first (as ingest does: a retry fills a gap, each
 * record once), then the event stored once (keyed on its eventId) and folded into the profile.
 */
import type { InboundDetail } from './catalog.ts';
import { validateInbound } from './validate.ts';
import { consentRecordsOf, type ConsentPolicy } from '../consent/ledger.ts';
import type { ConsentLedger, CustomerStore } from '../ports.ts';

export type OwnEventDeps = {
  store: Pick<CustomerStore, 'recordEvent'>;
  now: () => Date;
  consent?: ConsentLedger;
  consentPolicy?: ConsentPolicy;
};

export async function recordOwnEvent<T extends 'ConsentChanged' | 'ExitSurveyAnswered'>(
  deps: OwnEventDeps,
  source: string,
  type: T,
  detail: Omit<InboundDetail<T>, 'schemaVersion'>,
): Promise<'stored' | 'duplicate'> {
  const now = deps.now();
  const v = validateInbound({ source, 'detail-type': type, detail }, now);
  // Our own code built it from validated input: a failure here is a bug, not the customer's.
  if (!v.ok) throw new Error(`the ${type} ${source} built is invalid: ${v.reason}`);
  if (deps.consent) await deps.consent.append(consentRecordsOf(v.event, deps.consentPolicy));
  const result = await deps.store.recordEvent(v.event, now);
  return result.status;
}
