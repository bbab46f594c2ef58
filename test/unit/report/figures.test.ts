import { describe, expect, it } from 'vitest';
import type { ExperimentGroupPart } from '../../../shared/report/aggregate.ts';
import { defaultReportSettings, experimentFigures, verdictSentence } from '../../../shared/report/figures.ts';

const group = (assigned: number, churned: number, clv: number): ExperimentGroupPart => ({
  assigned,
  observed: assigned,
  churned,
  riskChange: { n: assigned, sum: -0.1 * assigned, sumSq: 0.02 * assigned },
  clvChange: { n: assigned, sum: 0, sumSq: 0 },
  clvAtPlan: { n: assigned, sum: clv * assigned, sumSq: clv * clv * assigned },
  clvKept: { n: assigned - churned, sum: clv * (assigned - churned), sumSq: 0 },
});
const settings = { ...defaultReportSettings, costPerContact: 10 };

describe('the outreach experiment figures', () => {
  it('measure the churn reduction, its value and the verdict (hand computation)', () => {
    // treated 20 of 200 churned, control 40 of 200: reduction 0.10, SE √(0.1·0.9/200 + 0.2·0.8/200) = 0.035355,
    // Wald 0.10 ± 0.069295; 200 contacted keep 20 (6.14 to 33.86) customers worth 1,000 each; cost 2,000.
    const f = experimentFigures('2026-10', group(200, 20, 1000), group(200, 40, 1000), settings);
    expect(f.churnReduction!.estimate).toBeCloseTo(0.1, 12);
    expect(f.churnReduction!.low).toBeCloseTo(0.030705, 5);
    expect(f.churnReduction!.high).toBeCloseTo(0.169295, 5);
    expect(f.relativeReduction!.estimate).toBeCloseTo(0.5, 12);
    expect(f.value.retained.estimate).toBeCloseTo(20, 10);
    expect(f.value.cost).toBe(2000);
    expect(f.value.valueRetained.low).toBeCloseTo(6141, 0);
    expect(f.value.verdict).toBe('pays');
    expect(f.value.breakEvenReduction).toBeCloseTo(0.01, 12);
    expect(verdictSentence(f, 1, settings)).toBe('Outreach to the top 200 at-risk customers retained 20 ± 13.9 customers and €20,000 of CLV a month at a cost of €2,000: pays.');
    // two periods pooled: per month, half
    expect(verdictSentence(f, 2, settings)).toBe('Outreach to the top 100 at-risk customers retained 10 ± 6.9 customers and €10,000 of CLV a month at a cost of €1,000: pays.');
  });

  it('is not yet measurable without churn in either group, or with no outcome known', () => {
    const none = experimentFigures('2026-11', group(50, 0, 800), group(50, 0, 800), settings);
    expect(none.churnReduction).toBeUndefined();
    expect(none.value.verdict).toBe('not yet measurable');
    expect(verdictSentence(none, 1, settings)).toBe('Outreach to the top 50 at-risk customers a month: 100 outcomes known, 0 of them churned, at a cost of €500 a month: not yet measurable.');
    expect(verdictSentence(undefined, 0, settings)).toBe('No outreach has been planned yet: not yet measurable.');
  });

  it('does not pay when the whole interval of the value is below the cost', () => {
    const f = experimentFigures('2026-10', group(400, 80, 50), group(400, 84, 50), { ...settings, costPerContact: 30 });
    expect(f.value.verdict).toBe('does not pay');
  });
});
