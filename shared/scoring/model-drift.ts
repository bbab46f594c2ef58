/**
 * What scoring with yesterday's model instead of tonight's changes (the one-pass night,
 * docs/scoring.md): the same customers (profile, triggers, stored score) scored with both models
 * at the same run date, and counted where the night's outcome would differ — the score write
 * (`diffScore` against the stored score), the value tier, the risk band, `CustomerRescored` —
 * with the distribution of the CLVs' relative difference. Pure; the bench feeds it pages.
 */
import type { ScoringCustomer } from '../ports.ts';
import type { ScoringConfig } from './config.ts';
import type { ModelRecord } from './fit.ts';
import { scoreCustomerBatch } from './score-customer.ts';
import { diffScore } from './score-diff.ts';

export type ModelDrift = {
  customers: number;
  /** scored by both models */
  scored: number;
  /** scored by one model only (one of them lacks the customer's kind) */
  scoredByOne: number;
  /** customers whose outcome differs between the two models */
  differ: { write: number; tier: number; band: number; rescored: number };
  /** writes under each model (against the stored scores) */
  writes: { yesterday: number; tonight: number };
  /** |CLV yesterday − CLV tonight| / max(|CLV tonight|, the CLV write threshold's absolute part) over the customers scored by both */
  clvRelative: { mean: number; p50: number; p90: number; p99: number; max: number };
};

/** Adds pages of customers, then `result()`. */
export class ModelDriftCounter {
  private readonly relative: number[] = [];
  private counts = { customers: 0, scored: 0, scoredByOne: 0, write: 0, tier: 0, band: 0, rescored: 0, writesYesterday: 0, writesTonight: 0 };

  constructor(private readonly models: { yesterday: ModelRecord; tonight: ModelRecord; runDate: string; config: ScoringConfig }) {}

  add(customers: readonly ScoringCustomer[]): void {
    const { yesterday, tonight, runDate, config } = this.models;
    const present = customers.filter((c) => c.profile);
    const inputs = present.map((c) => ({ profile: c.profile!, triggers: c.triggers, stored: c.stored }));
    const a = scoreCustomerBatch(inputs, { model: yesterday, runDate, config });
    const b = scoreCustomerBatch(inputs, { model: tonight, runDate, config });
    const n = this.counts;
    n.customers += customers.length;
    const floor = config.writeThresholds.clv.absolute;
    present.forEach((c, i) => {
      const [x, y] = [a[i]!, b[i]!];
      if (x.status !== 'scored' || y.status !== 'scored') {
        if ((x.status === 'scored') !== (y.status === 'scored')) n.scoredByOne++;
        return;
      }
      n.scored++;
      const [dx, dy] = [diffScore(c.stored, x.score, config.writeThresholds), diffScore(c.stored, y.score, config.writeThresholds)];
      if (dx.write) n.writesYesterday++;
      if (dy.write) n.writesTonight++;
      if (dx.write !== dy.write) n.write++;
      if (dx.emit !== dy.emit) n.rescored++;
      if (x.score.valueTier !== y.score.valueTier) n.tier++;
      if (x.score.riskBand !== y.score.riskBand) n.band++;
      this.relative.push(Math.abs(x.score.clv - y.score.clv) / Math.max(Math.abs(y.score.clv), floor, Number.MIN_VALUE));
    });
  }

  result(): ModelDrift {
    const r = Float64Array.from(this.relative).sort();
    const at = (p: number) => (r.length === 0 ? 0 : r[Math.min(r.length - 1, Math.floor(p * r.length))]!);
    const n = this.counts;
    return {
      customers: n.customers,
      scored: n.scored,
      scoredByOne: n.scoredByOne,
      differ: { write: n.write, tier: n.tier, band: n.band, rescored: n.rescored },
      writes: { yesterday: n.writesYesterday, tonight: n.writesTonight },
      clvRelative: { mean: r.length === 0 ? 0 : r.reduce((s, v) => s + v, 0) / r.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: r.length === 0 ? 0 : r[r.length - 1]! },
    };
  }
}
