/**
 * The report's figures, from the merged part alone (pure): the outreach experiment per period
 * and pooled, with its intervals, power and verdict; best customers against the rest and the
 * lookalike export; relationship length (Kaplan–Meier); returns and service; campaign
 * response. The HTML and the JSON are both drawn from these figures (render.ts).
 */
import { bootstrapDifferenceOfProportions } from '../stats/bootstrap.ts';
import { type BreakEven, type Estimate, breakEven } from '../stats/break-even.ts';
import { type SurvivalCurve, kaplanMeier } from '../stats/kaplan-meier.ts';
import { zOf } from '../stats/normal.ts';
import { minimumDetectableEffect, periodsUntilDetectable } from '../stats/power.ts';
import { compareProportions } from '../stats/proportions.ts';
import { type ExperimentGroupPart, type ProfilePart, type ReportPart, RESOLUTION_EDGES_MIN } from './aggregate.ts';
import { type CampaignResponseFigures, campaignResponseFigures } from './response.ts';
import type { WinbackSection } from './winback.ts';
import { type Moments, OTHER, meanOf, varianceOf } from './sketch.ts';

export type ReportSettings = {
  /** what one outreach contact costs (staff time), in `currency` */
  costPerContact: number;
  currency: string;
  /** the churn reduction (absolute, e.g. 0.05 = 5 points) the business cares about detecting */
  targetReduction: number;
  confidence: number;
  power: number;
  bootstrap: { replicates: number; seed: number };
  /** lookalike rows with fewer customers than this are left out (k-anonymity) */
  minLookalikeCount: number;
};

export const defaultReportSettings: ReportSettings = {
  costPerContact: 15,
  currency: 'EUR',
  targetReduction: 0.05,
  confidence: 0.95,
  power: 0.8,
  bootstrap: { replicates: 2000, seed: 12 },
  minLookalikeCount: 5,
};

export type GroupFigures = {
  assigned: number;
  observed: number;
  churned: number;
  churnRate: number;
  meanRiskChange: number;
  meanClvChange: number;
  meanClvAtPlan: number;
};

export type ExperimentFigures = {
  period: string;
  treated: GroupFigures;
  control: GroupFigures;
  /** control churn − treated churn (positive: outreach kept customers), Wald and bootstrap intervals */
  churnReduction?: Estimate & { bootstrap: { low: number; high: number; replicates: number; seed: number } };
  /** churn reduction relative to the control's churn (1 − treated/control), log-scale interval */
  relativeReduction?: Estimate;
  pValue?: number;
  /** treated − control mean change of churn risk and of CLV since planning (normal intervals) */
  riskChangeDifference?: Estimate;
  clvChangeDifference?: Estimate;
  /** the smallest churn reduction detectable now (at `power`), and periods of this size until `targetReduction` is */
  minimumDetectableEffect: number;
  periodsUntilDetectable?: number;
  value: BreakEven;
};

export type ProfileFigures = {
  customers: number;
  meanTenureMonths: number;
  meanProducts: number;
  meanOrders: number;
  meanSpend: number;
  meanClv: number;
  meanServiceCalls: number;
  meanReturns: number;
  churnRate: number;
  emailMarketingShare: number;
  preferredChannel: Record<string, number>;
  kind: Record<string, number>;
};

export type ReasonFigures = { reason: string; customers: number; events: number; perCustomer: number; churnRate: number; meanChurnRisk: number };

export type ReportFigures = {
  runId: string;
  runDate: string;
  generatedAt: string;
  settings: ReportSettings;
  customers: number;
  outreach: { periods: ExperimentFigures[]; pooled?: ExperimentFigures; verdict: string };
  campaignResponse: CampaignResponseFigures;
  bestCustomers: { top: ProfileFigures; rest: ProfileFigures; lookalike: { segment: LookalikeSegment; rows: LookalikeRow[]; suppressed: number } };
  relationshipLength: { curves: { group: string; curve: SurvivalCurve }[]; hazard: { month: number; atRisk: number; churned: number; rate: number }[]; churnWithin: { months: number; share: number }[] };
  returns: { customers: number; returns: number; value: number; byReason: ReasonFigures[] };
  service: { customers: number; calls: number; byReason: ReasonFigures[]; resolution: { bin: string; calls: number }[]; resolved: number; unresolved: number; open: number };
  /** winback by reason and offer, reasons by month (from the leaver facts; absent when they were not read, e.g. `clm report --part`) */
  winback?: WinbackSection;
};

export type LookalikeRow = { kind: string; locale: string; products: string; tenure: string; orders: string; customers: number };
export type LookalikeSegment = {
  name: string;
  description: string;
  /** the rule that selects the segment in this system */
  rule: { valueTier: 'top' };
  /** what the segment looks like: means and shares, against the rest */
  profile: Record<string, { segment: number; rest: number }>;
  attributes: (keyof Omit<LookalikeRow, 'customers'>)[];
};

const safeDiv = (a: number, b: number) => (b > 0 ? a / b : NaN);

function groupFigures(g: ExperimentGroupPart | undefined): GroupFigures {
  if (!g) return { assigned: 0, observed: 0, churned: 0, churnRate: NaN, meanRiskChange: NaN, meanClvChange: NaN, meanClvAtPlan: NaN };
  return { assigned: g.assigned, observed: g.observed, churned: g.churned, churnRate: safeDiv(g.churned, g.observed), meanRiskChange: meanOf(g.riskChange), meanClvChange: meanOf(g.clvChange), meanClvAtPlan: meanOf(g.clvAtPlan) };
}

/** Difference of two means from moments, with a normal (Welch) interval. */
function meanDifference(a: Moments, b: Moments, z: number): Estimate | undefined {
  if (a.n < 2 || b.n < 2) return undefined;
  const d = meanOf(a) - meanOf(b);
  const se = Math.sqrt(varianceOf(a) / a.n + varianceOf(b) / b.n);
  return { estimate: d, low: d - z * se, high: d + z * se };
}

function mergeGroups(gs: (ExperimentGroupPart | undefined)[]): ExperimentGroupPart | undefined {
  const present = gs.filter((g): g is ExperimentGroupPart => !!g);
  if (!present.length) return undefined;
  const m = (f: (g: ExperimentGroupPart) => Moments) => present.map(f).reduce((x, y) => ({ n: x.n + y.n, sum: x.sum + y.sum, sumSq: x.sumSq + y.sumSq }));
  return {
    assigned: present.reduce((s, g) => s + g.assigned, 0),
    observed: present.reduce((s, g) => s + g.observed, 0),
    churned: present.reduce((s, g) => s + g.churned, 0),
    riskChange: m((g) => g.riskChange),
    clvChange: m((g) => g.clvChange),
    clvAtPlan: m((g) => g.clvAtPlan),
    clvKept: m((g) => g.clvKept),
  };
}

/** The experiment's figures for one period (or several pooled: `periods` > 1 scales the power's per-period size). */
export function experimentFigures(period: string, treatedPart: ExperimentGroupPart | undefined, controlPart: ExperimentGroupPart | undefined, settings: ReportSettings, periods = 1): ExperimentFigures {
  const z = zOf(settings.confidence);
  const treated = groupFigures(treatedPart);
  const control = groupFigures(controlPart);
  const nt = treated.observed;
  const nc = control.observed;
  let churnReduction: ExperimentFigures['churnReduction'];
  let relativeReduction: Estimate | undefined;
  let pValue: number | undefined;
  // No interval without events (or with nothing but events): the Wald interval is then a point.
  const events = treated.churned + control.churned;
  if (nt > 0 && nc > 0 && events > 0 && events < nt + nc) {
    const c = compareProportions(treated.churned, nt, control.churned, nc, settings.confidence);
    const boot = bootstrapDifferenceOfProportions(control.churned, nc, treated.churned, nt, { ...settings.bootstrap, confidence: settings.confidence });
    churnReduction = { estimate: -c.difference, low: -c.differenceInterval.high, high: -c.differenceInterval.low, bootstrap: boot };
    if (c.relativeLiftInterval) relativeReduction = { estimate: -c.relativeLift, low: -c.relativeLiftInterval.high, high: -c.relativeLiftInterval.low };
    if (!Number.isNaN(c.pValue)) pValue = c.pValue;
  }
  const baseline = nc > 0 ? control.churnRate : 0;
  const usable = Number.isFinite(baseline) && baseline > 0 && baseline < 1;
  const mde = usable ? minimumDetectableEffect(baseline, nt, nc, settings) : Infinity;
  const perPeriod = { n1: nt / periods, n2: nc / periods };
  const more = usable && nt > 0 && nc > 0 ? periodsUntilDetectable(settings.targetReduction, baseline, { n1: nt, n2: nc }, perPeriod, settings) : undefined;
  const riskChangeDifference = treatedPart && controlPart ? meanDifference(treatedPart.riskChange, controlPart.riskChange, z) : undefined;
  const clvChangeDifference = treatedPart && controlPart ? meanDifference(treatedPart.clvChange, controlPart.clvChange, z) : undefined;
  // Everyone treated was contacted (and cost): the reduction measured on those whose outcome is known applies to all of them.
  const value = breakEven({
    contacted: treated.assigned,
    churnReduction: churnReduction ?? { estimate: NaN, low: NaN, high: NaN },
    valuePerCustomer: Number.isFinite(treated.meanClvAtPlan) ? treated.meanClvAtPlan : 0,
    costPerContact: settings.costPerContact,
  });
  return {
    period,
    treated,
    control,
    ...(churnReduction && { churnReduction }),
    ...(relativeReduction && { relativeReduction }),
    ...(pValue !== undefined && { pValue }),
    ...(riskChangeDifference && { riskChangeDifference }),
    ...(clvChangeDifference && { clvChangeDifference }),
    minimumDetectableEffect: mde,
    ...(more !== undefined && { periodsUntilDetectable: more }),
    value,
  };
}

const money = (x: number, currency: string) => new Intl.NumberFormat('en-US', { style: 'currency', currency, maximumFractionDigits: 0 }).format(Object.is(Math.round(x), -0) ? 0 : x);
const num = (x: number, digits = 1) => (Object.is(Math.round(x * 10 ** digits), -0) ? 0 : x).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/** The plain verdict: per month, from the pooled periods. */
export function verdictSentence(pooled: ExperimentFigures | undefined, periods: number, settings: ReportSettings): string {
  if (!pooled || pooled.treated.assigned === 0) return 'No outreach has been planned yet: not yet measurable.';
  const k = Math.max(1, periods);
  const v = pooled.value;
  const n = Math.round(pooled.treated.assigned / k);
  if (!pooled.churnReduction) {
    const observed = pooled.treated.observed + pooled.control.observed;
    const why = observed === 0 ? `no outcome is known yet (0 of ${num(pooled.treated.assigned + pooled.control.assigned, 0)} observed)` : `${num(observed, 0)} outcomes known, ${num(pooled.treated.churned + pooled.control.churned, 0)} of them churned`;
    return `Outreach to the top ${num(n, 0)} at-risk customers a month: ${why}, at a cost of ${money(v.cost / k, settings.currency)} a month: not yet measurable.`;
  }
  const x = v.retained.estimate / k;
  const y = (v.retained.high - v.retained.low) / 2 / k;
  return `Outreach to the top ${num(n, 0)} at-risk customers retained ${num(x)} ± ${num(y)} customers and ${money(v.valueRetained.estimate / k, settings.currency)} of CLV a month at a cost of ${money(v.cost / k, settings.currency)}: ${v.verdict}.`;
}

function profileFigures(p: ProfilePart): ProfileFigures {
  const share = (c: Record<string, number>) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, safeDiv(v, p.customers)]));
  return {
    customers: p.customers,
    meanTenureMonths: meanOf(p.tenureMonths),
    meanProducts: meanOf(p.products),
    meanOrders: meanOf(p.orders),
    meanSpend: meanOf(p.spend),
    meanClv: meanOf(p.clv),
    meanServiceCalls: meanOf(p.serviceCalls),
    meanReturns: meanOf(p.returns),
    churnRate: safeDiv(p.churned, p.customers),
    emailMarketingShare: safeDiv(p.emailMarketing, p.customers),
    preferredChannel: share(p.preferredChannel),
    kind: share(p.kind),
  };
}

function lookalike(part: ReportPart, top: ProfileFigures, rest: ProfileFigures, minCount: number): ReportFigures['bestCustomers']['lookalike'] {
  const rows: LookalikeRow[] = [];
  let suppressed = 0;
  for (const [key, customers] of Object.entries(part.lookalike)) {
    if (customers < minCount || key === OTHER) {
      suppressed += customers;
      continue;
    }
    const [kind = '', locale = '', products = '', tenure = '', orders = ''] = key.split('|');
    rows.push({ kind, locale, products: products.replace('products:', ''), tenure: tenure.replace('tenure:', ''), orders: orders.replace('orders:', ''), customers });
  }
  rows.sort((a, b) => b.customers - a.customers || (a.kind + a.locale + a.products + a.tenure + a.orders).localeCompare(b.kind + b.locale + b.products + b.tenure + b.orders));
  const keys = ['meanTenureMonths', 'meanProducts', 'meanOrders', 'meanSpend', 'meanClv', 'meanServiceCalls', 'meanReturns', 'churnRate', 'emailMarketingShare'] as const;
  return {
    segment: {
      name: 'top-clv-decile',
      description: 'Customers in the top value tier (the top 10 % of CLV in the nightly fit sample): what they look like, to find prospects who look like them.',
      rule: { valueTier: 'top' },
      profile: Object.fromEntries(keys.map((k) => [k, { segment: top[k], rest: rest[k] }])),
      attributes: ['kind', 'locale', 'products', 'tenure', 'orders'],
    },
    rows,
    suppressed,
  };
}

const binLabel = (i: number) => {
  const label = (m: number) => (m >= 1440 ? `${m / 1440} d` : m >= 60 ? `${m / 60} h` : `${m} min`);
  const e = RESOLUTION_EDGES_MIN;
  return i === 0 ? `< ${label(e[0]!)}` : i === e.length ? `≥ ${label(e[e.length - 1]!)}` : `${label(e[i - 1]!)}–${label(e[i]!)}`;
};

const reasonFigures = (byReason: ReportPart['service']['byReason']): ReasonFigures[] =>
  Object.entries(byReason)
    .map(([reason, r]) => ({ reason, customers: r.customers, events: r.events, perCustomer: safeDiv(r.events, r.customers), churnRate: safeDiv(r.churned, r.customers), meanChurnRisk: meanOf(r.churnRisk) }))
    .sort((a, b) => b.events - a.events || a.reason.localeCompare(b.reason));

/** All the report's figures from the merged part. */
export function reportFigures(part: ReportPart, context: { runId: string; runDate: string; generatedAt: Date; settings?: Partial<ReportSettings>; winback?: WinbackSection }): ReportFigures {
  const settings = { ...defaultReportSettings, ...context.settings };
  const periods = Object.keys(part.outreach).sort();
  const perPeriod = periods.map((p) => experimentFigures(p, part.outreach[p]!.treatment, part.outreach[p]!.control, settings));
  const pooled = periods.length
    ? experimentFigures(
        periods.length === 1 ? periods[0]! : `${periods[0]}…${periods.at(-1)}`,
        mergeGroups(periods.map((p) => part.outreach[p]!.treatment)),
        mergeGroups(periods.map((p) => part.outreach[p]!.control)),
        settings,
        periods.length,
      )
    : undefined;

  const top = profileFigures(part.best.top);
  const rest = profileFigures(part.best.rest);

  const groupOrder = (g: string) => (g === 'all' ? 0 : g.startsWith('kind:') ? 1 : g.startsWith('tier:') ? 2 : 3);
  const curves = Object.entries(part.survival)
    .sort(([a], [b]) => groupOrder(a) - groupOrder(b) || a.localeCompare(b))
    .map(([group, byMonth]) => ({ group, curve: kaplanMeier(Object.entries(byMonth).map(([m, [events, censored]]) => ({ time: Number(m), events, censored })), settings.confidence) }));
  const all = curves.find((c) => c.group === 'all')?.curve;
  const hazard = (all?.steps ?? []).map((s) => ({ month: s.time, atRisk: s.atRisk, churned: s.events, rate: s.events / s.atRisk }));
  const totalEvents = all?.events ?? 0;
  const churnWithin = [3, 6, 12, 24].map((months) => ({ months, share: safeDiv(hazard.filter((h) => h.month <= months).reduce((s, h) => s + h.churned, 0), totalEvents) }));

  return {
    runId: context.runId,
    runDate: context.runDate,
    generatedAt: context.generatedAt.toISOString(),
    settings,
    customers: part.customers,
    outreach: { periods: perPeriod, ...(pooled && { pooled }), verdict: verdictSentence(pooled, periods.length, settings) },
    campaignResponse: campaignResponseFigures(part.response, settings.confidence),
    bestCustomers: { top, rest, lookalike: lookalike(part, top, rest, settings.minLookalikeCount) },
    relationshipLength: { curves, hazard, churnWithin },
    returns: {
      customers: part.returns.customers,
      returns: part.returns.returns,
      value: part.returns.value,
      byReason: reasonFigures(part.returns.churnByReason).map((r) => ({ ...r, events: part.returns.byReason[r.reason] ?? r.events })),
    },
    service: {
      customers: part.service.customers,
      calls: part.service.calls,
      byReason: reasonFigures(part.service.byReason),
      resolution: Array.from({ length: RESOLUTION_EDGES_MIN.length + 1 }, (_, i) => ({ bin: binLabel(i), calls: part.service.resolutionMinutes[i] ?? 0 })),
      resolved: part.service.resolved,
      unresolved: part.service.unresolved,
      open: part.service.open,
    },
    ...(context.winback && { winback: context.winback }),
  };
}
