/**
 * Send guardrails: whether a churn trigger becomes an email, is held back as
 * a control, or is skipped, and why. Pure: the caller supplies the profile,
 * the customer's recent sends from the ledger, the clock and the policy.
 */
import type { ChurnTriggerFired } from '../events/catalog.ts';
import { type CustomerProfile } from '../customers/profile.ts';
import { contactPermission } from '../consent/permission.ts';
import { isAssigned } from '../experiments/assignment.ts';
import { defaults } from '../defaults.ts';
import type { SendRecord } from '../ports.ts';

export type CampaignName = 'retention-save' | 'winback-counter-offer' | 'winback-sequence';

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
  /** The same campaign goes to a customer at most once in this many days. */
  cooldownDays: Record<CampaignName, number>;
};

export const defaultSendPolicy: SendPolicy = {
  controlGroupPercent: defaults.controlGroupPercent,
  controlGroupExperiment: defaults.controlGroupExperiment,
  frequencyCapPerWeek: defaults.frequencyCapPerWeek,
  cooldownDays: { ...defaults.cooldownDays },
};

export type SendPlan =
  | { decision: 'send'; campaign: CampaignName; sendId: string; to: string }
  | { decision: 'control'; campaign: CampaignName; sendId: string; reason: string }
  | { decision: 'skip'; campaign: CampaignName; sendId: string; reason: string };

const DAY_MS = 86_400_000;

export function campaignFor(trigger: ChurnTriggerFired): CampaignName | undefined {
  switch (trigger.action) {
    case 'retention-save':
      return 'retention-save';
    case 'winback':
      // The winback sequence's steps (shared/winback/) are their own campaign, with their own cooldown.
      return trigger.rule === 'winback-sequence' ? 'winback-sequence' : 'winback-counter-offer';
    default:
      return undefined;
  }
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

export function planSend(input: {
  trigger: ChurnTriggerFired;
  profile: CustomerProfile | undefined;
  recentSends: SendRecord[];
  now: Date;
  policy?: SendPolicy;
  /** The address is on the suppression list (an erased customer's, shared/privacy/erasure.ts). */
  suppressed?: boolean;
}): SendPlan | undefined {
  const { trigger, profile, recentSends, now } = input;
  const policy = input.policy ?? defaultSendPolicy;
  const campaign = campaignFor(trigger);
  if (!campaign) return undefined;
  const sendId = sendIdFor(campaign, trigger.triggerId);
  const skip = (reason: string): SendPlan => ({ decision: 'skip', campaign, sendId, reason });

  if (!profile) return skip('unknown-customer');
  const to = profile.email?.value;
  if (!to) return skip('no-email-address');
  if (input.suppressed) return skip('suppressed');
  // The consent ledger decides (shared/consent/permission.ts): only a live grant for each purpose the email serves.
  const refused = contactPermission(profile, campaign === 'retention-save' ? 'marketing-email' : 'winback-email', now);
  if (refused) return skip(refused);
  const channel = profile.preferredChannel?.value;
  if (channel && channel !== 'email') return skip(`prefers-${channel}`);

  const nowMs = now.getTime();
  const cooldownFrom = new Date(nowMs - policy.cooldownDays[campaign] * DAY_MS).toISOString();
  const others = recentSends.filter((s) => s.sendId !== sendId);
  // A claim in flight ('sending') counts as sent: it is about to be.
  const cooling = policy.cooldownDays[campaign] > 0;
  if (cooling && others.some((s) => s.campaign === campaign && s.status !== 'skipped' && s.at >= cooldownFrom)) {
    return skip('cooldown');
  }
  const weekFrom = new Date(nowMs - 7 * DAY_MS).toISOString();
  const lastWeek = others.filter((s) => (s.status === 'sent' || s.status === 'sending') && s.at >= weekFrom).length;
  if (lastWeek >= policy.frequencyCapPerWeek) return skip('frequency-cap');

  if (inControlGroup(profile.customerId, campaign, policy.controlGroupPercent, policy.controlGroupExperiment)) {
    return { decision: 'control', campaign, sendId, reason: `control group (${policy.controlGroupPercent}%)` };
  }
  return { decision: 'send', campaign, sendId, to };
}
