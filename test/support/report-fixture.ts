/**
 * Test support: a night's report aggregate over a small synthetic base built in memory —
 * subscribers and ad-hoc buyers over two years, returns with reasons (one of them hostile
 * markup), service calls with resolutions, a top value tier, and an outreach plan whose
 * outcomes follow the synthetic effect of outreach (local/synthetic/outreach-effect.ts).
 */
import { Rng } from '../../shared/clv/simulate.ts';
import { type CustomerProfile, applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import type { SendRecord, StoredReportPart } from '../../shared/ports.ts';
import { InMemoryWinbackStore } from '../../shared/pipeline/in-memory-ports.ts';
import { inControlGroup, inGlobalHoldout } from '../../shared/campaigns/guardrails.ts';
import { type ReportPart, addCustomer, emptyReportPart, finishPart, mergeReportParts } from '../../shared/report/aggregate.ts';
import { defaultScoringConfig } from '../../shared/scoring/config.ts';
import { outreachCandidate, planOutreach, TopN } from '../../shared/scoring/outreach.ts';
import type { CustomerScore } from '../../shared/scoring/score-customer.ts';
import { churnsAfterPlan } from '../../local/synthetic/outreach-effect.ts';

export const HOSTILE_REASON = '<script>alert("x")</script> & "quotes"';
const REASONS = ['damaged', 'wrong size', 'changed mind', HOSTILE_REASON];
const CALL_REASONS = ['billing', 'network', 'technical', 'delivery'];
const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const iso = (t: number) => new Date(t).toISOString();
const DAY = 86_400_000;

export function reportFixture(options: { customers?: number; seed?: number; runDate?: string } = {}): StoredReportPart {
  const n = options.customers ?? 600;
  const rng = new Rng(options.seed ?? 5);
  const runDate = options.runDate ?? '2026-11-30';
  const end = Date.parse(`${runDate}T12:00:00Z`);
  const start = end - 720 * DAY;
  let seq = 0;
  const ev = (customerId: string, type: string, at: number, fields: Record<string, unknown>) => ({ type, source: 'test', detail: { eventId: `e${++seq}`, customerId, occurredAt: iso(at), ...fields } }) as never;
  const people: { profile: CustomerProfile; clv: number; risk: number }[] = [];
  for (let i = 0; i < n; i++) {
    const id = `C${String(i).padStart(5, '0')}`;
    const signup = start + Math.floor(rng.uniform() * 700) * DAY;
    const sub = rng.uniform() < 0.5;
    let p = applyEvent(emptyProfile(id), ev(id, 'CustomerProfileUpdated', signup, { locale: rng.uniform() < 0.5 ? 'nl-NL' : 'de-DE', preferredChannel: rng.uniform() < 0.8 ? 'email' : 'phone', customerType: sub ? 'subscription' : 'adhoc' }));
    if (rng.uniform() < 0.6) p = applyEvent(p, ev(id, 'ConsentChanged', signup + 1000, { channel: 'email', purpose: 'marketing', granted: true }));
    if (sub) {
      p = applyEvent(p, ev(id, 'SubscriptionStarted', signup + 3_600_000, { subscriptionId: `s-${id}`, productId: 'tv', plan: 'start', monthlyPrice: 15, currency: 'EUR' }));
      const months = Math.floor(rng.exponential(1 / 10));
      const cancelAt = signup + (months + 0.5) * 30.44 * DAY;
      if (cancelAt < end - 60 * DAY) p = applyEvent(p, ev(id, 'SubscriptionCancelled', cancelAt, { subscriptionId: `s-${id}`, productId: 'tv', reason: 'moving', allowWinbackContact: false }));
    } else {
      for (let t = signup, k = 0; t < end && k < 12; t += rng.exponential(1 / 60) * DAY, k++) {
        p = applyEvent(p, ev(id, 'OrderPlaced', t, { orderId: `o-${id}-${k}`, amount: 20 + Math.round(rng.uniform() * 200), currency: 'EUR' }));
        if (rng.uniform() < 0.1) p = applyEvent(p, ev(id, 'OrderReturned', t + 5 * DAY, { orderId: `o-${id}-${k}`, amount: 20, currency: 'EUR', reason: REASONS[Math.floor(rng.uniform() * REASONS.length)] }));
      }
    }
    const calls = Math.floor(rng.uniform() * 3);
    for (let k = 0; k < calls; k++) {
      const at = signup + Math.floor(rng.uniform() * (end - signup));
      if (at >= end) continue;
      p = applyEvent(p, ev(id, 'SupportCallLogged', at, { callId: `k-${id}-${k}`, reason: CALL_REASONS[Math.floor(rng.uniform() * CALL_REASONS.length)], channel: 'phone' }));
      if (rng.uniform() < 0.85) p = applyEvent(p, ev(id, 'SupportCallResolved', at + 60_000, { callId: `k-${id}-${k}`, resolutionMinutes: Math.round(5 + rng.exponential(1 / 120)), resolved: rng.uniform() < 0.9 }));
    }
    people.push({ profile: p, clv: 50 + rng.gamma(2) * 300, risk: rng.uniform() });
  }
  // Outreach planned three months before the run date; subscribers churn after it as the synthetic effect says.
  const planDay = day(end - 95 * DAY);
  const config = { ...defaultScoringConfig.outreach, customersPerMonth: 120 };
  const top = new TopN(config.customersPerMonth);
  for (const x of people) {
    const c = outreachCandidate({ customerId: x.profile.customerId, clv: x.clv, churnRisk: x.risk }, config);
    if (c) top.offer(c);
  }
  // planned on the last night of that month: the whole month's capacity at once
  const lastNight = new Date(Date.UTC(Number(planDay.slice(0, 4)), Number(planDay.slice(5, 7)), 0)).toISOString().slice(0, 10);
  const plan = planOutreach({ ranked: top.toArray(), existing: [], runDate: lastNight, runId: 'r', config });
  const byCustomer = new Map(plan.created.map((a) => [a.customerId, a]));
  const clvCuts = people.map((x) => x.clv).sort((a, b) => b - a);
  const topCut = clvCuts[Math.floor(n / 10)]!;
  const parts: ReportPart[] = [emptyReportPart(), emptyReportPart(), emptyReportPart()];
  // Campaign decisions (their own random stream, so the rest of the fixture does not move): a cross-sell to
  // each customer allowing email marketing, and a retention save to those at risk, on a day whose 7-day
  // window has closed; held back by the real guardrail draws (global holdout 5 %, control groups 10 %).
  // The sent buy more often than the held back (20 % against 10 %, retention save 30 % against 15 %).
  const responses = new Rng((options.seed ?? 5) + 1000);
  const response = { attributionDays: 7, decisionDays: 28 };
  const decide = (profile: CustomerProfile, campaign: 'cross-sell' | 'retention-save', buyRate: number): { profile: CustomerProfile; send: SendRecord } => {
    const id = profile.customerId;
    const at = end - (8 + Math.floor(responses.uniform() * 20)) * DAY;
    const sendId = `${campaign}#${id}`;
    const reason = inGlobalHoldout(id, 5, 'v1') ? 'global holdout (5%)' : inControlGroup(id, campaign, 10, 'v1') ? 'control group (10%)' : undefined;
    const send: SendRecord = reason ? { sendId, customerId: id, campaign, status: 'control', at: iso(at), reason } : { sendId, customerId: id, campaign, status: 'sent', at: iso(at), messageId: `ses-${sendId}` };
    let p = profile;
    const feedback = (kind: 'open' | 'click', t: number) => ev(id, 'EmailFeedback', t, { kind, messageId: `ses-${sendId}`, sendId, campaign });
    if (!reason && responses.uniform() < 0.4) p = applyEvent(p, feedback('open', at + 3_600_000));
    if (!reason && responses.uniform() < 0.1) p = applyEvent(p, feedback('click', at + 7_200_000));
    if (responses.uniform() < (reason ? buyRate / 2 : buyRate)) p = applyEvent(p, ev(id, 'OrderPlaced', at + (1 + Math.floor(responses.uniform() * 6)) * DAY, { orderId: `r-${sendId}`, amount: 30, currency: 'EUR' }));
    return { profile: p, send };
  };
  people.forEach((x, i) => {
    let { profile } = x;
    const sends: SendRecord[] = [];
    if (profile.consent['email:marketing']?.value === true) {
      for (const [campaign, rate] of [['cross-sell', 0.2], ...(x.risk > 0.6 ? [['retention-save', 0.3] as const] : [])] as const) {
        const d = decide(profile, campaign, rate);
        profile = d.profile;
        sends.push(d.send);
      }
    }
    const a = byCustomer.get(profile.customerId);
    const subs = Object.values(profile.subscriptions).filter((s) => !s.cancellation);
    if (a && subs.length && churnsAfterPlan(a, 5)) {
      profile = applyEvent(profile, ev(profile.customerId, 'SubscriptionCancelled', Date.parse(`${a.plannedOn}T12:00:00Z`) + 20 * DAY, { subscriptionId: subs[0]!.subscriptionId, productId: 'tv', reason: 'switching provider', allowWinbackContact: false }));
    }
    const score: CustomerScore = {
      customerId: profile.customerId,
      kind: profile.customerType?.value ?? 'adhoc',
      modelId: 'm',
      scoredOn: runDate,
      clv: x.clv,
      pAlive: 1 - x.risk,
      modelChurnRisk: x.risk,
      churnRisk: x.risk,
      riskBand: x.risk > 0.8 ? 'high' : x.risk > 0.5 ? 'medium' : 'low',
      valueTier: x.clv >= topCut ? 'top' : 'medium',
      nextBestAction: 'none',
      nextBestActionRule: 'none',
      activeTriggerRules: [],
    };
    addCustomer(parts[i % 3]!, { profile, score, ...(a && { assignments: [a] }), sends }, { runDate, horizonMonths: 3, response });
  });
  const part = finishPart(parts.reduce(mergeReportParts));
  return { runId: `run-${runDate}`, runDate, storedAt: `${runDate}T03:00:00.000Z`, part };
}

/**
 * Leaver facts as the winback sequence records them (InMemoryWinbackStore): 150 leavings over
 * the 14 months before the run date (the report reads the last 12), with reasons from the
 * taxonomy, a winback sequence for those who allowed contact, offers at its steps, and returns
 * more often after a price offer.
 */
export async function winbackFixture(options: { seed?: number; runDate?: string } = {}): Promise<InMemoryWinbackStore> {
  const rng = new Rng((options.seed ?? 5) + 2000);
  const end = Date.parse(`${options.runDate ?? '2026-11-30'}T12:00:00Z`);
  const store = new InMemoryWinbackStore();
  const reasons = ['price', 'service-quality', 'network', 'moved', 'competitor'] as const;
  const offers: Record<string, string> = { price: 'price-discount', 'service-quality': 'service-apology', network: 'network-fix-news', moved: 'generic-return', competitor: 'price-discount' };
  for (let i = 0; i < 150; i++) {
    const leftAt = end - Math.floor(rng.uniform() * 425) * DAY;
    const reasonCode = reasons[Math.floor(rng.uniform() * reasons.length)]!;
    const inSequence = rng.uniform() < 0.6;
    const link = await store.recordLeaving(`W${i}`, iso(leftAt), { reasonCode, inSequence });
    if (!inSequence) {
      if (rng.uniform() < 0.05) await store.updateFact(link, { outcome: { kind: 'returned', on: day(leftAt + 90 * DAY) } });
      continue;
    }
    const offer = offers[reasonCode]!;
    await store.updateFact(link, { offer: { step: 1, offer, on: day(leftAt + 14 * DAY), via: 'email' } });
    const back = rng.uniform() < (offer === 'price-discount' ? 0.3 : 0.12);
    if (back) await store.updateFact(link, { outcome: { kind: 'returned', on: day(leftAt + 30 * DAY) } });
  }
  return store;
}
