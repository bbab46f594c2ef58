/**
 * The operator's view of one customer (`clm customer <id>`): the profile, the consent
 * state per purpose derived from the consent ledger (as the guardrails derive it), the
 * triggers that fired and what each became — sent, held back as control, skipped
 * and why, or no email at all — and the whole send ledger. Pure: it formats a
 * `CustomerRecord` read through the `CustomerReader` port.
 *
 * Values come from producers, so every string is printed with control characters
 * escaped. Personal data (email address, first name) is masked unless asked for.
 */
import { campaignFor, cooldownOf, defaultSendPolicy, sendIdFor } from '../campaigns/guardrails.ts';
import { isCampaignName } from '../campaigns/catalog.ts';
import type { CustomerRecord, SendRecord, TriggerRecord } from '../ports.ts';
import type { ChurnTriggerFired } from '../events/catalog.ts';
import { isActive, type CustomerProfile } from './profile.ts';
import { MARKETING_EMAIL, consentHistory, consentState, consentStatus, type ConsentPurpose, type ConsentRecord, type ConsentStatus } from '../consent/ledger.ts';

export type CustomerReportOptions = {
  /** Show the email address and first name in full (default: masked). */
  showPersonalData?: boolean;
  /** When the consent state is judged (a grant may have expired): default, the time of the call. */
  now?: Date;
};

/** One purpose's state, as the guardrails judge it from the ledger (`clm consent` gives the records behind it). */
function consentText(purpose: ConsentPurpose, s: ConsentStatus): string {
  const p = printable(purpose);
  if (s.live) return `${p} may contact (granted ${s.record.at}${s.record.expiresAt ? `, until ${s.record.expiresAt}` : ''})`;
  if (s.why === 'no-record') return `${p} may not contact (only a request recorded, no grant)`;
  if (s.why === 'expired') return `${p} may not contact (the grant of ${s.record!.at} expired ${s.record!.expiresAt})`;
  return `${p} may not contact (withdrawn ${s.record!.at})`;
}

/** Control characters (CR, LF, ESC, …) shown as escapes: a producer's value cannot rewrite the operator's terminal. */
export const printable = (s: string): string =>
  s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const maskEmail = (email: string): string => {
  const at = email.lastIndexOf('@');
  return at > 0 ? `${email[0]}•••${email.slice(at)}` : '•••';
};
const maskName = (name: string): string => (name ? `${[...name][0]}•••` : '');

/** Why a send decision was what it was, in words (the ledger keeps the reason code). */
export function explainReason(reason: string | undefined, campaign?: string): string {
  if (!reason) return '';
  const cooldown = campaign && isCampaignName(campaign) ? cooldownOf(defaultSendPolicy, campaign) : undefined;
  if (reason === 'no-marketing-consent') return 'no marketing consent for email (no grant recorded, or withdrawn)';
  if (reason === 'no-email-address') return 'the profile has no email address';
  if (reason === 'unknown-customer') return 'no profile for the customer when the trigger was handled';
  if (reason === 'no-winback-permission') return 'no live winback permission in the consent ledger (never given, or withdrawn; see clm consent)';
  if (reason === 'winback-permission-expired') return 'the winback permission expired (see clm consent)';
  if (reason === 'marketing-consent-expired') return 'the marketing consent for email expired (see clm consent)';
  if (reason === 'suppressed') return 'the address is on the suppression list (it belonged to an erased customer)';
  if (reason === 'not-a-former-customer') return 'the customer has not left, or came back: no winback';
  if (reason === 'cooldown') return `cooldown: this campaign already went to the customer in the ${cooldown ?? 'cooldown'} days before`;
  if (reason === 'frequency-cap') return 'frequency cap: the customer already got the weekly maximum of marketing emails (CLM_FREQUENCY_CAP_PER_WEEK)';
  if (reason.startsWith('prefers-')) return `the customer prefers ${reason.slice('prefers-'.length)}, not email`;
  if (reason.startsWith('control')) return `${reason}: held out on purpose, to measure the campaign's effect`;
  if (reason.startsWith('global holdout')) return `${reason}: held out of all marketing on purpose, to measure its overall effect`;
  if (reason === 'erased') return "the customer's personal data was erased";
  if (reason.startsWith('suppressed-')) return `the address is suppressed (${reason.slice('suppressed-'.length)})`;
  if (reason === 'marketing-refused') return 'the customer refused marketing email: no permission request';
  if (reason === 'quiet-hours' || reason === 'preferred-hour') return `deferred to the customer's own hour (${reason})`;
  if (reason.startsWith('circuit-breaker')) return `marketing paused by the deliverability circuit breaker (${reason.slice('circuit-breaker: '.length)})`;
  if (reason.startsWith('template-error')) return `the template failed to render for this customer (${reason.slice('template-error: '.length)})`;
  return reason;
}

function profileLines(p: CustomerProfile, records: readonly ConsentRecord[], o: CustomerReportOptions): string[] {
  const show = (s: string | undefined, mask: (s: string) => string) => (s === undefined ? '—' : printable(o.showPersonalData ? s : mask(s)));
  // The current state derived from the consent ledger (not the profile's registers), as the send guardrails derive it.
  // The profile keeps each purpose's decisive ledger record (`consentState`, what the guardrails read): taken with
  // the ledger's records, so history loaded by a backfill (which folds consent into the profile) is shown too.
  const now = o.now ?? new Date();
  const all = consentHistory([...records, ...Object.values(p.consentState ?? {})]);
  const state = consentState(all);
  const purposes = [...new Set(all.map((r) => r.purpose))].sort();
  const consent = purposes.map((purpose) => consentText(purpose, consentStatus(state, purpose, now)));
  const marketing = consentStatus(state, MARKETING_EMAIL, now);
  const calls = Object.entries(p.supportCallsByReason).map(([k, v]) => `${printable(k)} ${v}`);
  const subs = Object.values(p.subscriptions).map((s) => {
    const name = printable(s.productId?.value ?? s.subscriptionId);
    const active = isActive(s);
    const c = s.cancellation;
    return active
      ? `${name} active${s.plan ? ` (${printable(s.plan.value)})` : ''}`
      : `${name} cancelled ${c?.at ?? ''}${c ? ` (winback contact ${c.value.allowWinbackContact ? 'allowed' : 'not allowed'})` : ''}`;
  });
  return [
    `  email              ${show(p.email?.value, maskEmail)}   (email marketing consent: ${marketing.live ? 'yes' : 'no'}, from the consent ledger)`,
    `  first name         ${show(p.firstName?.value, maskName)}`,
    `  preferred channel  ${printable(p.preferredChannel?.value ?? '— (email is allowed)')}`,
    `  customer type      ${printable(p.customerType?.value ?? '—')}`,
    `  consent            ${consent.length ? `from the consent ledger, now: ${consent.join('; ')}` : 'none in the consent ledger (no marketing email: consent is opt-in)'}`,
    `  events             ${p.eventCount}, first ${p.firstSeenAt ?? '—'}, last ${p.lastEventAt ?? '—'}`,
    `  orders             ${p.orderCount} (spend ${p.totalSpend}), returns ${p.returnCount}, invoices ${p.invoiceCount}, failed payments ${p.paymentFailures.length}`,
    `  support calls      ${p.supportCallCount}${calls.length ? ` (${calls.join(', ')})` : ''}`,
    `  subscriptions      ${subs.join('; ') || '—'}`,
  ];
}

/** What became of a trigger: its ledger entry, or why there is none. */
function outcomeOf(t: TriggerRecord, sends: Map<string, SendRecord>): string {
  const campaign = campaignFor({ ...t, schemaVersion: 1 } as ChurnTriggerFired);
  if (!campaign) return `no email: the action "${printable(t.action)}" has no email campaign`;
  const s = sends.get(sendIdFor(campaign, t.triggerId));
  if (!s) {
    return t.publishedAt
      ? `no ${campaign} decision recorded (campaigns has not handled it yet, or failed: see its dead-letter queue)`
      : `no ${campaign} decision: the trigger is not on the bus yet (churn-triggers publishes it on its next attempt)`;
  }
  if (s.status === 'sent') return `${campaign} sent ${s.at}, message ${printable(s.messageId ?? '?')}`;
  if (s.status === 'sending') return `${campaign} being sent (claimed ${s.at})`;
  return `${campaign} ${s.status === 'control' ? 'held back' : 'skipped'} ${s.at}: ${printable(explainReason(s.reason, s.campaign))}`;
}

export function formatCustomerReport(record: CustomerRecord, options: CustomerReportOptions = {}): string {
  const out = [`Customer ${printable(record.customerId)}`, ''];
  if (record.profile) out.push('Profile', ...profileLines(record.profile, record.consent ?? [], options));
  else out.push('Profile', '  none: the stack has stored no event for this customer id (ids are case-sensitive)');

  const sends = new Map(record.sends.map((s) => [s.sendId, s]));
  const triggers = [...record.triggers].sort((a, b) => b.firedAt.localeCompare(a.firedAt));
  out.push('', `Triggers (${triggers.length}, newest first)`);
  if (!triggers.length) out.push('  none fired (only events of the last 14 days fire triggers)');
  for (const t of triggers) {
    out.push(
      `  ${t.firedAt}  ${printable(t.rule)} (${printable(t.kind)}) → ${printable(t.action)}   ${t.reasons.map((r) => printable(r)).join('; ')}`,
      `      ${outcomeOf(t, sends)}`,
    );
  }

  const ledger = [...record.sends].sort((a, b) => b.at.localeCompare(a.at));
  out.push('', `Send ledger (${ledger.length}, newest first)`);
  if (!ledger.length) out.push('  empty: no email was sent, held back or skipped for this customer');
  for (const s of ledger) {
    const why = s.status === 'sent' ? `message ${printable(s.messageId ?? '?')}` : printable(explainReason(s.reason, s.campaign));
    out.push(`  ${s.at}  ${s.status.padEnd(8)} ${printable(s.campaign).padEnd(22)} ${why}`, `      ${printable(s.sendId)}${s.publishedAt ? '' : '  (outcome not yet on the bus)'}`);
  }
  return `${out.join('\n')}\n`;
}
