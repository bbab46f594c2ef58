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
import { createHash } from 'node:crypto';
import { recordOwnEvent } from '../events/record-own-event.ts';
import type { ConsentPolicy } from '../consent/ledger.ts';
import { SendOutcomeUnknownError, type ClaimResult, type ConsentLedger, type CustomerStore, type EventPublisher, type Mailer, type PrivacyStore, type SendRecord } from '../ports.ts';
import type { CustomerProfile } from '../customers/profile.ts';
import { cooldownOf, defaultSendPolicy, planSend, type SendPlan, type SendPolicy } from './guardrails.ts';
import { composeEmail, unsignedLinks, type EmailMessage, type LinkSettings, type PersonalLinks } from './messages.ts';
import { requestFromTrigger, type CampaignRequest } from './requests.ts';
import { defaultCatalog, type CampaignCatalog, type CampaignName } from './catalog.ts';
import type { DeliverabilityFigures } from './circuit-breaker.ts';
import type { TemplateRenderer } from './templates.ts';
import { isSuppressed } from '../privacy/erasure.ts';
import { defaults } from '../defaults.ts';
import { RetryLaterError } from '../retry-later.ts';

export type CampaignOutcome =
  | { outcome: 'sent'; sendId: string; messageId: string }
  | { outcome: 'control' | 'skipped'; sendId: string; reason: string }
  /** Not now: recorded `deferred` until `until` (the customer's hour, or the circuit breaker's pause), planned again then. */
  | { outcome: 'deferred'; sendId: string; reason: string; until: string }
  | { outcome: 'already-done'; sendId: string }
  /**
   * Handed to SES by a worker that died before recording the outcome (or whose call's outcome is
   * unknown): it may have gone, so it is not sent now. SES's events of the email confirm it `sent`;
   * `until`: when it is looked at again (the reconciliation timer), and claimed again if still unconfirmed.
   */
  | { outcome: 'in-doubt'; sendId: string; until?: string }
  | { outcome: 'not-a-campaign' }
  /** The trigger is not one this stack recorded (forged, or another stack's): nothing is sent or recorded. */
  | { outcome: 'unknown-trigger' };

/** Another worker holds the send's claim (or the customer's sends kept changing): a later delivery handles it. */
export class SendInProgressError extends RetryLaterError {
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
  /** The suppression list of erased customers' addresses; without it, none is checked. */
  privacy?: PrivacyStore;
  /** Minutes after which an unconfirmed `submitted` entry is known not taken by SES (default `defaults.submittedTimeoutMinutes`). */
  submittedTimeoutMinutes?: number;
  /** The consent ledger: a welcome that went records the double opt-in's request there (and on the customer); without it, nothing. */
  consent?: ConsentLedger;
  consentPolicy?: ConsentPolicy;
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

/** The version of the welcome's double opt-in wording (templates/welcome: "confirm your subscription"), kept with the request in the consent ledger. */
export const WELCOME_OPT_IN_WORDING_VERSION = 'welcome-v1';
/** The envelope source of the events the campaigns function stores on the customer's behalf (not `clm.*`: validated as a producer's). */
export const CAMPAIGNS_EVENT_SOURCE = 'serverless-clm.campaigns';

/**
 * The first step of the double opt-in: the welcome (which asks the customer to confirm at
 * `/confirm/TOKEN`) went out. A `ConsentChanged` (marketing email, `doubleOptIn: requested`, source
 * `double-opt-in`) stored on the customer and its record appended to the consent ledger; it grants
 * nothing (the page's confirmation does). Once per send (its eventId comes from the send id).
 */
async function recordOptInRequest(record: SendRecord, deps: Deps): Promise<void> {
  if (!deps.consent || record.status !== 'sent' || (deps.catalog ?? defaultCatalog).campaigns[record.campaign as CampaignName]?.purpose !== 'service') return;
  await recordOwnEvent(deps, CAMPAIGNS_EVENT_SOURCE, 'ConsentChanged', {
    eventId: `double-opt-in-requested-${createHash('sha256').update(record.sendId, 'utf8').digest('hex').slice(0, 40)}`,
    customerId: record.customerId,
    occurredAt: record.at,
    channel: 'email',
    purpose: 'marketing',
    granted: true,
    doubleOptIn: 'requested',
    source: 'double-opt-in',
    actor: 'serverless-clm',
    wordingVersion: WELCOME_OPT_IN_WORDING_VERSION,
  });
}

/** Puts the outcome of a completed ledger entry on the bus once (after recording a welcome's opt-in request). */
async function publishOutcome(record: SendRecord, deps: Deps): Promise<void> {
  if (record.publishedAt) return;
  await recordOptInRequest(record, deps);
  const base = { sendId: record.sendId, customerId: record.customerId, campaign: record.campaign, schemaVersion: 1 as const };
  if (record.status === 'sent') {
    await deps.publisher.publish([
      { detailType: 'EmailSent', detail: { ...base, templateId: record.campaign, messageId: record.messageId ?? '', sentAt: record.at } },
    ]);
  } else if (record.status === 'skipped' || record.status === 'control' || record.status === 'parked') {
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

/** A request the guardrails let through, claimed and composed: ready for SES. */
export type ReadySend = { request: CampaignRequest; sendId: string; campaign: CampaignName; to: string; message: EmailMessage };

/**
 * Plans and claims one request, and composes its email: either the request's final outcome
 * (recorded and published: skipped, control, deferred, done before), or a `ReadySend`
 * holding its claim, for SES (one email, or an entry of a bulk send).
 */
export async function prepareRequest(request: CampaignRequest, deps: Deps, knownProfile?: CustomerProfile): Promise<CampaignOutcome | ReadySend> {
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
  const email = profile?.email?.value;
  const suppressed = email !== undefined && deps.privacy !== undefined && (await isSuppressed(email, deps.privacy));

  // Decide on the customer's ledger as read, and claim only if no other send was claimed since;
  // otherwise decide again on the new ledger (the caps may now say no).
  const decide = async (): Promise<{ plan: SendPlan; claim: ClaimResult }> => {
    for (let attempt = 0; attempt < MAX_DECISIONS; attempt++) {
      const { records, ledgerVersion } = await deps.store.recentSends(request.customerId, new Date(now.getTime() - lookback * DAY_MS));
      const plan = planSend({ request, profile, recentSends: records, now, policy, catalog, deliverability, canDefer: deps.deferred !== undefined, suppressed })!;
      const claim = await deps.store.claimSend(
        { sendId: plan.sendId, customerId: request.customerId, campaign: plan.campaign },
        now,
        deps.leaseSeconds ?? defaults.sendLeaseSeconds,
        ledgerVersion,
        { submittedTimeoutSeconds: submittedTimeoutMinutes(deps) * 60 },
      );
      if (claim.state !== 'stale') return { plan, claim };
    }
    throw new SendInProgressError("the customer's sends kept changing; retry later");
  };
  const { plan, claim } = await decide();
  if (claim.state === 'done') {
    await publishOutcome(claim.record, deps);
    if (claim.record.status === 'submitted') return reconcileLater(request, claim.record, deps);
    return { outcome: 'already-done', sendId: plan.sendId };
  }
  if (claim.state === 'busy') throw new SendInProgressError(`send ${plan.sendId} is being handled by another worker; retry later`);

  const base = { sendId: plan.sendId, customerId: request.customerId, campaign: plan.campaign };
  if (plan.decision === 'defer') return deferSend(request, base, plan.reason, plan.until, deps);
  if (plan.decision !== 'send') {
    await finish({ ...base, status: plan.decision === 'control' ? 'control' : 'skipped', at: deps.now().toISOString(), reason: plan.reason }, deps);
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
    await finish({ ...base, status: 'skipped', at: deps.now().toISOString(), reason }, deps);
    return { outcome: 'skipped', sendId: plan.sendId, reason };
  }
  return { request, sendId: plan.sendId, campaign: plan.campaign, to: plan.to, message: composed.message };
}

/** Records a completed ledger entry and publishes its outcome. */
export async function finish(record: SendRecord, deps: Deps): Promise<void> {
  await deps.store.completeSend(record);
  await publishOutcome(record, deps);
}

/**
 * Records a claimed send `deferred` and hands it to the durable timer, which plans it again at
 * `until`. The timer first: if it cannot be set, the claim is released and the error goes up, so
 * the request is retried (never dropped).
 */
export async function deferSend(request: CampaignRequest, base: { sendId: string; customerId: string; campaign: string }, reason: string, until: string, deps: Deps): Promise<CampaignOutcome> {
  try {
    if (deps.deferred) await deps.deferred.defer(request, new Date(until));
  } catch (e) {
    await deps.store.releaseSend(request.customerId, base.sendId);
    throw e;
  }
  await deps.store.completeSend({ ...base, status: 'deferred', at: deps.now().toISOString(), reason, deferredUntil: until });
  return { outcome: 'deferred', sendId: base.sendId, reason, until };
}

const submittedTimeoutMinutes = (deps: Deps): number => deps.submittedTimeoutMinutes ?? defaults.submittedTimeoutMinutes;

/**
 * A send left `submitted` (its worker died between the SES call and the record, or the call's
 * outcome is unknown): not sent now. If SES took it, its Send event (or a later one) turns the entry
 * `sent` (shared/email-feedback/record-feedback.ts). The request is looked at again through the
 * durable timer when the timeout has passed since the submission: then a confirmed entry is done
 * (its EmailSent published), and an unconfirmed one is claimed again and planned from the first
 * guardrail — SES never took it. Without a timer, only a redelivery looks at it again.
 */
export async function reconcileLater(request: CampaignRequest, record: Pick<SendRecord, 'sendId' | 'at'>, deps: Deps): Promise<CampaignOutcome> {
  if (!deps.deferred) return { outcome: 'in-doubt', sendId: record.sendId };
  // A minute past the timeout, so the claim then finds it old enough.
  const until = new Date(Date.parse(record.at) + (submittedTimeoutMinutes(deps) + 1) * 60_000);
  await deps.deferred.defer(request, until);
  return { outcome: 'in-doubt', sendId: record.sendId, until: until.toISOString() };
}

export const isReady = (x: CampaignOutcome | ReadySend): x is ReadySend => 'message' in x;

/** Plans, claims and sends (or records why not) one campaign request, as one SES SendEmail. */
export async function handleRequest(request: CampaignRequest, deps: Deps, knownProfile?: CustomerProfile): Promise<CampaignOutcome> {
  const ready = await prepareRequest(request, deps, knownProfile);
  if (!isReady(ready)) return ready;
  const base = { sendId: ready.sendId, customerId: request.customerId, campaign: ready.campaign };
  let messageId: string;
  await deps.store.markSubmitted([{ customerId: request.customerId, sendId: ready.sendId }], deps.now());
  try {
    ({ messageId } = await deps.mailer.send({ to: ready.to, message: ready.message }));
  } catch (e) {
    // SES refused it: give the claim back for the retry. Unknown whether it went: it stays `submitted`.
    if (!(e instanceof SendOutcomeUnknownError)) await deps.store.releaseSend(request.customerId, ready.sendId);
    throw e;
  }
  await finish({ ...base, status: 'sent', at: deps.now().toISOString(), messageId }, deps);
  return { outcome: 'sent', sendId: ready.sendId, messageId };
}
