/**
 * Winback reporting (JSON, for `clm winback-report` and the lift report): the winback rate by
 * leaving reason and by offer, and the reasons customers give, month by month. Pure: it reads
 * leaver facts, the anonymous record of each leaving (no customer id, no address; written by the
 * winback sequence, kept after an erasure, docs/erasure.md).
 */
import type { ExitReason } from '../events/catalog.ts';

export type LeaverFact = {
  /** Random id of this leaving; the customer's own winback item points to it until she is erased. */
  factId: string;
  /** When she left (YYYY-MM-DD, UTC): a day, not the instant. */
  leftOn: string;
  reasonCode: ExitReason | 'unknown';
  /** A winback sequence was started (she allowed contact). */
  inSequence: boolean;
  /** Every counter-offer made, by email or as a personal-outreach task. */
  offers: { step: number; offer: string; on: string; via: 'email' | 'task' }[];
  /** How it ended, when it did: she came back, or the sequence stopped. */
  outcome?: { kind: 'returned' | 'stopped'; why?: string; on: string };
};

export type Rate = { leavers: number; returned: number; rate: number | null };

export type WinbackReport = {
  leavers: number;
  /** Per reason: everyone who left, those in a winback sequence and those not, with how many came back. */
  byReason: Record<string, { all: Rate; inSequence: Rate; notInSequence: Rate }>;
  /** Per offer: customers who got it, and how many came back after it (while it was their latest offer). */
  byOffer: Record<string, Rate>;
  /** Per month (YYYY-MM) of leaving: how many left for each reason. */
  reasonsByMonth: Record<string, Record<string, number>>;
};

const rate = (leavers: number, returned: number): Rate => ({ leavers, returned, rate: leavers === 0 ? null : Math.round((returned / leavers) * 10_000) / 10_000 });
const sortKeys = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** The report over the facts whose leaving day is in [from, to] (YYYY-MM-DD, both optional). */
export function winbackReport(facts: readonly LeaverFact[], range: { from?: string; to?: string } = {}): WinbackReport {
  const inRange = facts.filter((f) => (range.from === undefined || f.leftOn >= range.from) && (range.to === undefined || f.leftOn <= range.to));
  const byReason: Record<string, { all: [number, number]; inSequence: [number, number]; notInSequence: [number, number] }> = {};
  const byOffer: Record<string, [number, number]> = {};
  const reasonsByMonth: Record<string, Record<string, number>> = {};
  for (const f of inRange) {
    const returned = f.outcome?.kind === 'returned' ? 1 : 0;
    const r = (byReason[f.reasonCode] ??= { all: [0, 0], inSequence: [0, 0], notInSequence: [0, 0] });
    for (const cell of [r.all, f.inSequence ? r.inSequence : r.notInSequence]) {
      cell[0] += 1;
      cell[1] += returned;
    }
    const month = f.leftOn.slice(0, 7);
    const m = (reasonsByMonth[month] ??= {});
    m[f.reasonCode] = (m[f.reasonCode] ?? 0) + 1;
    // An offer is credited with a return when it was the latest offer made before she came back.
    const made = [...f.offers].sort((a, b) => a.on.localeCompare(b.on) || a.step - b.step);
    const latestBeforeReturn = returned ? made.filter((o) => o.on <= f.outcome!.on).at(-1) : undefined;
    for (const o of new Map(made.map((x) => [x.offer, x])).values()) {
      const cell = (byOffer[o.offer] ??= [0, 0]);
      cell[0] += 1;
      if (latestBeforeReturn?.offer === o.offer) cell[1] += 1;
    }
  }
  return {
    leavers: inRange.length,
    byReason: sortKeys(Object.fromEntries(Object.entries(byReason).map(([k, v]) => [k, { all: rate(...v.all), inSequence: rate(...v.inSequence), notInSequence: rate(...v.notInSequence) }]))),
    byOffer: sortKeys(Object.fromEntries(Object.entries(byOffer).map(([k, v]) => [k, rate(...v)]))),
    reasonsByMonth: sortKeys(Object.fromEntries(Object.entries(reasonsByMonth).map(([k, v]) => [k, sortKeys(v)]))),
  };
}
