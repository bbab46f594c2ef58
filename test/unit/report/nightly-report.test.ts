/**
 * The report's aggregate inside the nightly run (in-memory ports, CDNOW sample as profiles):
 * every scoring worker adds its customers to a part carried through JSON between invocations,
 * the finish step merges the parts and stores the night's part, and the next night's workers
 * follow the outreach assignments planned the night before.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { InMemoryCustomerStore, InMemoryEventPublisher, InMemoryReportStore, InMemoryScoringStore } from '../../../shared/pipeline/in-memory-ports.ts';
import type { StoredReportPart } from '../../../shared/ports.ts';
import { reportPartSchema } from '../../../shared/report/part-schema.ts';
import { reportPeriodCount, reportPeriods } from '../../../shared/report/nightly.ts';
import { reportFigures } from '../../../shared/report/figures.ts';
import { defaultScoringConfig as config, type NightlyDeps } from '../../../shared/scoring/index.ts';
import { runNight } from '../../support/nightly.ts';
import { cdnowProfiles } from '../scoring/helpers.ts';

describe('the nightly run keeps the report aggregate', () => {
  const customers = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
  for (const p of cdnowProfiles('1997-10-01').values()) customers.loadProfile(p);
  const store = new InMemoryScoringStore(customers);
  const reports = new InMemoryReportStore();
  let t = Date.parse('1997-10-01T02:00:00Z');
  const deps: NightlyDeps = { store, publisher: new InMemoryEventPublisher(), config, now: () => new Date((t += 7)), reports };
  let first: StoredReportPart;
  let second: StoredReportPart;
  let planned: { treated: number; planned: number };
  beforeAll(async () => {
    const n1 = await runNight(deps, { runId: 'run-1997-09-30', runDate: '1997-09-30' }, { pageSize: 25, pagesPerInvocation: 2 });
    planned = { treated: n1.outreach.treated, planned: n1.outreach.planned };
    first = (await reports.latestReportPart())!;
    await runNight(deps, { runId: 'run-1997-10-01', runDate: '1997-10-01' });
    second = (await reports.latestReportPart())!;
  });

  it('stores one merged part a night, counting every scored customer once', () => {
    expect(first).toMatchObject({ runId: 'run-1997-09-30', runDate: '1997-09-30' });
    expect(second).toMatchObject({ runId: 'run-1997-10-01', runDate: '1997-10-01' });
    for (const s of [first, second]) {
      expect(reportPartSchema.safeParse(s.part).success).toBe(true);
      expect(s.part.customers).toBe(2357);
      expect(s.part.best.top.customers + s.part.best.rest.customers).toBe(2357);
      const survived = Object.values(s.part.survival.all!).reduce((n, [e, c]) => n + e + c, 0);
      expect(survived).toBe(2357);
    }
    // the top value tier is the top CLV decile of the fit sample (everybody here)
    expect(second.part.best.top.customers / 2357).toBeCloseTo(0.1, 1);
  });

  it('follows the assignments planned on an earlier night', () => {
    expect(first.part.outreach).toEqual({});
    const sept = second.part.outreach['1997-09']!;
    expect(sept.treatment!.assigned).toBe(planned.treated);
    expect(sept.treatment!.assigned + sept.control!.assigned).toBe(planned.planned);
    // ad-hoc buyers: the outcome is known only after the churn horizon
    expect(sept.treatment!.observed + sept.control!.observed).toBe(0);
    const f = reportFigures(second.part, { runId: second.runId, runDate: second.runDate, generatedAt: new Date(0) });
    expect(f.outreach.verdict).toMatch(/^Outreach to the top \d+ at-risk customers a month: no outcome is known yet \(0 of 200 observed\), at a cost of €[\d,]+ a month: not yet measurable\.$/);
  });

  it('follows the churn horizon + 2 months up to the run date (an ad-hoc outcome is known after the horizon)', () => {
    expect(reportPeriods('1997-10-01', reportPeriodCount(3))).toEqual(['1997-06', '1997-07', '1997-08', '1997-09', '1997-10']);
    expect(reportPeriods('2027-01-31', 3)).toEqual(['2026-11', '2026-12', '2027-01']);
  });
});
