/**
 * Scores one customer with the night's model record: CLV over the configured horizon
 * (discounted), P(alive), churn risk (the model's own, raised by active triggers; see
 * risk.ts), its band, the value tier from the fit step's cut points, the spend the customer
 * would bring if she stays (where an estimate exists), and the next best action from the
 * configured policy. Deterministic: everything is evaluated as of the end of the run date
 * (UTC), so a rerun of a night gives the same scores.
 *
 * Expected outcomes are values: a customer without history for her kind (no purchase for an
 * ad-hoc buyer, no subscription for a subscription customer) is `skipped`; a customer whose
 * models are missing (no fit has ever succeeded for her kind) is `unscorable`.
 */
import { adHocChurnRisk, subscriptionChurnRisk } from '../clv/churn.ts';
import type { ValueTier } from '../clv/tiers.ts';
import { type CustomerProfile, activeSubscriptions, unusedPaidProducts, winbackPermitted } from '../customers/profile.ts';
import { decliningProducts } from '../triggers/rules.ts';
import type { ScoringConfig } from './config.ts';
import { WEEKS_PER_MONTH, adHocRetainedSpend, adHocValues, subscriberClv } from './customer-value.ts';
import type { ModelRecord } from './fit.ts';
import { type NbaFacts, type NextBestAction, chooseNextBestAction } from './next-best-action.ts';
import { type AdHocSummary, type SubscriptionSummary, customerKind, summarizeProfile } from './profile-summary.ts';
import { type ActiveTrigger, type RiskBand, activeTriggers, churnRiskWithTriggers, riskBand } from './risk.ts';
import { valueTierOf } from './value-tiers.ts';

export type CustomerScore = {
  customerId: string;
  kind: 'adhoc' | 'subscription';
  /** the model record that made these values */
  modelId: string;
  scoredOn: string;
  clv: number;
  pAlive: number;
  /** the model's own churn risk, before triggers */
  modelChurnRisk: number;
  churnRisk: number;
  riskBand: RiskBand;
  valueTier: ValueTier;
  /** horizon spend if the customer stays (undiscounted, before margin); absent when no estimate exists */
  potentialSpend?: number;
  nextBestAction: NextBestAction;
  /** the policy rule that chose the action */
  nextBestActionRule: string;
  /** rules of the triggers that raised the risk */
  activeTriggerRules: string[];
};

export type ScoreOutcome =
  | { status: 'scored'; score: CustomerScore }
  | { status: 'skipped'; reason: string }
  | { status: 'unscorable'; reason: string };

export type ScoreInput = {
  profile: CustomerProfile;
  /** the customer's recorded churn triggers (any age; old ones no longer count) */
  triggers: readonly ActiveTrigger[];
  model: ModelRecord;
  /** YYYY-MM-DD: the as-of day */
  runDate: string;
  config: ScoringConfig;
};

type ModelValues = { clv: number; pAlive: number; modelRisk: number; potentialSpend?: number; active: boolean; tenureMonths: number; repeatPurchases: number };

function adHoc(s: AdHocSummary, model: ModelRecord, config: ScoringConfig): ModelValues | string {
  if (!model.bgnbd || !model.gammaGamma) return 'no BG/NBD and Gamma-Gamma model has been fitted yet';
  const bg = model.bgnbd.params;
  const v = adHocValues(bg, model.gammaGamma.params, { frequency: [s.frequency], recency: [s.recency], T: [s.T], monetary: [s.monetary] }, config.clv);
  const pAlive = v.pAlive[0]!;
  const horizon = config.churn.horizonMonths * WEEKS_PER_MONTH;
  const modelRisk = config.churn.adHocRisk === 'one-minus-p-alive' ? 1 - pAlive : adHocChurnRisk(bg, horizon, s.frequency, s.recency, s.T);
  return {
    clv: v.clv[0]!,
    pAlive,
    modelRisk,
    potentialSpend: adHocRetainedSpend(bg, s.frequency, s.T, v.expectedSpend[0]!, config.clv.months),
    active: pAlive >= config.tiers.lapsedBelow,
    tenureMonths: s.T / WEEKS_PER_MONTH,
    repeatPurchases: s.frequency,
  };
}

function subscriber(s: SubscriptionSummary, model: ModelRecord, config: ScoringConfig): ModelValues | string {
  if (!model.sbg) return 'no sBG model has been fitted yet';
  const base = { tenureMonths: s.renewals, repeatPurchases: s.renewals };
  if (!s.active) return { ...base, clv: 0, pAlive: 0, modelRisk: 1, active: false };
  const price = s.monthlyValue ?? 0;
  return {
    ...base,
    clv: subscriberClv(model.sbg.params, s.renewals, price, config.clv),
    pAlive: 1,
    modelRisk: subscriptionChurnRisk(model.sbg.params, s.renewals, config.churn.horizonMonths),
    ...(s.monthlyValue !== undefined && { potentialSpend: s.monthlyValue * config.clv.months }),
    active: true,
  };
}

/** Distinct products the customer uses or subscribes to. */
function productCount(profile: CustomerProfile): number {
  const ids = new Set(Object.keys(profile.adoptedProducts));
  for (const s of activeSubscriptions(profile)) if (s.productId) ids.add(s.productId.value);
  return ids.size;
}

export function scoreCustomer(input: ScoreInput): ScoreOutcome {
  const { profile, model, runDate, config } = input;
  const summary = summarizeProfile(profile, runDate);
  if (summary.kind === 'none') return { status: 'skipped', reason: customerKind(profile) === 'subscription' ? 'no subscription yet' : 'no purchase yet' };
  const values = summary.kind === 'adhoc' ? adHoc(summary, model, config) : subscriber(summary, model, config);
  if (typeof values === 'string') return { status: 'unscorable', reason: values };
  if (!model.tierCuts) return { status: 'unscorable', reason: 'no value tier cut points yet' };

  const asOf = new Date(`${runDate}T23:59:59.999Z`);
  const decay = { halfLifeDays: config.churn.triggerHalfLifeDays, maxAgeDays: config.churn.triggerMaxAgeDays };
  const live = activeTriggers(input.triggers, asOf, decay);
  const churnRisk = churnRiskWithTriggers(values.modelRisk, live, asOf, decay);
  const band = riskBand(churnRisk, config.churn.bands);
  const valueTier = valueTierOf(values.clv, values.pAlive, model.tierCuts);
  const facts: NbaFacts = {
    kind: summary.kind,
    active: values.active,
    riskBand: band,
    valueTier,
    triggerActions: live.map((t) => t.action),
    winbackPermitted: !values.active && winbackPermitted(profile).length > 0,
    unusedPaidProduct: unusedPaidProducts(profile).length > 0,
    usageDeclining: decliningProducts(profile, asOf.toISOString()).length > 0,
    repeatPurchases: values.repeatPurchases,
    tenureMonths: values.tenureMonths,
    products: productCount(profile),
  };
  const nba = chooseNextBestAction(config.nextBestAction, facts);
  return {
    status: 'scored',
    score: {
      customerId: profile.customerId,
      kind: summary.kind,
      modelId: model.modelId,
      scoredOn: runDate,
      clv: values.clv,
      pAlive: values.pAlive,
      modelChurnRisk: values.modelRisk,
      churnRisk,
      riskBand: band,
      valueTier,
      ...(values.potentialSpend !== undefined && { potentialSpend: values.potentialSpend }),
      nextBestAction: nba.action,
      nextBestActionRule: nba.ruleId,
      activeTriggerRules: [...new Set(live.map((t) => t.rule))].sort(),
    },
  };
}
