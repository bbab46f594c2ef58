/** The OutreachDesk contract on DynamoDB Local and in memory: scores as the nightly run writes them, claims within the day's capacity. */
import { describe, expect, it } from 'vitest';
import { DynamoOutreachDesk } from '../../shared/adapters/dynamodb-outreach-desk.ts';
import { DynamoScoringStore } from '../../shared/adapters/dynamodb-scoring-store.ts';
import { emptyProfile } from '../../shared/customers/profile.ts';
import type { OutreachDesk } from '../../shared/ports.ts';
import { InMemoryOutreachDesk } from '../../shared/triggers/in-memory-outreach-desk.ts';
import { freshTable, useLocalDynamoDb } from '../support/local-aws.ts';

const local = useLocalDynamoDb();
const now = new Date('2026-11-20T10:00:00Z');

const stores: [string, () => Promise<{ desk: OutreachDesk; scored: (id: string, tier: string, clv: number, risk: number) => Promise<void> }>][] = [
  [
    'DynamoDB Local',
    async () => {
      const { tableName } = await freshTable(local.aws().dynamodb.endpoint);
      const scoring = new DynamoScoringStore(local.client(), { tableName, profiles: { empty: emptyProfile } });
      return {
        desk: new DynamoOutreachDesk(local.client(), { tableName }),
        scored: async (customerId, valueTier, clv, churnRisk) =>
          void (await scoring.writeScores([
            { customerId, kind: 'adhoc', modelId: 'm', scoredOn: '2026-11-19', clv, pAlive: 0.5, modelChurnRisk: churnRisk, churnRisk, riskBand: 'medium', valueTier: valueTier as never, nextBestAction: 'none', nextBestActionRule: 'r', activeTriggerRules: [] },
          ])),
      };
    },
  ],
  [
    'in memory',
    async () => {
      const desk = new InMemoryOutreachDesk();
      return { desk, scored: async (id, valueTier, clv, churnRisk) => void desk.scores.set(id, { valueTier, clv, churnRisk, scoredOn: '2026-11-19' }) };
    },
  ],
];

describe.each(stores)('OutreachDesk contract (%s)', (_, make) => {
  it('reads the nightly score; claims once per trigger, up to the day\'s capacity', async () => {
    const { desk, scored } = await make();
    expect(await desk.score('c1')).toBeUndefined();
    await scored('c1', 'high', 1234.5, 0.42);
    expect(await desk.score('c1')).toEqual({ clv: 1234.5, valueTier: 'high', churnRisk: 0.42, scoredOn: '2026-11-19' });
    expect(await desk.claimTask('2026-11-20', 't1', 'c1', 2, now)).toBe('claimed');
    expect(await desk.claimTask('2026-11-20', 't1', 'c1', 2, now)).toBe('claimed'); // a redelivery: the same place
    expect(await desk.claimTask('2026-11-20', 't2', 'c2', 2, now)).toBe('claimed');
    expect(await desk.claimTask('2026-11-20', 't3', 'c3', 2, now)).toBe('full');
    expect(await desk.claimTask('2026-11-20', 't2', 'c2', 2, now)).toBe('claimed');
    expect(await desk.claimTask('2026-11-21', 't3', 'c3', 2, now)).toBe('claimed'); // a new day
    expect(await desk.claimTask('2026-11-21', 't4', 'c4', 0, now)).toBe('full');
  });
});
