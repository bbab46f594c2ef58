/**
 * Outreach planning (seed 002): "sort those at risk of leaving top-to-bottom by customer
 * lifetime value, and draw a reasonable limit in terms of how many you can reach out to per
 * month based on your resources. Divide this group into two."
 *
 *  1. Candidates: customers whose churn risk is above `riskAbove`, ranked by CLV or by value
 *     at risk (CLV × churn risk), best first; ties by customer id, so the order is total.
 *  2. Each worker keeps only its own best N in a bounded heap (`TopN`); the final step merges
 *     the workers' lists. Because the order is total and the workers' customers are disjoint,
 *     the merged top N is the top N of the whole base.
 *  3. Tonight's quota: the month's capacity spread evenly over its nights,
 *     floor(capacity × night / nights in the month) planned by tonight in all, less what was
 *     planned on earlier nights (a missed night is caught up, the month never exceeds it).
 *  4. Groups: treated or control by the experiments' well-mixed hash salted by the experiment
 *     id and the month, so a customer's group never depends on the run, the rank or the
 *     other customers. A customer planned once in the month is never planned again; a rerun
 *     of a night returns that night's plan and creates nothing new.
 */
import { createHash } from 'node:crypto';
import type { EmittedDetail } from '../events/catalog.ts';
import { isAssigned } from '../experiments/assignment.ts';
import type { ScoringConfig } from './config.ts';

export type OutreachConfig = ScoringConfig['outreach'];
export type OutreachCandidate = { customerId: string; clv: number; churnRisk: number; rankValue: number };
export type OutreachGroup = 'treatment' | 'control';

export type OutreachAssignment = {
  /** deterministic from experiment, month and customer (one plan per customer per month); see `outreachPlanId` */
  planId: string;
  experimentId: string;
  /** YYYY-MM */
  period: string;
  customerId: string;
  group: OutreachGroup;
  /** position in the night's ranking (1 = first) */
  rank: number;
  rankBy: OutreachConfig['rankBy'];
  clv: number;
  churnRisk: number;
  /** the run date of the night that planned it */
  plannedOn: string;
  runId: string;
  /** when the assignment was stored (the `plannedAt` of its OutreachPlanned, the same on every publish); absent on items stored before it was kept */
  plannedAt?: string;
  /** when its OutreachPlanned was published (treated only; absent: not yet, and the next attempt publishes it) */
  publishedAt?: string;
};

/** The customer as an outreach candidate, or undefined when her risk is not above the threshold. */
export function outreachCandidate(score: { customerId: string; clv: number; churnRisk: number }, config: Pick<OutreachConfig, 'riskAbove' | 'rankBy'>): OutreachCandidate | undefined {
  if (!(score.churnRisk > config.riskAbove)) return undefined;
  const rankValue = config.rankBy === 'clv' ? score.clv : score.clv * score.churnRisk;
  return { customerId: score.customerId, clv: score.clv, churnRisk: score.churnRisk, rankValue };
}

/** Negative when `a` ranks before `b`: higher rank value first, then the smaller customer id. */
export function compareCandidates(a: OutreachCandidate, b: OutreachCandidate): number {
  if (a.rankValue !== b.rankValue) return b.rankValue - a.rankValue;
  return a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0;
}

/**
 * The best `limit` candidates seen so far, in a binary heap whose root is the worst kept
 * (O(log N) per offer, O(N) memory). A dozen lines of a textbook heap; not worth a
 * dependency.
 */
export class TopN {
  private readonly heap: OutreachCandidate[] = [];
  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit >= 0)) throw new RangeError(`the top-N limit must be a whole number ≥ 0 (${limit})`);
  }

  /** `a` is worse than `b`. */
  private worse(i: number, j: number): boolean {
    return compareCandidates(this.heap[i]!, this.heap[j]!) > 0;
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i]!;
    this.heap[i] = this.heap[j]!;
    this.heap[j] = t;
  }

  offer(c: OutreachCandidate): void {
    const h = this.heap;
    if (h.length < this.limit) {
      h.push(c);
      for (let i = h.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!this.worse(i, parent)) break;
        this.swap(i, parent);
        i = parent;
      }
      return;
    }
    if (this.limit === 0 || compareCandidates(c, h[0]!) >= 0) return; // not better than the worst kept
    h[0] = c;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < h.length && this.worse(l, w)) w = l;
      if (r < h.length && this.worse(r, w)) w = r;
      if (w === i) break;
      this.swap(i, w);
      i = w;
    }
  }

  get size(): number {
    return this.heap.length;
  }

  /** The kept candidates, best first (a plain array to pass between steps). */
  toArray(): OutreachCandidate[] {
    return [...this.heap].sort(compareCandidates);
  }
}

/** Merges workers' top lists into the top `limit` (a customer in two lists counts once, at her better rank). */
export function mergeTopN(limit: number, parts: readonly (readonly OutreachCandidate[])[]): OutreachCandidate[] {
  const best = new Map<string, OutreachCandidate>();
  for (const part of parts) {
    for (const c of part) {
      const held = best.get(c.customerId);
      if (!held || compareCandidates(c, held) < 0) best.set(c.customerId, c);
    }
  }
  const top = new TopN(limit);
  for (const c of best.values()) top.offer(c);
  return top.toArray();
}

/** The calendar month (UTC) of a run date: the outreach period. */
export const outreachPeriod = (runDate: string): string => runDate.slice(0, 7);

/**
 * Tonight's quota. `target` is what should be planned by the end of tonight,
 * floor(capacity × night / nights in the month); `quota` = target − planned before tonight.
 * Workers should keep `quota + planned this month` candidates each: customers planned
 * earlier in the month are skipped, so that many more may be needed.
 */
export function nightlyQuota(runDate: string, customersPerMonth: number, plannedBeforeTonight: number): { period: string; target: number; quota: number } {
  const d = new Date(`${runDate.slice(0, 10)}T00:00:00.000Z`);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a run date: ${runDate}`);
  const night = d.getUTCDate();
  const nights = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  const target = Math.floor((customersPerMonth * night) / nights);
  return { period: outreachPeriod(runDate), target, quota: Math.max(0, target - plannedBeforeTonight) };
}

/**
 * `op-` and 32 hex digits of SHA-256(experiment NUL month NUL customer): the same for every
 * rerun, and short enough for the catalog's 128-character ids whatever the customer id.
 */
export function outreachPlanId(experimentId: string, period: string, customerId: string): string {
  return `op-${createHash('sha256').update(`${experimentId}\0${period}\0${customerId}`, 'utf8').digest('hex').slice(0, 32)}`;
}

export const outreachSalt = (experimentId: string, period: string): string => `outreach:${experimentId}:${period}`;

export function outreachGroup(customerId: string, experimentId: string, period: string, treatedPercent: number): OutreachGroup {
  return isAssigned(customerId, outreachSalt(experimentId, period), treatedPercent) ? 'treatment' : 'control';
}

export type OutreachPlan = {
  period: string;
  quota: number;
  /** every assignment of tonight (made by an earlier attempt of this night or now), by rank */
  tonight: OutreachAssignment[];
  /** the assignments made now: write them, then emit OutreachPlanned for each treated one not yet marked published */
  created: OutreachAssignment[];
};

/**
 * Plans tonight's outreach from the merged ranking (best first) and the assignments
 * already stored for this experiment and month. Pure: the caller stores `created`
 * (conditionally on the plan id, so a concurrent rerun cannot assign twice).
 */
export function planOutreach(input: {
  ranked: readonly OutreachCandidate[];
  existing: readonly OutreachAssignment[];
  runDate: string;
  runId: string;
  config: OutreachConfig;
}): OutreachPlan {
  const { ranked, runDate, runId, config } = input;
  const period = outreachPeriod(runDate);
  const existing = input.existing.filter((a) => a.experimentId === config.experimentId && a.period === period);
  const before = existing.filter((a) => a.plannedOn < runDate).length;
  const already = existing.filter((a) => a.plannedOn === runDate);
  const { quota } = nightlyQuota(runDate, config.customersPerMonth, before);
  const planned = new Set(existing.map((a) => a.customerId));
  const created: OutreachAssignment[] = [];
  let slots = quota - already.length;
  for (let i = 0; i < ranked.length && slots > 0; i++) {
    const c = ranked[i]!;
    if (planned.has(c.customerId)) continue;
    planned.add(c.customerId);
    created.push({
      planId: outreachPlanId(config.experimentId, period, c.customerId),
      experimentId: config.experimentId,
      period,
      customerId: c.customerId,
      group: outreachGroup(c.customerId, config.experimentId, period, config.treatedPercent),
      rank: i + 1,
      rankBy: config.rankBy,
      clv: c.clv,
      churnRisk: c.churnRisk,
      plannedOn: runDate,
      runId,
    });
    slots -= 1;
  }
  const tonight = [...already, ...created].sort((a, b) => a.rank - b.rank);
  return { period, quota, tonight, created };
}

/**
 * The OutreachPlanned event of an assignment (emitted for the treated; the control group is only
 * recorded). Published at least once: a consumer deduplicates by `planId`, and a republished
 * event is the same (its `plannedAt` is the stored one; `fallback` only for an item without it).
 */
export function outreachPlannedDetail(a: OutreachAssignment, fallback: Date): EmittedDetail<'OutreachPlanned'> {
  return { planId: a.planId, customerId: a.customerId, group: a.group, rank: a.rank, plannedAt: a.plannedAt ?? fallback.toISOString(), schemaVersion: 1 };
}

/** The treated assignments whose OutreachPlanned is not yet marked published, oldest night first, by rank (a plan once). */
export function unpublishedTreated(assignments: readonly OutreachAssignment[]): OutreachAssignment[] {
  const byPlan = new Map<string, OutreachAssignment>();
  for (const a of assignments) if (a.group === 'treatment' && !a.publishedAt && !byPlan.has(a.planId)) byPlan.set(a.planId, a);
  return [...byPlan.values()].sort((a, b) => a.plannedOn.localeCompare(b.plannedOn) || a.rank - b.rank);
}
