/**
 * Turn one churn trigger into at most one email. The ledger entry is claimed
 * before SES is called and completed after, so a redelivered trigger never
 * sends twice, and a failed send is released for the retry (never lost).
 */
import type { ChurnTriggerFired } from '../events/catalog.ts';
import type { CustomerStore, EventPublisher, Mailer } from '../ports.ts';
import { defaultSendPolicy, planSend, type SendPolicy, type SendRecord } from './guardrails.ts';
import { renderEmail, type LinkSettings } from './messages.ts';

export type CampaignOutcome =
  | { outcome: 'sent'; sendId: string; messageId: string }
  | { outcome: 'control' | 'skipped'; sendId: string; reason: string }
  | { outcome: 'already-done'; sendId: string }
  | { outcome: 'not-a-campaign' };

export class SendInProgressError extends Error {
  override name = 'SendInProgressError';
}

const DAY_MS = 86_400_000;

export async function sendCampaign(
  trigger: ChurnTriggerFired,
  deps: {
    store: CustomerStore;
    mailer: Mailer;
    publisher: EventPublisher;
    now: () => Date;
    links: LinkSettings;
    policy?: SendPolicy;
    leaseSeconds?: number;
  },
): Promise<CampaignOutcome> {
  const policy = deps.policy ?? defaultSendPolicy;
  const now = deps.now();
  const lookback = Math.max(7, ...Object.values(policy.cooldownDays));
  const [profile, recentSends] = await Promise.all([
    deps.store.getProfile(trigger.customerId),
    deps.store.recentSends(trigger.customerId, new Date(now.getTime() - lookback * DAY_MS)),
  ]);
  const plan = planSend({ trigger, profile, recentSends, now, policy });
  if (!plan) return { outcome: 'not-a-campaign' };

  const claim = await deps.store.claimSend(
    { sendId: plan.sendId, customerId: trigger.customerId, campaign: plan.campaign },
    now,
    deps.leaseSeconds ?? 120,
  );
  if (claim === 'done') return { outcome: 'already-done', sendId: plan.sendId };
  if (claim === 'busy') throw new SendInProgressError(`send ${plan.sendId} is being handled by another worker; retry later`);

  const base = { sendId: plan.sendId, customerId: trigger.customerId, campaign: plan.campaign };
  if (plan.decision !== 'send') {
    const status = plan.decision === 'control' ? 'control' : 'skipped';
    const record: SendRecord = { ...base, status, at: deps.now().toISOString(), reason: plan.reason };
    await deps.store.completeSend(record);
    await deps.publisher.publish([
      { detailType: 'EmailSkipped', detail: { ...base, reason: plan.reason, skippedAt: record.at, schemaVersion: 1 } },
    ]);
    return { outcome: status === 'control' ? 'control' : 'skipped', sendId: plan.sendId, reason: plan.reason };
  }

  const message = renderEmail({ campaign: plan.campaign, trigger, profile: profile!, sendId: plan.sendId, links: deps.links });
  let messageId: string;
  try {
    ({ messageId } = await deps.mailer.send({ to: plan.to, message }));
  } catch (e) {
    await deps.store.releaseSend(trigger.customerId, plan.sendId);
    throw e;
  }
  const sentAt = deps.now().toISOString();
  await deps.store.completeSend({ ...base, status: 'sent', at: sentAt, messageId });
  await deps.publisher.publish([
    { detailType: 'EmailSent', detail: { ...base, templateId: plan.campaign, messageId, sentAt, schemaVersion: 1 } },
  ]);
  return { outcome: 'sent', sendId: plan.sendId, messageId };
}
