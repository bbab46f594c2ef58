/**
 * The offer of a winback step, as the campaigns function reads it from the trigger: the sequence
 * (shared/winback/track.ts) puts it in the trigger's first reason (`winback step N: offer <id>`),
 * `<id>` being the reason's offer family, `-premium` for a high-value former customer, and the
 * step (shared/winback/sequence.ts `offerFor`). The words of each offer are configuration, in
 * templates/campaigns.json (`winback-<family>[-premium]`, campaign `winback-sequence`). Pure.
 */
import type { ChurnTriggerFired } from '../events/catalog.ts';

/** The rule of the churn triggers a winback step fires (the `winback-sequence` campaign's). */
export const WINBACK_SEQUENCE_RULE = 'winback-sequence';

/** The offer id a winback-sequence trigger carries, if any (with its step). */
export function offerOf(trigger: Pick<ChurnTriggerFired, 'reasons'>): string | undefined {
  return /offer ([a-z0-9-]+)$/.exec(trigger.reasons[0] ?? '')?.[1];
}

/** The catalog's offer of a winback step's trigger (`winback-<family>[-premium]`), if it carries one. */
export function winbackOfferOf(trigger: Pick<ChurnTriggerFired, 'reasons'>): string | undefined {
  const offer = offerOf(trigger);
  return offer ? `winback-${offer.replace(/-\d+$/, '')}` : undefined;
}
