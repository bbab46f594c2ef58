/**
 * The nightly bench's table "yesterday's model against tonight's" (docs/scoring.md, one pass):
 * what scoring a night with the previous night's model instead of tonight's changes.
 *  - the bench base, quiet night: the stored scores as night 1 left them (read before night 2),
 *    night 2's profiles and triggers read after it, scored with night 1's model and with the
 *    model night 2 fitted (shared/scoring/model-drift.ts);
 *  - the CDNOW sample with the purchases of the days between the nights (a night with new
 *    events), over the in-memory ports, a day and a week apart (test/support/model-drift.ts).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoScoringStore } from '../shared/adapters/dynamodb-scoring-store.ts';
import { emptyProfile } from '../shared/customers/profile.ts';
import { allScoringShards } from '../shared/data-model/keys.ts';
import type { ScoringCustomer } from '../shared/ports.ts';
import { type ModelDrift, ModelDriftCounter, defaultScoringConfig, runIdOf } from '../shared/scoring/index.ts';
import { cdnowModelDrift } from '../test/support/model-drift.ts';

const DAY_MS = 86_400_000;

/** Every customer of the table, page by page, `concurrency` shards at once, as a night reads them (triggers of the last `churn.triggerMaxAgeDays`). */
async function eachCustomerPage(store: DynamoScoringStore, runDate: string, concurrency: number, onPage: (customers: ScoringCustomer[]) => void): Promise<void> {
  const triggersSince = new Date(Date.parse(`${runDate}T00:00:00Z`) + DAY_MS - 1 - defaultScoringConfig.churn.triggerMaxAgeDays * DAY_MS);
  const shards = [...allScoringShards()];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let shard = shards.shift(); shard; shard = shards.shift()) {
        let cursor;
        do {
          const page = await store.readSegment(shard, cursor, 250, { triggersSince });
          onPage(page.customers);
          cursor = page.next;
        } while (cursor);
      }
    }),
  );
}

/** The stored scores as they are now (call it before the night whose outcomes are compared). */
export async function storedScores(client: DynamoDBClient, tableName: string, runDate: string, concurrency: number): Promise<Map<string, ScoringCustomer['stored']>> {
  const store = new DynamoScoringStore(client, { tableName, profiles: { empty: emptyProfile } });
  const held = new Map<string, ScoringCustomer['stored']>();
  await eachCustomerPage(store, runDate, concurrency, (customers) => {
    for (const c of customers) held.set(c.customerId, c.stored);
  });
  return held;
}

const pct = (n: number, of: number) => `${n.toLocaleString('en')} (${((100 * n) / Math.max(1, of)).toFixed(2)} %)`;
const rel = (x: number) => `${(100 * x).toFixed(2)} %`;
function row(name: string, d: ModelDrift): string {
  const c = d.clvRelative;
  return `| ${name} | ${d.scored.toLocaleString('en')} | ${pct(d.differ.write, d.scored)} | ${pct(d.differ.tier, d.scored)} | ${pct(d.differ.band, d.scored)} | ${pct(d.differ.rescored, d.scored)} | ${d.writes.yesterday.toLocaleString('en')} / ${d.writes.tonight.toLocaleString('en')} | ${rel(c.p50)} / ${rel(c.p90)} / ${rel(c.p99)} / ${rel(c.max)} |`;
}

/**
 * The table's lines. `before`: the stored scores before the night of `runDate` (`storedScores`);
 * the night's own model and the previous night's are read from the table.
 */
export async function modelDriftTable(client: DynamoDBClient, tableName: string, nights: { previous: string; runDate: string }, before: Map<string, ScoringCustomer['stored']>, concurrency: number): Promise<string[]> {
  const store = new DynamoScoringStore(client, { tableName, profiles: { empty: emptyProfile } });
  const [yesterday, tonight] = [await store.getModel(runIdOf(nights.previous), nights.previous), await store.getModel(runIdOf(nights.runDate), nights.runDate)];
  if (!yesterday || !tonight) throw new Error(`the models of ${nights.previous} and ${nights.runDate} are not both stored`);
  const counter = new ModelDriftCounter({ yesterday, tonight, runDate: nights.runDate, config: defaultScoringConfig });
  await eachCustomerPage(store, nights.runDate, concurrency, (customers) => {
    counter.add(customers.map((c) => ({ ...c, stored: before.get(c.customerId) })));
  });
  const lines = [
    `| yesterday's model against tonight's: base, nights | customers scored by both | score write differs | tier differs | risk band differs | CustomerRescored differs | writes: yesterday's / tonight's model | CLV relative difference p50 / p90 / p99 / max |`,
    `|---|---:|---:|---:|---:|---:|---:|---|`,
    row(`bench base, quiet night ${nights.runDate} (night 1's model / night 2's)`, counter.result()),
  ];
  for (const [from, to] of [['1997-09-30', '1997-10-01'], ['1997-09-30', '1997-10-07']] as const) {
    lines.push(row(`CDNOW sample, ${from} → ${to} (new purchases between)`, (await cdnowModelDrift(from, to)).drift));
  }
  return lines;
}
