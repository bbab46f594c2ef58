/**
 * Send guardrails, in one place, before every send: whether a campaign request (a churn
 * trigger, the nightly next best action, a statement…) becomes an email now, is deferred
 * to the customer's own hour, is held back (global holdout, control group), or is skipped,
 * and why. Pure: the caller supplies the profile, the customer's recent sends from the
 * ledger, the clock, the deliverability figures and the policy. The order of the checks is
 * docs/campaigns.md's "Guardrails" table.
 */
import type { ChurnTriggerFired } from '../events/catalog.ts';
import { emailSuppressed, type CustomerProfile } from '../customers/profile.ts';
import { contactPermission } from '../consent/permission.ts';
import { WINBACK_SEQUENCE_RULE } from '../winback/offer-copy.ts';
import { isAssigned } from '../experiments/assignment.ts';
import { defaults } from '../defaults.ts';
import type { SendRecord } from '../ports.ts';
import { campaignOfAction, defaultCatalog, type CampaignCatalog, type CampaignName, type Purpose } from './catalog.ts';
import type { CampaignRequest } from './requests.ts';
import { nextAllowedTime, type QuietHours } from './send-time.ts';
import { breakerState, type BreakerPolicy, type DeliverabilityFigures } from './circuit-breaker.ts';

export type { CampaignName } from './catalog.ts';

export type SendPolicy = {
  /** Share of eligible customers held out as a control group, per campaign, in percent. */
  controlGroupPercent: number;
  /**
   * Names the control-group experiment: with the campaign, it salts the
   * assignment. Change it (e.g. `v2`) to draw a new control group.
   */
  controlGroupExperiment: string;
  /** At most this many marketing emails per customer in any 7 days. */
  frequencyCapPerWeek: number;
  /** The same campaign goes to a customer at most once in this many days; campaigns not named here take the catalog's. */
  cooldownDays: Partial<Record<CampaignName, number>>;
  /** Share of all customers held out of every marketing email (the global holdout), in percent; unset: 0. */
  holdoutPercent?: number;
  /** Names the global holdout draw (salts it); a new name draws a new group. */
  holdoutExperiment?: string;
  /** Local hours (customer's time zone) in which no email goes; unset: none. */
  quietHours?: QuietHours;
  /** When marketing pauses for deliverability; unset: never. */
  breaker?: BreakerPolicy;
};

export const defaultSendPolicy: SendPolicy = {
  controlGroupPercent: defaults.controlGroupPercent,
  controlGroupExperiment: defaults.controlGroupExperiment,
  frequencyCapPerWeek: defaults.frequencyCapPerWeek,
  cooldownDays: { ...defaults.cooldownDays },
  holdoutPercent: defaults.holdoutPercent,
  holdoutExperiment: defaults.holdoutExperiment,
  quietHours: { ...defaults.quietHours },
  breaker: { ...defaults.circuitBreaker },
};

export type SendPlan =
  | { decision: 'send'; campaign: CampaignName; sendId: string; to: string }
  | { decision: 'control'; campaign: CampaignName; sendId: string; reason: string }
  | { decision: 'skip'; campaign: CampaignName; sendId: string; reason: string }
  /** Not now: planned again at `until` (the customer's hour, or when the circuit breaker may close). Never dropped. */
  | { decision: 'defer'; campaign: CampaignName; sendId: string; reason: string; until: string };

const DAY_MS = 86_400_000;

/** The campaign a churn trigger's recommended action becomes (none for `none`). */
export function campaignFor(trigger: ChurnTriggerFired): CampaignName | undefined {
  // A step of the winback sequence (shared/winback/) is its own campaign, with its own cooldown.
  if (trigger.action === 'winback' && trigger.rule === WINBACK_SEQUENCE_RULE) return 'winback-sequence';
  return campaignOfAction[trigger.action];
}

/** The ledger id of the email a trigger may cause: one per campaign and trigger, so redelivery cannot send twice. */
export const sendIdFor = (campaign: string, triggerId: string): string => `${campaign}#${triggerId}`;

/** The assignment salt of a campaign's control group in one experiment. */
export const controlGroupSalt = (campaign: string, experiment: string): string => `control-group/${campaign}/${experiment}`;

/**
 * Deterministic control-group membership: the same customer is in the same
 * group of a campaign's experiment every time; a new experiment reshuffles.
 * See shared/experiments/assignment.ts.
 */
export function inControlGroup(
  customerId: string,
  campaign: string,
  percent: number,
  experiment: string = defaultSendPolicy.controlGroupExperiment,
): boolean {
  return isAssigned(customerId, controlGroupSalt(campaign, experiment), percent);
}

/** The assignment salt of the global holdout in one experiment. */
export const holdoutSalt = (experiment: string): string => `global-holdout/${experiment}`;

/** Global holdout membership: the same customers are held out of every marketing campaign of the experiment. */
export function inGlobalHoldout(customerId: string, percent: number, experiment: string = defaults.holdoutExperiment): boolean {
  return percent > 0 && isAssigned(customerId, holdoutSalt(experiment), percent);
}

/** The cooldown of a campaign under a policy: the policy's, else the catalog's. */
export const cooldownOf = (policy: SendPolicy, campaign: CampaignName, catalog: CampaignCatalog = defaultCatalog): number =>
  policy.cooldownDays[campaign] ?? catalog.campaigns[campaign].cooldownDays;

/** The purpose of a ledger entry's campaign (a name the catalog no longer has counts as marketing). */
const purposeOf = (campaign: string, catalog: CampaignCatalog): Purpose =>
  (catalog.campaigns as Record<string, { purpose: Purpose } | undefined>)[campaign]?.purpose ?? 'marketing';

/** Ledger statuses that stand for an email that went, or is going, out. */
const wentOut = (s: SendRecord): boolean => s.status === 'sent' || s.status === 'sending' || s.status === 'submitted';

export function planSend(input: {
  /** The request to plan; a churn trigger is the request of its recommended campaign. */
  request?: CampaignRequest;
  trigger?: ChurnTriggerFired;
  profile: CustomerProfile | undefined;
  recentSends: SendRecord[];
  now: Date;
  policy?: SendPolicy;
  catalog?: CampaignCatalog;
  /** Bounces and complaints over the breaker's window; unknown: the breaker stays closed. */
  deliverability?: DeliverabilityFigures;
  /**
   * Whether the caller can defer (it has a durable timer to plan the send again). Without
   * one, the customer's hour is not applied: a send is never held where nothing would wake it.
   */
  canDefer?: boolean;
  /** The address is on the suppression list (an erased customer's, shared/privacy/erasure.ts). */
  suppressed?: boolean;
}): SendPlan | undefined {
  const { profile, recentSends, now } = input;
  const policy = input.policy ?? defaultSendPolicy;
  const catalog = input.catalog ?? defaultCatalog;
  const campaign = input.request?.campaign ?? (input.trigger ? campaignFor(input.trigger) : undefined);
  if (!campaign) return undefined;
  const sendId = sendIdFor(campaign, input.request?.requestId ?? input.trigger!.triggerId);
  const purpose = catalog.campaigns[campaign].purpose;
  const marketing = purpose === 'marketing';
  const skip = (reason: string): SendPlan => ({ decision: 'skip', campaign, sendId, reason });

  if (!profile) return skip('unknown-customer');
  // Suppression first: nothing of any kind to an erased customer, a hard-bouncing address or a complainant.
  if (profile.erasedAt) return skip('erased');
  const to = profile.email?.value;
  if (!to) return skip('no-email-address');
  const suppressed = emailSuppressed(profile); // a hard bounce or complaint of this address (SES feedback)
  if (suppressed) return skip(`suppressed-${suppressed}`);
  if (input.suppressed) return skip('suppressed'); // an erased customer's address (shared/privacy/erasure.ts)
  if (marketing) {
    // The consent ledger decides (shared/consent/permission.ts): only a live grant for each purpose the email serves.
    const refused = contactPermission(profile, campaign === 'winback-counter-offer' || campaign === 'winback-sequence' ? 'winback-email' : 'marketing-email', now);
    if (refused) return skip(refused);
    const channel = profile.preferredChannel?.value;
    if (channel && channel !== 'email') return skip(`prefers-${channel}`);
  } else if (purpose === 'service' && profile.consent['email:marketing']?.value === false) {
    // The welcome asks for permission: not to someone who already said no.
    return skip('marketing-refused');
  }

  const nowMs = now.getTime();
  const cooldownDays = cooldownOf(policy, campaign, catalog);
  const cooldownFrom = new Date(nowMs - cooldownDays * DAY_MS).toISOString();
  const others = recentSends.filter((s) => s.sendId !== sendId);
  // A claim in flight ('sending') counts as sent: it is about to be. A deferral is not a send.
  if (cooldownDays > 0 && others.some((s) => s.campaign === campaign && s.status !== 'skipped' && s.status !== 'deferred' && s.at >= cooldownFrom)) {
    return skip('cooldown');
  }
  if (marketing) {
    const weekFrom = new Date(nowMs - 7 * DAY_MS).toISOString();
    const lastWeek = others.filter((s) => wentOut(s) && s.at >= weekFrom && purposeOf(s.campaign, catalog) === 'marketing').length;
    if (lastWeek >= policy.frequencyCapPerWeek) return skip('frequency-cap');

    const holdout = policy.holdoutPercent ?? 0;
    if (inGlobalHoldout(profile.customerId, holdout, policy.holdoutExperiment)) {
      return { decision: 'control', campaign, sendId, reason: `global holdout (${holdout}%)` };
    }
    if (inControlGroup(profile.customerId, campaign, policy.controlGroupPercent, policy.controlGroupExperiment)) {
      return { decision: 'control', campaign, sendId, reason: `control group (${policy.controlGroupPercent}%)` };
    }
    if (policy.breaker && input.deliverability && input.canDefer !== false) {
      const breaker = breakerState(input.deliverability, policy.breaker);
      if (breaker.open) {
        return { decision: 'defer', campaign, sendId, reason: `circuit-breaker: ${breaker.reason}`, until: new Date(nowMs + policy.breaker.pauseMinutes * 60_000).toISOString() };
      }
    }
  }

  // The customer's own time: quiet hours for every email, the preferred hour for marketing.
  if (input.canDefer === false) return { decision: 'send', campaign, sendId, to };
  const when = nextAllowedTime({
    now,
    timeZone: profile.timeZone?.value,
    quietHours: policy.quietHours,
    preferredHour: marketing ? profile.preferredHour?.value : undefined,
  });
  if (when.getTime() > nowMs) {
    const reason = marketing && profile.preferredHour !== undefined ? 'preferred-hour' : 'quiet-hours';
    return { decision: 'defer', campaign, sendId, reason, until: when.toISOString() };
  }
  return { decision: 'send', campaign, sendId, to };
}
