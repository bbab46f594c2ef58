/**
 * Turn one churn trigger into at most one email. The ledger entry is claimed
 * before SES is called and completed after, so a redelivered trigger never
 * sends twice, and a failed send is released for the retry (never lost). The
 * outcome event (EmailSent / EmailSkipped) is published from the ledger entry
 * and marked, so a failed publish is made good by the redelivery.
 */
import type { ChurnTriggerFired } from '../events/catalog.ts';
import type { ClaimResult, CustomerStore, EventPublisher, Mailer, PrivacyStore, SendRecord } from '../ports.ts';
import { isSuppressed } from '../privacy/erasure.ts';
import { defaultSendPolicy, planSend, type SendPlan, type SendPolicy } from './guardrails.ts';
import { renderEmail, type LinkSettings } from './messages.ts';
import { defaults } from '../defaults.ts';

export type CampaignOutcome =
  | { outcome: 'sent'; sendId: string; messageId: string }
  | { outcome: 'control' | 'skipped'; sendId: string; reason: string }
  | { outcome: 'already-done'; sendId: string }
  | { outcome: 'not-a-campaign' }
  /** The trigger is not one this stack recorded (forged, or another stack's): nothing is sent or recorded. */
  | { outcome: 'unknown-trigger' };

export class SendInProgressError extends Error {
  override name = 'SendInProgressError';
}

type Deps = {
  store: CustomerStore;
  mailer: Mailer;
  publisher: EventPublisher;
  now: () => Date;
  links: LinkSettings;
  policy?: SendPolicy;
  leaseSeconds?: number;
  /** The suppression list of erased customers' addresses; without it, none is checked. */
  privacy?: PrivacyStore;
};

const DAY_MS = 86_400_000;
/** Decisions taken again when other sends of the customer are claimed meanwhile. */
const MAX_DECISIONS = 5;

/** Puts the outcome of a completed ledger entry on the bus once. */
async function publishOutcome(record: SendRecord, deps: Deps): Promise<void> {
  if (record.publishedAt) return;
  const base = { sendId: record.sendId, customerId: record.customerId, campaign: record.campaign, schemaVersion: 1 as const };
  if (record.status === 'sent') {
    await deps.publisher.publish([
      { detailType: 'EmailSent', detail: { ...base, templateId: record.campaign, messageId: record.messageId ?? '', sentAt: record.at } },
    ]);
  } else if (record.status === 'skipped' || record.status === 'control') {
    await deps.publisher.publish([{ detailType: 'EmailSkipped', detail: { ...base, reason: record.reason ?? record.status, skippedAt: record.at } }]);
  } else return;
  await deps.store.markPublished(record.customerId, { kind: 'send', sendId: record.sendId }, deps.now());
}

export async function sendCampaign(trigger: ChurnTriggerFired, deps: Deps): Promise<CampaignOutcome> {
  const policy = deps.policy ?? defaultSendPolicy;
  const now = deps.now();
  const lookback = Math.max(7, ...Object.values(policy.cooldownDays));
  const [known, profile] = await Promise.all([
    deps.store.getTrigger(trigger.customerId, trigger.triggerId),
    deps.store.getProfile(trigger.customerId),
  ]);
  if (!known) return { outcome: 'unknown-trigger' };
  const email = profile?.email?.value;
  const suppressed = email !== undefined && deps.privacy !== undefined && (await isSuppressed(email, deps.privacy));

  // Decide on the customer's ledger as read, and claim only if no other send was claimed since;
  // otherwise decide again on the new ledger (the caps may now say no).
  const decide = async (): Promise<{ plan: SendPlan; claim: ClaimResult } | undefined> => {
    for (let attempt = 0; attempt < MAX_DECISIONS; attempt++) {
      const { records, ledgerVersion } = await deps.store.recentSends(trigger.customerId, new Date(now.getTime() - lookback * DAY_MS));
      const plan = planSend({ trigger, profile, recentSends: records, now, policy, suppressed });
      if (!plan) return undefined;
      const claim = await deps.store.claimSend(
        { sendId: plan.sendId, customerId: trigger.customerId, campaign: plan.campaign },
        now,
        deps.leaseSeconds ?? defaults.sendLeaseSeconds,
        ledgerVersion,
      );
      if (claim.state !== 'stale') return { plan, claim };
    }
    throw new SendInProgressError("the customer's sends kept changing; retry later");
  };
  const decided = await decide();
  if (!decided) return { outcome: 'not-a-campaign' };
  const { plan, claim } = decided;
  if (claim.state === 'done') {
    await publishOutcome(claim.record, deps);
    return { outcome: 'already-done', sendId: plan.sendId };
  }
  if (claim.state === 'busy') throw new SendInProgressError(`send ${plan.sendId} is being handled by another worker; retry later`);

  const base = { sendId: plan.sendId, customerId: trigger.customerId, campaign: plan.campaign };
  if (plan.decision !== 'send') {
    const record: SendRecord = { ...base, status: plan.decision === 'control' ? 'control' : 'skipped', at: deps.now().toISOString(), reason: plan.reason };
    await deps.store.completeSend(record);
    await publishOutcome(record, deps);
    return { outcome: plan.decision === 'control' ? 'control' : 'skipped', sendId: plan.sendId, reason: plan.reason };
  }

  const message = renderEmail({ campaign: plan.campaign, trigger, profile: profile!, sendId: plan.sendId, links: deps.links });
  let messageId: string;
  try {
    ({ messageId } = await deps.mailer.send({ to: plan.to, message }));
  } catch (e) {
    await deps.store.releaseSend(trigger.customerId, plan.sendId);
    throw e;
  }
  const record: SendRecord = { ...base, status: 'sent', at: deps.now().toISOString(), messageId };
  await deps.store.completeSend(record);
  await publishOutcome(record, deps);
  return { outcome: 'sent', sendId: plan.sendId, messageId };
}
