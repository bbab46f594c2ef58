/**
 * Turn one campaign request (a churn trigger, the nightly next best action, a stored
 * business event, a deferred send whose time has come) into at most one email. The ledger
 * entry is claimed before SES is called and completed after, so a redelivered request
 * never sends twice, and a failed send is released for the retry (never lost). A send
 * that may not go now is recorded `deferred` and handed to the durable timer, which asks
 * again at its time: every guardrail (consent, suppression, caps) is checked again then.
 * The outcome event (EmailSent / EmailSkipped) is published from the ledger entry and
 * marked, so a failed publish is made good by the redelivery.
 */
import type { ChurnTriggerFired } from '../events/catalog.ts';
import type { ClaimResult, CustomerStore, EventPublisher, Mailer, SendRecord } from '../ports.ts';
import type { CustomerProfile } from '../customers/profile.ts';
import { cooldownOf, defaultSendPolicy, planSend, type SendPlan, type SendPolicy } from './guardrails.ts';
import { composeEmail, unsignedLinks, type LinkSettings, type PersonalLinks } from './messages.ts';
import { requestFromTrigger, type CampaignRequest } from './requests.ts';
import { defaultCatalog, type CampaignCatalog } from './catalog.ts';
import type { DeliverabilityFigures } from './circuit-breaker.ts';
import type { TemplateRenderer } from './templates.ts';
import { defaults } from '../defaults.ts';

export type CampaignOutcome =
  | { outcome: 'sent'; sendId: string; messageId: string }
  | { outcome: 'control' | 'skipped'; sendId: string; reason: string }
  /** Not now: recorded `deferred` until `until` (the customer's hour, or the circuit breaker's pause), planned again then. */
  | { outcome: 'deferred'; sendId: string; reason: string; until: string }
  | { outcome: 'already-done'; sendId: string }
  | { outcome: 'not-a-campaign' }
  /** The trigger is not one this stack recorded (forged, or another stack's): nothing is sent or recorded. */
  | { outcome: 'unknown-trigger' };

export class SendInProgressError extends Error {
  override name = 'SendInProgressError';
}

/** Where a deferred send waits for its time (a durable timer; the sweeper hands the request back). */
export type DeferredSends = { defer(request: CampaignRequest, until: Date): Promise<void> };

/** Deliverability over the circuit breaker's window (sends, bounces, complaints counted per hour). */
export type DeliverabilityCounter = { figures(now: Date, windowHours: number): Promise<DeliverabilityFigures> };

export type CampaignDeps = {
  store: CustomerStore;
  mailer: Mailer;
  publisher: EventPublisher;
  now: () => Date;
  links: LinkSettings;
  /** The personal links (signed page tokens); default: unsigned tokens on `links`. */
  personalLinks?: PersonalLinks;
  policy?: SendPolicy;
  leaseSeconds?: number;
  /** The templates (templates/); default: the repository's, loaded once. */
  renderer?: TemplateRenderer;
  catalog?: CampaignCatalog;
  deferred?: DeferredSends;
  deliverability?: DeliverabilityCounter;
};
type Deps = CampaignDeps;

const DAY_MS = 86_400_000;
/** Decisions taken again when other sends of the customer are claimed meanwhile. */
const MAX_DECISIONS = 5;

let repoRenderer: TemplateRenderer | undefined;
/** The repository's templates, loaded on first use (node:fs; the Lambda bundle carries a copy). */
async function defaultRenderer(): Promise<TemplateRenderer> {
  if (!repoRenderer) {
    const [{ loadTemplateSet }, { TemplateRenderer }] = await Promise.all([import('./template-files.ts'), import('./templates.ts')]);
    repoRenderer = new TemplateRenderer(loadTemplateSet());
  }
  return repoRenderer;
}

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
  const [known, profile] = await Promise.all([
    deps.store.getTrigger(trigger.customerId, trigger.triggerId),
    deps.store.getProfile(trigger.customerId),
  ]);
  if (!known) return { outcome: 'unknown-trigger' };
  const request = requestFromTrigger(trigger);
  if (!request) return { outcome: 'not-a-campaign' };
  return handleRequest(request, deps, profile);
}

/** Plans, claims and sends (or records why not) one campaign request. */
export async function handleRequest(request: CampaignRequest, deps: Deps, knownProfile?: CustomerProfile): Promise<CampaignOutcome> {
  const policy = deps.policy ?? defaultSendPolicy;
  const catalog = deps.catalog ?? defaultCatalog;
  const now = deps.now();
  const lookback = Math.max(7, ...Object.values(policy.cooldownDays), cooldownOf(policy, request.campaign, catalog));
  const [profile, deliverability] = await Promise.all([
    knownProfile ?? deps.store.getProfile(request.customerId),
    policy.breaker && deps.deliverability && catalog.campaigns[request.campaign].purpose === 'marketing'
      ? deps.deliverability.figures(now, policy.breaker.windowHours)
      : undefined,
  ]);

  // Decide on the customer's ledger as read, and claim only if no other send was claimed since;
  // otherwise decide again on the new ledger (the caps may now say no).
  const decide = async (): Promise<{ plan: SendPlan; claim: ClaimResult }> => {
    for (let attempt = 0; attempt < MAX_DECISIONS; attempt++) {
      const { records, ledgerVersion } = await deps.store.recentSends(request.customerId, new Date(now.getTime() - lookback * DAY_MS));
      const plan = planSend({ request, profile, recentSends: records, now, policy, catalog, deliverability, canDefer: deps.deferred !== undefined })!;
      const claim = await deps.store.claimSend(
        { sendId: plan.sendId, customerId: request.customerId, campaign: plan.campaign },
        now,
        deps.leaseSeconds ?? defaults.sendLeaseSeconds,
        ledgerVersion,
      );
      if (claim.state !== 'stale') return { plan, claim };
    }
    throw new SendInProgressError("the customer's sends kept changing; retry later");
  };
  const { plan, claim } = await decide();
  if (claim.state === 'done') {
    await publishOutcome(claim.record, deps);
    return { outcome: 'already-done', sendId: plan.sendId };
  }
  if (claim.state === 'busy') throw new SendInProgressError(`send ${plan.sendId} is being handled by another worker; retry later`);

  const base = { sendId: plan.sendId, customerId: request.customerId, campaign: plan.campaign };
  const finish = async (record: SendRecord): Promise<void> => {
    await deps.store.completeSend(record);
    await publishOutcome(record, deps);
  };
  if (plan.decision === 'defer') {
    // The timer first: if it cannot be set, the claim is released and the request retried (never dropped).
    try {
      if (deps.deferred) await deps.deferred.defer(request, new Date(plan.until));
    } catch (e) {
      await deps.store.releaseSend(request.customerId, plan.sendId);
      throw e;
    }
    await deps.store.completeSend({ ...base, status: 'deferred', at: deps.now().toISOString(), reason: plan.reason, deferredUntil: plan.until });
    return { outcome: 'deferred', sendId: plan.sendId, reason: plan.reason, until: plan.until };
  }
  if (plan.decision !== 'send') {
    await finish({ ...base, status: plan.decision === 'control' ? 'control' : 'skipped', at: deps.now().toISOString(), reason: plan.reason });
    return { outcome: plan.decision === 'control' ? 'control' : 'skipped', sendId: plan.sendId, reason: plan.reason };
  }

  const composed = composeEmail({
    request,
    profile: profile!,
    sendId: plan.sendId,
    catalog,
    renderer: deps.renderer ?? (await defaultRenderer()),
    links: deps.personalLinks ?? unsignedLinks(deps.links),
  });
  if (!composed.ok) {
    // A template that does not render for this customer: recorded with why, never sent.
    const reason = `template-error: ${composed.error}`;
    await finish({ ...base, status: 'skipped', at: deps.now().toISOString(), reason });
    return { outcome: 'skipped', sendId: plan.sendId, reason };
  }
  let messageId: string;
  try {
    ({ messageId } = await deps.mailer.send({ to: plan.to, message: composed.message }));
  } catch (e) {
    await deps.store.releaseSend(request.customerId, plan.sendId);
    throw e;
  }
  await finish({ ...base, status: 'sent', at: deps.now().toISOString(), messageId });
  return { outcome: 'sent', sendId: plan.sendId, messageId };
}
