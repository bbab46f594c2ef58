import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CustomerOutcome,
  type RunSummaryPart,
  addConsumedUnits,
  addDuration,
  addFailedSegment,
  countCustomer,
  emptyRunSummary,
  mergeRunSummaries,
} from '../../../shared/scoring/run-summary.ts';

type Rec =
  | { t: 'customer'; outcome: CustomerOutcome }
  | { t: 'units'; read: number; write: number }
  | { t: 'duration'; step: string; ms: number }
  | { t: 'segment'; id: string };

const apply = (part: RunSummaryPart, r: Rec): RunSummaryPart => {
  switch (r.t) {
    case 'customer':
      return countCustomer(part, r.outcome);
    case 'units':
      return addConsumedUnits(part, { read: r.read, write: r.write });
    case 'duration':
      return addDuration(part, r.step, r.ms);
    case 'segment':
      return addFailedSegment(part, r.id);
  }
};
const fold = (recs: readonly Rec[]) => recs.reduce(apply, emptyRunSummary());

const half = fc.integer({ min: 0, max: 400 }).map((n) => n / 2);
const rec: fc.Arbitrary<Rec> = fc.oneof(
  fc.record({
    t: fc.constant('customer' as const),
    outcome: fc.oneof(
      fc.record({ status: fc.constant('written' as const), emitted: fc.boolean() }),
      fc.constant({ status: 'unchanged' as const }),
      fc.record({ status: fc.constant('skipped' as const), reason: fc.constantFrom('no-history', 'unscorable') }),
      fc.constant({ status: 'failed' as const }),
    ),
  }),
  fc.record({ t: fc.constant('units' as const), read: half, write: half }),
  fc.record({ t: fc.constant('duration' as const), step: fc.constantFrom('score', 'write', 'read'), ms: fc.double({ min: 0, max: 1e5, noNaN: true }) }),
  fc.record({ t: fc.constant('segment' as const), id: fc.constantFrom('SHARD#00', 'SHARD#07', 'SHARD#31') }),
);
const part = fc.array(rec, { maxLength: 30 }).map(fold);

describe('run summary', () => {
  it('counts customers by outcome, units, durations and failed segments', () => {
    const s = fold([
      { t: 'customer', outcome: { status: 'written', emitted: true } },
      { t: 'customer', outcome: { status: 'written', emitted: false } },
      { t: 'customer', outcome: { status: 'unchanged' } },
      { t: 'customer', outcome: { status: 'skipped', reason: 'no-history' } },
      { t: 'customer', outcome: { status: 'failed' } },
      { t: 'units', read: 2.5, write: 3 },
      { t: 'duration', step: 'score', ms: 10.4 },
      { t: 'duration', step: 'score', ms: 30.6 },
      { t: 'segment', id: 'SHARD#07' },
      { t: 'segment', id: 'SHARD#07' },
    ]);
    expect(s).toEqual({
      customersRead: 5,
      written: 2,
      unchanged: 1,
      skipped: 1,
      skippedReasons: { 'no-history': 1 },
      failed: 1,
      emitted: 1,
      consumedReadUnits: 2.5,
      consumedWriteUnits: 3,
      durations: { score: { count: 2, totalMs: 41, maxMs: 31 } },
      failedSegments: ['SHARD#07'],
    });
  });

  it('merge is associative and commutative, with the empty summary as identity (property)', () => {
    fc.assert(
      fc.property(part, part, part, (a, b, c) => {
        expect(mergeRunSummaries(mergeRunSummaries(a, b), c)).toEqual(mergeRunSummaries(a, mergeRunSummaries(b, c)));
        expect(mergeRunSummaries(a, b)).toEqual(mergeRunSummaries(b, a));
        expect(mergeRunSummaries(a, emptyRunSummary())).toEqual(a);
      }),
    );
  });

  it('workers\' parts merged equal one worker doing everything (property)', () => {
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 60 }), fc.array(fc.nat(3), { maxLength: 60 }), (recs, split) => {
        const parts: Rec[][] = [[], [], [], []];
        recs.forEach((r, i) => parts[split[i] ?? 0]!.push(r));
        expect(parts.map(fold).reduce(mergeRunSummaries, emptyRunSummary())).toEqual(fold(recs));
      }),
    );
  });
});
