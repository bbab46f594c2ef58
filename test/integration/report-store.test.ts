/** DynamoReportStore against the real DynamoDB Local: one item per night, the latest by run date, the part back as stored. */
import { describe, expect, it } from 'vitest';
import { DynamoReportStore } from '../../shared/adapters/dynamodb-report-store.ts';
import { freshTable, useLocalDynamoDb } from '../support/local-aws.ts';
import { reportFixture } from '../support/report-fixture.ts';

const local = useLocalDynamoDb();

describe('DynamoReportStore (DynamoDB Local)', () => {
  it('stores a night once per run (a rerun replaces it) and reads back the latest night as stored', async () => {
    const { tableName } = await freshTable(local.aws().dynamodb.endpoint);
    const store = new DynamoReportStore(local.client(), { tableName });
    expect(await store.latestReportPart()).toBeUndefined();
    const night = reportFixture({ customers: 300 });
    const earlier = { ...reportFixture({ customers: 50, runDate: '2026-11-29' }), runId: 'run-2026-11-29' };
    await store.putReportPart(night);
    await store.putReportPart(earlier);
    expect(await store.latestReportPart()).toEqual(night);
    const rerun = { ...night, storedAt: '2026-11-30T04:00:00.000Z', part: { ...night.part, customers: 301 } };
    await store.putReportPart(rerun);
    expect(await store.latestReportPart()).toEqual(rerun);
  });
});
