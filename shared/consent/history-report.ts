/**
 * The auditor's view of one customer's consent (`clm consent <id>`): every record of the ledger,
 * oldest first, with when, what, where from, who, the wording and the expiry; then, per purpose,
 * whether the stack may contact the customer now and why (the state the guardrails use). Pure.
 * Records hold no personal data; their producer-given text is printed with control characters escaped.
 */
import { printable } from '../customers/customer-report.ts';
import { consentHistory, consentState, consentStatus, type ConsentPurpose, type ConsentRecord, type ConsentStatus } from './ledger.ts';

export type ConsentReport = {
  customerId: string;
  /** When the state was judged. */
  at: string;
  records: ConsentRecord[];
  /** Per purpose with a record: may the stack contact the customer for it now, and why (not). */
  state: Partial<Record<ConsentPurpose, ConsentStatus>>;
};

export function consentReport(customerId: string, records: readonly ConsentRecord[], now: Date): ConsentReport {
  const history = consentHistory(records);
  const state = consentState(history);
  const purposes = [...new Set(history.map((r) => r.purpose))].sort();
  return {
    customerId,
    at: now.toISOString(),
    records: history,
    state: Object.fromEntries(purposes.map((p) => [p, consentStatus(state, p, now)])),
  };
}

const statusText = (s: ConsentStatus): string => {
  if (s.live) return `may contact: granted ${s.record.at}${s.record.expiresAt ? `, until ${s.record.expiresAt}` : ''} (record ${printable(s.record.recordId)})`;
  if (s.why === 'no-record') return 'may not contact: no grant or withdrawal recorded (only requests)';
  if (s.why === 'expired') return `may not contact: the grant of ${s.record!.at} expired ${s.record!.expiresAt} (record ${printable(s.record!.recordId)})`;
  return `may not contact: withdrawn ${s.record!.at} (record ${printable(s.record!.recordId)})`;
};

export function formatConsentReport(r: ConsentReport): string {
  const lines = [`Consent ledger of customer ${printable(r.customerId)}: ${r.records.length} record${r.records.length === 1 ? '' : 's'}, oldest first`];
  if (r.records.length === 0) lines.push('  (none: the stack may not contact this customer for any purpose that needs consent)');
  for (const x of r.records) {
    const parts = [
      x.at,
      x.purpose.padEnd(15),
      (x.doubleOptIn === 'confirmed' ? 'granted (double opt-in confirmed)' : x.action === 'requested' ? 'requested (double opt-in, not a grant)' : x.action).padEnd(10),
      `source ${x.source}`,
      `actor ${printable(x.actor)}`,
      `wording ${x.wordingVersion === undefined ? '-' : printable(x.wordingVersion)}`,
      `expires ${x.expiresAt ?? '-'}`,
      `from ${x.eventType} ${printable(x.eventId)} (${printable(x.eventSource)})`,
    ];
    lines.push(`  ${parts.join('  ')}`);
  }
  const purposes = Object.keys(r.state) as ConsentPurpose[];
  if (purposes.length) {
    lines.push('', `Now (${r.at}):`);
    for (const p of purposes) lines.push(`  ${p.padEnd(15)}  ${statusText(r.state[p]!)}`);
  }
  return `${lines.join('\n')}\n`;
}
