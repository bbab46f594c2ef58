/**
 * Erased customers in the lift report (in-memory ports, CDNOW sample as profiles): after a night
 * plans the month's outreach, two of its customers are erased (one treated, one control); the next
 * night's report still counts each group's full size, through the anonymous residues erasure left
 * (shared/report/erased-outreach.ts), while no assignment names them any more.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { InMemoryConsentLedger, InMemoryCustomerStore, InMemoryEventPublisher, InMemoryPrivacyStore, InMemoryReportStore, InMemoryScoringStore, forgetIn } from '../../../shared/pipeline/in-memory-ports.ts';
import { eraseCustomer } from '../../../shared/privacy/erasure.ts';
import { defaultScoringConfig as config, type NightlyDeps } from '../../../shared/scoring/index.ts';
import { runNight } from '../../support/nightly.ts';
import { cdnowProfiles } from '../scoring/helpers.ts';

describe('erased customers in the lift report', () => {
  it('still count in their groups, through their residues; no assignment names them', async () => {
    const customers = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
    for (const p of cdnowProfiles('1997-10-01').values()) customers.loadProfile(p);
    const store = new InMemoryScoringStore(customers);
    const reports = new InMemoryReportStore();
    let t = Date.parse('1997-10-01T02:00:00Z');
    const now = () => new Date((t += 7));
    const deps: NightlyDeps = { store, publisher: new InMemoryEventPublisher(), config, now, reports };
    const n1 = await runNight(deps, { runId: 'run-1997-09-30', runDate: '1997-09-30' });
    const planned = await store.outreachAssignments(config.outreach.experimentId, '1997-09');
    expect(planned.length).toBe(n1.outreach.planned);
    const treated = planned.find((a) => a.group === 'treatment')!;
    const control = planned.find((a) => a.group === 'control')!;

    const privacy = new InMemoryPrivacyStore(forgetIn(customers, new InMemoryConsentLedger()), 'salt', store);
    const scope = { outreach: { experimentIds: [config.outreach.experimentId], horizonMonths: config.churn.horizonMonths } };
    for (const a of [treated, control]) {
      const r = await eraseCustomer(a.customerId, { requestedBy: 'desk', via: 'cli' }, { store: customers, privacy, now, ...scope });
      expect(r.anonymised).toEqual({ outreach: 1 });
    }
    const left = await store.outreachAssignments(config.outreach.experimentId, '1997-09');
    expect(left.map((a) => a.customerId)).not.toContain(treated.customerId);
    expect(left.map((a) => a.customerId)).not.toContain(control.customerId);
    expect(left).toHaveLength(planned.length - 2);

    await runNight(deps, { runId: 'run-1997-10-01', runDate: '1997-10-01' });
    const sept = (await reports.latestReportPart())!.part.outreach['1997-09']!;
    expect(sept.treatment!.assigned).toBe(planned.filter((a) => a.group === 'treatment').length);
    expect(sept.control!.assigned).toBe(planned.filter((a) => a.group === 'control').length);
  }, 240_000);
});
