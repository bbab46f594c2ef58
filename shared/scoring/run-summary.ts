/**
 * The night's summary, accumulated by each worker and merged by the final step: customers
 * read, written, left unchanged, skipped (with the reason), failed and emitted, consumed
 * DynamoDB read and write units, per-step durations, and the segments that failed.
 *
 * Merging is associative and commutative with `emptyRunSummary()` as identity, so parts
 * combine in any grouping and order: counts and units add, durations add (count, total) and
 * take the maximum, failed segments form a sorted set. Durations are kept in whole
 * milliseconds and consumed units in DynamoDB's multiples of 0.5, so the sums are exact.
 */

export type StepDuration = { count: number; totalMs: number; maxMs: number };

export type RunSummaryPart = {
  customersRead: number;
  /** score items written (a value moved past its threshold) */
  written: number;
  /** scored, nothing moved: not written */
  unchanged: number;
  /** not scored: no history, or no model for the customer's kind (see `skippedReasons`) */
  skipped: number;
  skippedReasons: Record<string, number>;
  failed: number;
  /** CustomerRescored events */
  emitted: number;
  consumedReadUnits: number;
  consumedWriteUnits: number;
  durations: Record<string, StepDuration>;
  failedSegments: string[];
};

export const emptyRunSummary = (): RunSummaryPart => ({
  customersRead: 0,
  written: 0,
  unchanged: 0,
  skipped: 0,
  skippedReasons: {},
  failed: 0,
  emitted: 0,
  consumedReadUnits: 0,
  consumedWriteUnits: 0,
  durations: {},
  failedSegments: [],
});

export type CustomerOutcome =
  | { status: 'written'; emitted: boolean }
  | { status: 'unchanged' }
  | { status: 'skipped'; reason: string }
  | { status: 'failed' };

/** Counts one customer read by the worker. */
export function countCustomer(part: RunSummaryPart, outcome: CustomerOutcome): RunSummaryPart {
  const next = { ...part, customersRead: part.customersRead + 1 };
  switch (outcome.status) {
    case 'written':
      return { ...next, written: next.written + 1, emitted: next.emitted + (outcome.emitted ? 1 : 0) };
    case 'unchanged':
      return { ...next, unchanged: next.unchanged + 1 };
    case 'skipped':
      return { ...next, skipped: next.skipped + 1, skippedReasons: addCounts(next.skippedReasons, { [outcome.reason]: 1 }) };
    case 'failed':
      return { ...next, failed: next.failed + 1 };
  }
}

export function addConsumedUnits(part: RunSummaryPart, units: { read?: number; write?: number }): RunSummaryPart {
  return { ...part, consumedReadUnits: part.consumedReadUnits + (units.read ?? 0), consumedWriteUnits: part.consumedWriteUnits + (units.write ?? 0) };
}

export function addDuration(part: RunSummaryPart, step: string, ms: number): RunSummaryPart {
  const whole = Math.max(0, Math.round(ms));
  return { ...part, durations: mergeDurations(part.durations, { [step]: { count: 1, totalMs: whole, maxMs: whole } }) };
}

export function addFailedSegment(part: RunSummaryPart, segment: string): RunSummaryPart {
  return { ...part, failedSegments: unionSorted(part.failedSegments, [segment]) };
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return sortKeys(out);
}

function mergeDurations(a: Record<string, StepDuration>, b: Record<string, StepDuration>): Record<string, StepDuration> {
  const out = { ...a };
  for (const [k, d] of Object.entries(b)) {
    const held = out[k];
    out[k] = held ? { count: held.count + d.count, totalMs: held.totalMs + d.totalMs, maxMs: Math.max(held.maxMs, d.maxMs) } : { ...d };
  }
  return sortKeys(out);
}

const sortKeys = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
const unionSorted = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])].sort();

export function mergeRunSummaries(a: RunSummaryPart, b: RunSummaryPart): RunSummaryPart {
  return {
    customersRead: a.customersRead + b.customersRead,
    written: a.written + b.written,
    unchanged: a.unchanged + b.unchanged,
    skipped: a.skipped + b.skipped,
    skippedReasons: addCounts(a.skippedReasons, b.skippedReasons),
    failed: a.failed + b.failed,
    emitted: a.emitted + b.emitted,
    consumedReadUnits: a.consumedReadUnits + b.consumedReadUnits,
    consumedWriteUnits: a.consumedWriteUnits + b.consumedWriteUnits,
    durations: mergeDurations(a.durations, b.durations),
    failedSegments: unionSorted(a.failedSegments, b.failedSegments),
  };
}
