/**
 * The nightly run's steps end to end on DynamoDB Local: the CDNOW sample loaded as profile
 * items (with their scoring shard, as ingest writes them), night 1, a rerun of night 1, a
 * quiet night 2 — with the same results as the in-memory ports give.
 */
import { describe, expect, it } from 'vitest';
import { DynamoScoringStore } from '../../shared/adapters/dynamodb-scoring-store.ts';
import { emptyProfile, applyEvent } from '../../shared/customers/profile.ts';
import { InMemoryCustomerStore, InMemoryEventPublisher, InMemoryScoringStore } from '../../shared/pipeline/in-memory-ports.ts';
import { defaultScoringConfig as config, type NightlyDeps } from '../../shared/scoring/index.ts';
import { cdnowProfiles } from '../unit/scoring/helpers.ts';
import { loadProfileItems, runNight } from '../support/nightly.ts';
import { freshTable, useLocalDynamoDb } from '../support/local-aws.ts';

const local = useLocalDynamoDb();
const profiles = [...cdnowProfiles('1997-10-01').values()];
const night1 = { runId: 'run-1997-09-30', runDate: '1997-09-30' };
const night2 = { runId: 'run-1997-10-01', runDate: '1997-10-01' };

describe('the nightly run on DynamoDB Local (CDNOW sample)', () => {
  it('night 1 writes everybody, its rerun writes, emits and assigns nothing, a quiet night 2 writes under 1 % — as in memory', async () => {
    const { tableName } = await freshTable(local.aws().dynamodb.endpoint);
    await loadProfileItems(local.client(), tableName, profiles);
    const publisher = new InMemoryEventPublisher();
    let t = Date.parse('1997-10-01T02:00:00Z');
    const deps: NightlyDeps = { store: new DynamoScoringStore(local.client(), { tableName, profiles: { empty: emptyProfile } }), publisher, config, now: () => new Date((t += 7)) };

    const first = await runNight(deps, night1, { pageSize: 100, pagesPerInvocation: 1 });
    expect(first.summary).toMatchObject({ customersRead: 2357, written: 2357, emitted: 2357, skipped: 0, failed: 0 });
    expect(first.outreach).toMatchObject({ quota: 200, planned: 200, created: 200 });
    // every customer's profile and score were read (twice: gather and score), every score written once
    expect(first.summary.consumedReadUnits).toBeGreaterThan(2357);
    expect(first.summary.consumedWriteUnits).toBeGreaterThanOrEqual(2357);
    const planned = publisher.ofType('OutreachPlanned').length;
    expect(planned).toBe(first.outreach.treated);

    const rerun = await runNight(deps, night1, { pageSize: 70, pagesPerInvocation: 3 });
    expect(rerun.model.reused).toBe(true);
    expect(rerun.summary).toMatchObject({ customersRead: 2357, written: 0, emitted: 0, unchanged: 2357, consumedWriteUnits: 0 });
    expect(rerun.outreach).toMatchObject({ planned: 200, created: 0 });
    expect(publisher.ofType('OutreachPlanned')).toHaveLength(planned);
    expect(publisher.ofType('CustomerRescored')).toHaveLength(2357);

    const second = await runNight(deps, night2);
    expect(second.summary.written).toBeLessThan(2357 * 0.01);
    expect(second.summary.consumedWriteUnits).toBeLessThan(2357 * 0.01 * 2);

    // the same nights over the in-memory ports give the same counts and the same outreach
    const customers = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
    for (const p of profiles) customers.loadProfile(p);
    const mem: NightlyDeps = { store: new InMemoryScoringStore(customers), publisher: new InMemoryEventPublisher(), config, now: deps.now };
    const counts = (s: typeof first.summary) => ({ read: s.customersRead, written: s.written, emitted: s.emitted, unchanged: s.unchanged, skipped: s.skipped });
    const m1 = await runNight(mem, night1);
    const m2 = await runNight(mem, night2);
    expect(counts(m1.summary)).toEqual(counts(first.summary));
    expect(counts(m2.summary)).toEqual(counts(second.summary));
    expect(m1.outreach).toEqual(first.outreach);
    expect(m1.model.model).toEqual(first.model.model);
  }, 240_000); // three nights of 2,357 customers on DynamoDB Local: ~30–40 s alone, more beside other test files on 2 cores
});
