/**
 * ModelDriftCounter: what scoring with yesterday's model instead of tonight's changes, checked
 * against the nights themselves on the CDNOW sample with new purchases between the nights: its
 * write counts under each model are what a one-pass night and a two-pass night write.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { InMemoryCustomerStore, InMemoryScoringStore } from '../../../shared/pipeline/in-memory-ports.ts';
import { ModelDriftCounter, defaultScoringConfig as config, fitNightlyModels, gatherSummaries, summarizeProfile } from '../../../shared/scoring/index.ts';
import { cdnowModelDrift, everybody } from '../../support/model-drift.ts';
import { cdnowProfiles } from './helpers.ts';

describe('ModelDriftCounter', () => {
  it('counts nothing between a model and itself', async () => {
    const customers = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
    const profiles = [...cdnowProfiles('1997-09-30').values()];
    for (const p of profiles) customers.loadProfile(p);
    const { model } = fitNightlyModels({ runId: 'm', runDate: '1997-09-30', gathered: gatherSummaries(profiles.map((p) => summarizeProfile(p, '1997-09-30'))), sampleShare: 1, config });
    const drift = new ModelDriftCounter({ yesterday: model, tonight: model, runDate: '1997-10-01', config });
    drift.add(await everybody(new InMemoryScoringStore(customers)));
    const r = drift.result();
    expect(r).toMatchObject({ customers: 2357, scored: 2357, scoredByOne: 0, differ: { write: 0, tier: 0, band: 0, rescored: 0 }, clvRelative: { max: 0 } });
    // nothing stored yet: everybody would be written under either
    expect(r.writes).toEqual({ yesterday: 2357, tonight: 2357 });
  });

  it.each([
    ['1997-09-30', '1997-10-01'],
    ['1997-09-30', '1997-10-07'],
  ])("from %s to %s: writes under yesterday's model what a one-pass night writes, under tonight's what a two-pass night writes", async (from, to) => {
    const { drift, onePass, twoPass } = await cdnowModelDrift(from, to);
    expect([onePass.passes, twoPass.passes]).toEqual([1, 2]);
    expect(drift.writes).toEqual({ yesterday: onePass.summary.written, tonight: twoPass.summary.written });
    expect(drift.scored).toBe(2357);
    expect(drift.differ.write).toBeGreaterThanOrEqual(Math.abs(drift.writes.yesterday - drift.writes.tonight));
    const c = drift.clvRelative;
    expect(c.max).toBeGreaterThan(0);
    expect([c.p50 <= c.p90, c.p90 <= c.p99, c.p99 <= c.max]).toEqual([true, true, true]);
  });
});
