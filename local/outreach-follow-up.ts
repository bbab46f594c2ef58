/**
 * The local run's follow-up of the outreach experiment (`npm start -- --nights N
 * --outreach-effect R`): after each night but the last, the customers that night planned for
 * outreach go through the churn horizon as the synthetic world's true effect says
 * (local/synthetic/outreach-effect.ts): a planned customer churns with her churn risk at
 * planning as the chance, lowered by the factor (1 − R) when she is in the treated group; a
 * churning subscriber cancels, an ad-hoc buyer who stays buys again, on a day of the horizon
 * after the plan. The events are published through the bus like any producer's, and the next
 * night is scheduled after the horizon (`followUpDays`), when every outcome is known: its
 * report measures the effect with its interval.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoScoringStore } from '../shared/adapters/dynamodb-scoring-store.ts';
import { emptyProfile } from '../shared/customers/profile.ts';
import type { ScoringStore } from '../shared/ports.ts';
import { outreachPeriod, type OutreachAssignment } from '../shared/scoring/outreach.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './services.ts';
import { type OutreachEffect, churnsAfterPlan, followUpEvents } from './synthetic/outreach-effect.ts';
import type { GeneratedEntry } from './synthetic/generate.ts';

export type FollowUp = { planned: OutreachAssignment[]; churning: number; entries: GeneratedEntry[] };

/** Days from a plan to the night that knows every outcome: the churn horizon, as the report counts it (30.44 days a month). */
export const followUpDays = (horizonMonths: number): number => Math.ceil(horizonMonths * 30.44);

/** The follow-up events of the assignments planned on `runDate` (pure but for the store's reads). */
export async function outreachFollowUp(
  store: Pick<ScoringStore, 'outreachAssignments' | 'readCustomers'>,
  o: { experimentId: string; runDate: string; seed: number; horizonMonths: number; effect: OutreachEffect },
): Promise<FollowUp> {
  const planned = (await store.outreachAssignments(o.experimentId, outreachPeriod(o.runDate))).filter((a) => a.plannedOn === o.runDate);
  const { customers } = await store.readCustomers(planned.map((a) => a.customerId), undefined, { scores: false });
  const profiles = new Map(customers.map((c) => [c.customerId, c.profile]));
  const entries = planned.flatMap((a) => {
    const profile = profiles.get(a.customerId);
    return profile ? followUpEvents(a, profile, { seed: o.seed, horizonMonths: o.horizonMonths, effect: o.effect }) : [];
  });
  return { planned, churning: planned.filter((a) => churnsAfterPlan(a, o.seed, o.effect)).length, entries };
}

/** The same against the local stack's table. */
export async function localOutreachFollowUp(o: { endpoint: string; tableName: string } & Parameters<typeof outreachFollowUp>[1]): Promise<FollowUp> {
  const client = new DynamoDBClient({ endpoint: o.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    return await outreachFollowUp(new DynamoScoringStore(client, { tableName: o.tableName, profiles: { empty: emptyProfile } }), o);
  } finally {
    client.destroy();
  }
}
