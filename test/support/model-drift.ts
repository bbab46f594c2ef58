/**
 * What scoring with yesterday's model changes, on the CDNOW sample with the purchases of the days
 * between two nights (a night with new events), over the in-memory ports: the same base after
 * `from`'s night, tonight's model fitted with nothing scored yet, the customers counted by
 * ModelDriftCounter; then the night itself run in one pass and, in a twin world, in two. Used
 * by test/unit/scoring/model-drift.test.ts and `npm run bench:nightly` (its drift table).
 */
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { allScoringShards } from '../../shared/data-model/keys.ts';
import { InMemoryCustomerStore, InMemoryEventPublisher, InMemoryScoringStore } from '../../shared/pipeline/in-memory-ports.ts';
import type { ScoringCustomer } from '../../shared/ports.ts';
import { type ModelDrift, type NightResult, type NightlyDeps, ModelDriftCounter, defaultScoringConfig, runIdOf } from '../../shared/scoring/index.ts';
import { cdnowProfiles } from '../unit/scoring/helpers.ts';
import { runNight } from './nightly.ts';

const DAY_MS = 86_400_000;

/** The CDNOW sample up to `from`, scored on `from`'s night; then the purchases up to `to` loaded. */
async function world(from: string, to: string, oneMaxDays: number) {
  const customers = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
  for (const p of cdnowProfiles(from).values()) customers.loadProfile(p);
  const store = new InMemoryScoringStore(customers);
  let t = Date.parse(`${from}T02:00:00Z`);
  const config = { ...defaultScoringConfig, fit: { ...defaultScoringConfig.fit, scoreWithPreviousModelDays: oneMaxDays } };
  const deps: NightlyDeps = { store, publisher: new InMemoryEventPublisher(), config, now: () => new Date((t += 7)) };
  await runNight(deps, { runId: runIdOf(from), runDate: from });
  for (const p of cdnowProfiles(to).values()) customers.loadProfile(p);
  return { store, deps };
}

/** Every customer of the store as a night reads her (profile, stored score, triggers). */
export async function everybody(store: InMemoryScoringStore): Promise<ScoringCustomer[]> {
  const all: ScoringCustomer[] = [];
  for (const segment of allScoringShards()) all.push(...(await store.readSegment(segment, undefined, 10_000, { triggersSince: new Date(0) })).customers);
  return all;
}

export async function cdnowModelDrift(from: string, to: string): Promise<{ drift: ModelDrift; onePass: NightResult; twoPass: NightResult }> {
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS;
  const [one, two] = [await world(from, to, days), await world(from, to, 0)];
  const night = { runId: runIdOf(to), runDate: to };
  // tonight's model, fitted with nothing scored yet (the scores stored are `from`'s night's)
  await runNight(two.deps, night, { scoreSegments: [] });
  const [yesterday, tonight] = [(await two.store.getModel(runIdOf(from), from))!, (await two.store.getModel(night.runId, to))!];
  const counter = new ModelDriftCounter({ yesterday, tonight, runDate: to, config: defaultScoringConfig });
  counter.add(await everybody(two.store));
  const onePass = await runNight(one.deps, night);
  // the two-pass night's score steps, with the model fitted above
  const twoPass = await runNight(two.deps, night);
  return { drift: counter.result(), onePass, twoPass };
}
