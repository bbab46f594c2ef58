/**
 * The words of each winback counter-offer (the `winback-sequence` campaign's email): by the offer
 * family the sequence chose from the leaving reason (shared/winback/sequence.ts), premium for a
 * high-value former customer. Pure. The offer travels in the trigger's first reason
 * (`winback step N: offer <id>`), so the campaigns function needs nothing else to render it.
 */
import type { ChurnTriggerFired } from '../events/catalog.ts';
import { offerByReason } from './sequence.ts';

/** The offer id a winback-sequence trigger carries, if any. */
export function offerOf(trigger: Pick<ChurnTriggerFired, 'reasons'>): string | undefined {
  return /offer ([a-z0-9-]+)$/.exec(trigger.reasons[0] ?? '')?.[1];
}

const families: Record<string, { subject: string; offer: string; premium: string }> = {
  'price-discount': { subject: 'a better price is waiting', offer: 'Come back and your first three months are at half price.', premium: 'Come back and your first six months are at half price.' },
  'service-promise': { subject: 'we have raised our game', offer: 'We have changed how we look after customers; come back and a named adviser is yours.', premium: 'Come back and your own account manager will call you first.' },
  'network-fix-news': { subject: 'the network has been fixed', offer: 'We have upgraded the network where you live. Come back and try it free for a month.', premium: 'We have upgraded the network where you live. Come back and try it free for two months.' },
  'billing-credit': { subject: 'simpler bills, and a credit', offer: 'Our bills are simpler now, and we will credit your first month if you come back.', premium: 'Our bills are simpler now, and we will credit your first two months if you come back.' },
  'new-address-check': { subject: 'are we at your new address?', offer: 'We may now serve your new address. Check it in a minute and your first month is free.', premium: 'We may now serve your new address; we will set it up for you and your first two months are free.' },
  'price-match': { subject: 'we will match their price', offer: 'Show us your current price and we will match it for a year.', premium: 'Show us your current price and we will beat it for a year.' },
  'flexible-plan': { subject: 'a plan that fits, with no commitment', offer: 'Our new monthly plan has no commitment; pause or stop whenever you like.', premium: 'Our new monthly plan has no commitment, and your first three months are free.' },
  'welcome-back': { subject: 'we would love to have you back', offer: 'If you would like to give us another try, your first month is free.', premium: 'If you would like to give us another try, your first three months are free.' },
};

/** Subject and lines of a winback counter-offer email. */
export function offerCopy(name: string, trigger: Pick<ChurnTriggerFired, 'reasons'>): { subject: string; lines: string[] } {
  const offer = offerOf(trigger) ?? offerByReason.unknown;
  const family = Object.keys(families).find((f) => offer.startsWith(f)) ?? 'welcome-back';
  const words = families[family]!;
  return {
    subject: `${name}, ${words.subject}`,
    lines: [`Hi ${name},`, 'When you left, you said we could get in touch.', offer.includes('-premium') ? words.premium : words.offer],
  };
}
