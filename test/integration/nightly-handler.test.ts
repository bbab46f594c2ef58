/**
 * The nightly-rescore handler driven step by step as the state machine will drive it (every
 * input and output through JSON), on DynamoDB Local with the CDNOW sample, events captured
 * at an EventBridge-compatible endpoint: a night, then its rerun.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { cdnowProfiles } from '../unit/scoring/helpers.ts';
import { ENV } from '../../shared/wiring.ts';
import { localDynamoDbClient } from '../../local/services.ts';
import { freshTable, startCaptureServer, startLocalAws, useLocalEndpoints, type LocalAws } from '../support/local-aws.ts';
import { loadProfileItems } from '../support/nightly.ts';

let aws: LocalAws;
let capture: Awaited<ReturnType<typeof startCaptureServer>>;
let handler: (e: unknown, c: Context) => Promise<unknown>;
// less than the handler's safety margin left: each segment invocation takes one page and returns its checkpoint
const context = { functionName: 'nightly', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

beforeAll(async () => {
  [aws, capture] = await Promise.all([startLocalAws({ ses: false }), startCaptureServer()]);
  const { tableName } = await freshTable(aws.dynamodb.endpoint);
  const client = localDynamoDbClient(aws.dynamodb.endpoint);
  await loadProfileItems(client, tableName, [...cdnowProfiles('1997-10-01').values()]);
  client.destroy();
  useLocalEndpoints({ dynamodb: aws.dynamodb.endpoint, eventbridge: capture.endpoint });
  Object.assign(process.env, { [ENV.tableName]: tableName, [ENV.busName]: 'clm-test-bus', [ENV.scoringConfig]: JSON.stringify({ outreach: { customersPerMonth: 100 } }) });
  handler = (await import('../../functions/nightly-rescore/handler.ts')).handler as never;
});
afterAll(async () => {
  await Promise.all([aws?.stop(), capture?.stop()]);
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const invoke = async (input: Json): Promise<Json> => JSON.parse(JSON.stringify(await handler(JSON.parse(JSON.stringify(input)), context)));

/** The flow the state machine runs: start, gather every segment to its end, fit, score every segment to its end, finish. */
async function night(scheduledTime: string): Promise<{ result: Json; invocations: number }> {
  let invocations = 1;
  const start = await invoke({ subscription: 'NightlyRescore', scheduledTime });
  const loop = async (step: 'gather' | 'score', extra: Json) => {
    const parts = [];
    for (const segment of start.segments as string[]) {
      // the first input names the segment; then each output is the next input, as a state machine's loop passes it back
      let out: Json = { step, night: start.night, segment, ...extra };
      do {
        invocations++;
        out = await invoke(out);
      } while (!out.done);
      parts.push(out);
    }
    return parts;
  };
  const gathered = await loop('gather', { sampleShare: start.sampleShare });
  const fit = await invoke({ step: 'fit', night: start.night, sampleShare: start.sampleShare, results: gathered });
  const scored = await loop('score', { keep: fit.keep });
  const result = await invoke({ step: 'finish', night: start.night, keep: fit.keep, fit: fit.fit, results: scored, gather: fit.gather, failedSegments: fit.failedSegments });
  return { result, invocations: invocations + 2 };
}

const sent = (type: string) => capture.putEvents().filter((e) => e.DetailType === type);

describe('nightly-rescore handler (DynamoDB Local, captured bus)', () => {
  it('runs a night step by step, and its rerun writes, emits and assigns nothing', async () => {
    const first = await night('1997-10-01T02:00:00Z');
    expect(first.result.summary).toMatchObject({ customersRead: 2357, written: 2357, emitted: 2357, failed: 0, failedSegments: [] });
    expect(first.result.outreach).toMatchObject({ period: '1997-09', quota: 100, planned: 100, created: 100 });
    // start, fit, finish and one invocation per segment and pass: no shard of 2,357 customers fills a page of 100
    expect(first.invocations).toBe(2 * 32 + 3);
    expect(sent('CustomerRescored')).toHaveLength(2357);
    expect(sent('OutreachPlanned')).toHaveLength(first.result.outreach.treated);
    const [done] = sent('NightlyRunCompleted');
    expect(JSON.parse(done!.Detail)).toMatchObject({ runId: 'run-1997-09-30', runDate: '1997-09-30', customersRead: 2357, fitStatus: 'fitted', alarm: false });
    expect(done!.Source).toBe('clm.scoring');

    const rerun = await night('1997-10-01T02:00:00Z');
    expect(rerun.result.summary).toMatchObject({ customersRead: 2357, written: 0, emitted: 0 });
    // no score written: the only writes are the segments' outreach top-N parts (the gathering is skipped, the model is stored)
    expect(rerun.result.summary.consumedWriteUnits).toBeGreaterThan(0);
    expect(rerun.result.summary.consumedWriteUnits).toBeLessThan(first.result.summary.consumedWriteUnits / 10);
    expect(rerun.result.outreach).toMatchObject({ planned: 100, created: 0 });
    expect(sent('CustomerRescored')).toHaveLength(2357);
    expect(sent('OutreachPlanned')).toHaveLength(first.result.outreach.treated);
    expect(sent('NightlyRunCompleted')).toHaveLength(2);
  }, 300_000);

  it('names the segments the state machine marked failed (gathering or scoring) in the summary', async () => {
    const tonight = { source: 'tonight' };
    const fit = { status: 'fitted', alarm: false, components: { bgnbd: tonight, gammaGamma: tonight, sbg: { source: 'none', reason: 'no subscribers' }, tierCuts: tonight } };
    const gather = (await invoke({ step: 'fit', night: { runId: 'run-1997-09-30', runDate: '1997-09-30' }, sampleShare: 1, results: [{ segment: 'SHARD#07', failed: true }] })) as Json;
    expect(gather).toMatchObject({ modelId: 'run-1997-09-30', reused: true, failedSegments: ['SHARD#07'] });
    const out = await invoke({ step: 'finish', night: { runId: 'run-1997-09-30', runDate: '1997-09-30' }, keep: 0, fit, gather: gather.gather, failedSegments: gather.failedSegments, results: [{ segment: 'SHARD#03', failed: true }] });
    expect(out.summary.failedSegments).toEqual(['SHARD#03', 'SHARD#07']);
    expect(JSON.parse(sent('NightlyRunCompleted').at(-1)!.Detail).failedSegments).toEqual(['SHARD#03', 'SHARD#07']);
  });

  it('refuses an input that is no step, with the reason', async () => {
    await expect(invoke({ step: 'score', night: { runId: 'run-x', runDate: '1997-09-30' }, segment: 'SHARD#99x', keep: 1 })).rejects.toThrow(/invalid nightly step input/);
    await expect(invoke({ step: 'score', night: { runId: 'run-none', runDate: '1997-09-30' }, segment: 'SHARD#01', keep: 1 })).rejects.toThrow(/no model stored for run run-none/);
  });
});
