import { describe, expect, it } from 'vitest';
import { sbgDerl } from '../../../shared/clv/sbg.ts';
import { scoreCustomers } from '../../../shared/clv/score.ts';
import { PERIODS_PER_MONTH } from '../../../shared/clv/clv.ts';
import { type CustomerProfile, emptyProfile } from '../../../shared/customers/profile.ts';
import { type ScoringConfig, parseScoringConfig } from '../../../shared/scoring/config.ts';
import { WEEKS_PER_MONTH, adHocRetainedSpend, subscriberPaymentFactor } from '../../../shared/scoring/customer-value.ts';
import type { ModelRecord } from '../../../shared/scoring/fit.ts';
import { type ActiveTrigger, decayedBoost, riskBand } from '../../../shared/scoring/risk.ts';
import { type CustomerScore, scoreCustomer, scoreCustomerBatch } from '../../../shared/scoring/score-customer.ts';
import { loadCdnowSummary } from '../../clv/helpers.ts';
import { cdnowProfiles } from './helpers.ts';

const config = (over: object = {}): ScoringConfig => {
  const r = parseScoringConfig(over);
  if (!r.ok) throw new Error(r.issues.join('; '));
  return r.config;
};

const fitted = <P>(params: P) => ({ params, logLikelihood: -1, iterations: 1, converged: true, hessianPositiveDefinite: true, customers: 1000, fittedInRun: 'run-0', fittedOn: '1997-09-30' });
/** Published parameters: BG/NBD and Gamma-Gamma for CDNOW (FHL 2005), sBG for the "Regular" cohort (F&H 2007). */
const published = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const gg = { p: 6.25, q: 3.74, gamma: 15.44 };
const sbg = { alpha: 0.704, beta: 1.182 };
const model: ModelRecord = {
  modelId: 'run-7',
  runId: 'run-7',
  runDate: '1997-09-30',
  periods: { adHoc: 'week', subscription: 'month' },
  sample: { adHocCustomers: 2357, subscribers: 1000, withoutHistory: 0, share: 1 },
  bgnbd: fitted(published),
  gammaGamma: fitted(gg),
  sbg: fitted(sbg),
  tierCuts: { top: 60, high: 30, medium: 10, lapsedBelow: 0.2 },
  clv: { months: 12, monthlyDiscountRate: 0.01, margin: 1 },
};

/** CDNOW customer 1 (x=2, tₓ=30.43, T=38.86 weeks as of 1997-09-30, repeat spend 22.35) as a profile. */
function customerOne(): CustomerProfile {
  const p = emptyProfile('1');
  // first day 1997-01-01; repeat days at 1997-01-18 and 30.43 weeks (213 days) later: 1997-08-02
  p.purchaseDays = { '1997-01-01': 29.33, '1997-01-18': 29.73, '1997-08-02': 14.96 };
  return p;
}

const scored = (o: ReturnType<typeof scoreCustomer>): CustomerScore => {
  if (o.status !== 'scored') throw new Error(`${o.status}: ${o.reason}`);
  return o.score;
};

describe('scoring an ad-hoc buyer', () => {
  const profile = customerOne();

  it('P(alive) by hand: 1/(1 + a/(b+x−1)·((α+T)/(α+tₓ))^(r+x)) = 0.7266 for CDNOW customer 1', () => {
    // a/(b+1) = 0.23147; ((4.414+38.857)/(4.414+30.429))^2.243 = 1.6258; 1/(1+0.37633) = 0.72657
    const s = scored(scoreCustomer({ profile, triggers: [], model, runDate: '1997-09-30', config: config() }));
    expect(s.pAlive).toBeCloseTo(0.72657, 4);
    expect(s.kind).toBe('adhoc');
    expect(s.modelId).toBe('run-7');
  });

  it('CLV, churn risk and tier agree with shared/clv scoring the whole CDNOW base with the same settings', () => {
    const data = loadCdnowSummary();
    const batch = scoreCustomers(published, gg, data, { months: 12, discountRate: 0.01, periodsPerMonth: PERIODS_PER_MONTH.week, churnHorizon: 3 * PERIODS_PER_MONTH.week });
    const s = scored(scoreCustomer({ profile, triggers: [], model, runDate: '1997-09-30', config: config() }));
    // the profile's days give tₓ and T to the day; the file is rounded to 0.01 week
    expect(s.clv).toBeCloseTo(batch.clv[0]!, 2);
    expect(s.modelChurnRisk).toBeCloseTo(batch.churnRisk[0]!, 3);
    expect(s.churnRisk).toBe(s.modelChurnRisk);
    // 30 ≤ CLV < 60 with the hand-set cuts
    expect(s.clv).toBeGreaterThan(30);
    expect(s.clv).toBeLessThan(60);
    expect(s.valueTier).toBe('high');
  });

  it('the model risk is 1 − P(alive) when configured so', () => {
    const s = scored(scoreCustomer({ profile, triggers: [], model, runDate: '1997-09-30', config: config({ churn: { adHocRisk: 'one-minus-p-alive' } }) }));
    expect(s.modelChurnRisk).toBeCloseTo(1 - 0.72657, 4);
    expect(s.riskBand).toBe('low');
  });

  it('potential spend: expected purchases if she stays × expected spend; Hardie\'s E[X(39)] = 1.226 for this customer', () => {
    // E[X(39) | x, tₓ, T] = P(alive) × E[X(39) | alive]: with a spend of 1 the retained spend is E[X(39) | alive]
    const whileAlive = adHocRetainedSpend(published, 2, 38.86, 1, 39 / WEEKS_PER_MONTH);
    expect(0.72657 * whileAlive).toBeCloseTo(1.226, 3);
    const s = scored(scoreCustomer({ profile, triggers: [], model, runDate: '1997-09-30', config: config() }));
    // E[M] = (γ + x·z̄)·p/(p·x + q − 1) with z̄ = (29.73 + 14.96)/2 = 22.345: 60.13 × 6.25 / 15.24 = 24.6596
    // (Hardie note 025 publishes 24.65 for this customer); T = 272 days = 272/7 weeks
    const em = s.potentialSpend! / adHocRetainedSpend(published, 2, 272 / 7, 1, 12);
    expect(em).toBeCloseTo(24.6596, 3);
  });

  it('active triggers raise the risk with a half-life; old and future triggers do not count', () => {
    const base = scored(scoreCustomer({ profile, triggers: [], model, runDate: '1997-09-30', config: config() })).modelChurnRisk;
    const asOfEnd = Date.parse('1997-09-30T23:59:59.999Z');
    const trig = (daysAgo: number, boost = 0.2, rule = 'billing-complaint'): ActiveTrigger => ({ rule, action: 'retention-save', churnRiskBoost: boost, firedAt: new Date(asOfEnd - daysAgo * 86_400_000).toISOString() });
    const s = scored(scoreCustomer({ profile, triggers: [trig(14), trig(200, 0.9, 'old'), trig(-1, 0.9, 'future')], model, runDate: '1997-09-30', config: config() }));
    // 14 days = one half-life: 0.2 → 0.1; noisy-OR with the model risk
    expect(s.churnRisk).toBeCloseTo(1 - (1 - base) * 0.9, 10);
    expect(s.activeTriggerRules).toEqual(['billing-complaint']);
    // the trigger's action wins the policy's first ad-hoc rule
    expect(s.nextBestAction).toBe('retention-save');
    expect(s.nextBestActionRule).toBe('trigger-save');
  });

  it('keeps the stored tier and band while the values are within their write thresholds of them; the action follows the kept ones', () => {
    const fresh = scored(scoreCustomer({ profile, triggers: [], model, runDate: '1997-09-30', config: config() }));
    // CLV ≈ 46.1 (high: 30 ≤ CLV < 60), model risk ≈ 0.55 (medium)
    expect([fresh.valueTier, fresh.riskBand]).toEqual(['high', 'medium']);
    const near = (cuts: Partial<ModelRecord['tierCuts'] & object>) => ({ ...model, tierCuts: { ...model.tierCuts!, ...cuts } });
    const at = (m: ModelRecord, stored?: Pick<CustomerScore, 'kind' | 'valueTier' | 'riskBand'>, over: object = {}) =>
      scored(scoreCustomer({ profile, triggers: [], model: m, runDate: '1997-09-30', config: config(over), stored }));
    // Tonight's cuts put her just in top (CLV 2 % above the top cut): a stored high stays high (5 % of CLV is the threshold) ...
    const topCut = fresh.clv / 1.02;
    expect(at(near({ top: topCut })).valueTier).toBe('top');
    expect(at(near({ top: topCut }), { kind: 'adhoc', valueTier: 'high', riskBand: 'medium' }).valueTier).toBe('high');
    // 10 % above the cut: past the threshold, she moves up
    expect(at(near({ top: fresh.clv / 1.1 }), { kind: 'adhoc', valueTier: 'high', riskBand: 'medium' }).valueTier).toBe('top');
    // with a zero CLV threshold the fresh tier counts at once
    expect(at(near({ top: topCut }), { kind: 'adhoc', valueTier: 'high', riskBand: 'medium' }, { writeThresholds: { clv: { absolute: 0, relative: 0 } } }).valueTier).toBe('top');
    // risk: a stored low band stays while the risk is within 0.02 of it (medium starts at 0.5)
    const bands = (medium: number) => ({ churn: { bands: { medium, high: 0.8 } } });
    const keptLow = at(model, { kind: 'adhoc', valueTier: 'high', riskBand: 'low' }, bands(fresh.churnRisk - 0.01));
    const leftLow = at(model, { kind: 'adhoc', valueTier: 'high', riskBand: 'low' }, bands(fresh.churnRisk - 0.03));
    expect([keptLow.riskBand, leftLow.riskBand]).toEqual(['low', 'medium']);
    // the next best action is chosen with the kept band: high tier, low risk → up-sell; medium risk → cross-sell
    expect([keptLow.nextBestAction, leftLow.nextBestAction]).toEqual(['up-sell', 'cross-sell']);
    // a stored score of the other kind keeps nothing
    expect(at(near({ top: topCut }), { kind: 'subscription', valueTier: 'high', riskBand: 'medium' }).valueTier).toBe('top');
  });

  it('a rerun of the night gives the same score', () => {
    const a = scoreCustomer({ profile, triggers: [], model, runDate: '1997-09-30', config: config() });
    const b = scoreCustomer({ profile: structuredClone(profile), triggers: [], model: structuredClone(model), runDate: '1997-09-30', config: config() });
    expect(b).toEqual(a);
  });
});

describe('trigger decay and risk bands', () => {
  const decay = { halfLifeDays: 10, maxAgeDays: 30 };
  const at = new Date('2026-03-31T00:00:00.000Z');
  it('halves every half-life, drops after the maximum age', () => {
    expect(decayedBoost({ churnRiskBoost: 0.4, firedAt: '2026-03-31T00:00:00.000Z' }, at, decay)).toBe(0.4);
    expect(decayedBoost({ churnRiskBoost: 0.4, firedAt: '2026-03-21T00:00:00.000Z' }, at, decay)).toBeCloseTo(0.2, 12);
    expect(decayedBoost({ churnRiskBoost: 0.4, firedAt: '2026-03-01T00:00:00.000Z' }, at, decay)).toBeCloseTo(0.05, 12);
    expect(decayedBoost({ churnRiskBoost: 0.4, firedAt: '2026-02-28T23:00:00.000Z' }, at, decay)).toBe(0);
  });
  it('bands: low below medium, high from high up', () => {
    const cuts = { medium: 0.5, high: 0.8 };
    expect([0, 0.4999, 0.5, 0.7999, 0.8, 1].map((r) => riskBand(r, cuts))).toEqual(['low', 'low', 'medium', 'medium', 'high', 'high']);
  });
});

describe('scoring a subscriber', () => {
  const stamp = <T>(value: T) => ({ value, at: '2025-01-01T00:00:00.000Z', by: 'e' });
  function subscriber(started: string): CustomerProfile {
    const p = emptyProfile('s-1');
    p.customerType = stamp('subscription' as const);
    p.subscriptions.a = { subscriptionId: 'a', productId: stamp('fibre'), startedAt: started, lastStartedAt: started, monthlyPrice: stamp(30) };
    p.adoptedProducts.fibre = started;
    return p;
  }

  it('CLV by hand over 2 months at n = 0: 30 × (β/(α+β)/1.01 + β(β+1)/((α+β)(α+β+1))/1.01²) = 32.551', () => {
    const c = config({ clv: { months: 2 }, churn: { horizonMonths: 1 } });
    const s = scored(scoreCustomer({ profile: subscriber('2025-03-10T09:00:00.000Z'), triggers: [], model, runDate: '2025-03-20', config: c }));
    expect(s.kind).toBe('subscription');
    expect(s.clv).toBeCloseTo(32.5507, 3);
    expect(s.pAlive).toBe(1);
    // sBG churn at the next renewal for n = 0: α/(α+β) = 0.704/1.886
    expect(s.churnRisk).toBeCloseTo(0.37328, 4);
    expect(s.potentialSpend).toBe(60);
    // a brand-new subscriber gets education (the policy's new-subscriber rule)
    expect(s.nextBestAction).toBe('education');
  });

  it('over a long horizon the payment factor tends to DERL/(1+d) (Fader & Hardie 2010)', () => {
    for (const n of [0, 3, 12]) {
      const clv = { months: 120, monthlyDiscountRate: 0.2, margin: 1 };
      expect(subscriberPaymentFactor(sbg, n, clv)).toBeCloseTo(sbgDerl(sbg, n, 0.2) / 1.2, 8);
    }
  });

  it('a loyal top subscriber is rewarded; a cancelled one who allowed contact is a winback', () => {
    const loyal = subscriber('2023-01-05T00:00:00.000Z');
    const s = scored(scoreCustomer({ profile: loyal, triggers: [], model, runDate: '2025-03-20', config: config() }));
    expect(s.valueTier).toBe('top');
    expect(s.riskBand).toBe('low');
    expect(s.nextBestAction).toBe('reward');

    const gone = subscriber('2023-01-05T00:00:00.000Z');
    gone.subscriptions.a!.cancellation = { value: { reason: 'moving', allowWinbackContact: true }, at: '2025-02-01T00:00:00.000Z', by: 'c' };
    // Without the consent ledger's grant the answer on the cancellation alone permits nothing.
    expect(scored(scoreCustomer({ profile: gone, triggers: [], model, runDate: '2025-03-20', config: config() })).nextBestAction).toBe('none');
    gone.consentState = {
      winback: { recordId: 'c', customerId: gone.customerId, purpose: 'winback', action: 'granted', at: '2025-02-01T00:00:00.000Z', source: 'api', actor: 'customer', expiresAt: '2027-02-01T00:00:00.000Z', eventId: 'c', eventType: 'SubscriptionCancelled', eventSource: 'x' },
    };
    const g = scored(scoreCustomer({ profile: gone, triggers: [], model, runDate: '2025-03-20', config: config() }));
    expect(g).toMatchObject({ clv: 0, pAlive: 0, churnRisk: 1, riskBand: 'high', valueTier: 'lapsed', nextBestAction: 'winback', nextBestActionRule: 'winback-permitted' });
    // Expired by the run date: no winback.
    expect(scored(scoreCustomer({ profile: gone, triggers: [], model, runDate: '2027-03-20', config: config() })).nextBestActionRule).not.toBe('winback-permitted');
    expect(g.potentialSpend).toBeUndefined();
  });

  it('paying for a product never used → education', () => {
    const p = subscriber('2024-01-05T00:00:00.000Z');
    p.subscriptions.b = { subscriptionId: 'b', productId: stamp('tv'), startedAt: '2024-06-01T00:00:00.000Z', lastStartedAt: '2024-06-01T00:00:00.000Z', monthlyPrice: stamp(10) };
    const s = scored(scoreCustomer({ profile: p, triggers: [], model, runDate: '2025-03-20', config: config() }));
    expect(s.nextBestActionRule).toBe('unused-product');
    expect(s.nextBestAction).toBe('education');
  });
});

describe('customers that cannot be scored', () => {
  it('no history is skipped; missing models make a customer unscorable, with the reason', () => {
    expect(scoreCustomer({ profile: emptyProfile('x'), triggers: [], model, runDate: '2025-03-20', config: config() })).toEqual({ status: 'skipped', reason: 'no purchase yet' });
    const declared = customerOne();
    declared.customerType = { value: 'subscription', at: '1997-01-01T00:00:00.000Z', by: 'e' };
    expect(scoreCustomer({ profile: declared, triggers: [], model, runDate: '1997-09-30', config: config() })).toEqual({ status: 'skipped', reason: 'no subscription yet' });
    const { bgnbd: _b, ...withoutBg } = model;
    expect(scoreCustomer({ profile: customerOne(), triggers: [], model: withoutBg, runDate: '1997-09-30', config: config() })).toEqual({ status: 'unscorable', reason: 'no BG/NBD and Gamma-Gamma model has been fitted yet' });
    const { tierCuts: _t, ...withoutCuts } = model;
    expect(scoreCustomer({ profile: customerOne(), triggers: [], model: withoutCuts, runDate: '1997-09-30', config: config() })).toEqual({ status: 'unscorable', reason: 'no value tier cut points yet' });
  });
});

describe('batch scoring', () => {
  it('equals scoring each customer alone (to 1e-9), for a mixed batch of ad-hoc buyers, subscribers and customers without history', () => {
    const profiles = cdnowProfiles('1997-09-30');
    const sub = emptyProfile('s');
    sub.subscriptions.a = { subscriptionId: 'a', startedAt: '1997-01-05T00:00:00.000Z', lastStartedAt: '1997-01-05T00:00:00.000Z', monthlyPrice: { value: 12, at: '1997-01-05T00:00:00.000Z', by: 'e' } };
    const batch = [...profiles.values(), sub, emptyProfile('none')].map((profile) => ({ profile, triggers: [] }));
    const context = { model, runDate: '1997-09-30', config: config() };
    const together = scoreCustomerBatch(batch, context);
    expect(together).toHaveLength(batch.length);
    let compared = 0;
    batch.forEach((c, i) => {
      const alone = scoreCustomer({ ...c, ...context });
      const t = together[i]!;
      expect(t.status).toBe(alone.status);
      if (t.status !== 'scored' || alone.status !== 'scored') return expect(t).toEqual(alone);
      compared++;
      for (const f of ['clv', 'pAlive', 'modelChurnRisk', 'churnRisk', 'potentialSpend'] as const) {
        expect(Math.abs(t.score[f]! - alone.score[f]!)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(alone.score[f]!)));
      }
      expect({ ...t.score, clv: 0, pAlive: 0, churnRisk: 0, modelChurnRisk: 0, potentialSpend: 0 }).toEqual({ ...alone.score, clv: 0, pAlive: 0, churnRisk: 0, modelChurnRisk: 0, potentialSpend: 0 });
    });
    expect(compared).toBe(2358);
    expect(together[together.length - 1]).toEqual({ status: 'skipped', reason: 'no purchase yet' });
  });

  it('a profile with an invalid purchase day is unscorable on its own; the rest of the batch is scored', () => {
    const bad = emptyProfile('bad');
    bad.purchaseDays = { '1997-02-30': 10 };
    const out = scoreCustomerBatch([{ profile: customerOne(), triggers: [] }, { profile: bad, triggers: [] }], { model, runDate: '1997-09-30', config: config() });
    expect(out[0]!.status).toBe('scored');
    expect(out[1]).toEqual({ status: 'unscorable', reason: 'profile data: invalid calendar date "1997-02-30"' });
  });
});
