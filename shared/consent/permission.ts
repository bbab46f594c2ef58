/**
 * Whether the stack may contact a customer for a purpose now, from the consent ledger's state
 * on her profile. Pure. The send guardrails (shared/campaigns/guardrails.ts) and the winback
 * sequence ask this and nothing else, so nobody is contacted for a purpose whose latest
 * record is not a live grant.
 */
import { formerCustomerSince, type CustomerProfile } from '../customers/profile.ts';
import { MARKETING_EMAIL, WINBACK, consentStatus } from './ledger.ts';

/**
 * What an email is sent for: marketing (a live `marketing:email` grant), or winback (a live
 * `winback` grant as well, for a customer who has left and not come back).
 */
export type ContactKind = 'marketing-email' | 'winback-email';

/** Undefined when the contact is allowed; otherwise why not (a skip reason). */
export function contactPermission(profile: CustomerProfile, kind: ContactKind, now: Date): string | undefined {
  const marketing = consentStatus(profile.consentState, MARKETING_EMAIL, now);
  if (!marketing.live) return marketing.why === 'expired' ? 'marketing-consent-expired' : 'no-marketing-consent';
  if (kind === 'winback-email') {
    const winback = consentStatus(profile.consentState, WINBACK, now);
    if (!winback.live) return winback.why === 'expired' ? 'winback-permission-expired' : 'no-winback-permission';
    // Came back (a start after every end), or never left: no winback.
    if (formerCustomerSince(profile) === undefined) return 'not-a-former-customer';
  }
  return undefined;
}
