/**
 * The nightly run's state machine as CDK synthesizes it, executed by an ASL interpreter
 * (aws-local-stepfunctions, through local/nightly-run.ts as `npm start -- --run-nightly` runs
 * it) with its Lambda tasks overridden by the real nightly-rescore handler, on DynamoDB Local
 * with the CDNOW sample and a captured bus: a night, a night with a segment that keeps failing
 * (retried, named, the others finish), and the rerun that resumes it (two passes: the nights
 * before have no model of the day before), then a quiet next night in one pass (scored with
 * the model of the night before while gathering, then fitted), its rerun, and a one-pass night
 * with a segment that keeps failing and its rerun.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { Duration } from 'aws-cdk-lib';
import type { Context } from 'aws-lambda';
import { aslOf } from '../../infra/asl.ts';
import { synthesizedNightlyRunDefinition } from '../../infra/constructs/nightly-run.ts';
import { runNightlyStateMachine } from '../../local/nightly-run.ts';
import { DynamoScoringStore } from '../../shared/adapters/dynamodb-scoring-store.ts';
import { emptyProfile } from '../../shared/customers/profile.ts';
import { localDynamoDbClient } from '../../local/services.ts';
import { scoringShard } from '../../shared/data-model/keys.ts';
import { ENV, functionSpecs, nightlyRun } from '../../shared/wiring.ts';
import { cdnowProfiles } from '../unit/scoring/helpers.ts';
import { arnOf, logicalId, resourcesOf, synth } from '../infra/helpers.ts';
import { freshTable, startCaptureServer, startLocalAws, useLocalEndpoints, type LocalAws } from '../support/local-aws.ts';
import { loadProfileItems } from '../support/nightly.ts';

const profiles = [...cdnowProfiles('1997-10-01').values()];
let aws: LocalAws;
let capture: Awaited<ReturnType<typeof startCaptureServer>>;
let handler: (e: unknown, c: Context) => Promise<unknown>;
let table: string;

beforeAll(async () => {
  [aws, capture] = await Promise.all([startLocalAws({ ses: false }), startCaptureServer()]);
  const { tableName } = await freshTable(aws.dynamodb.endpoint);
  table = tableName;
  const client = localDynamoDbClient(aws.dynamodb.endpoint);
  // as ingest stores them: the scoring index carries each profile's scoring view (a night reads the index alone)
  await loadProfileItems(client, tableName, profiles, undefined, { scoringView: true });
  client.destroy();
  useLocalEndpoints({ dynamodb: aws.dynamodb.endpoint, eventbridge: capture.endpoint });
  Object.assign(process.env, { [ENV.tableName]: tableName, [ENV.busName]: 'clm-test-bus' });
  handler = (await import('../../functions/nightly-rescore/handler.ts')).handler as never;
}, 120_000);
afterAll(async () => {
  await Promise.all([aws?.stop(), capture?.stop()]);
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const night1 = new Date('1997-10-01T02:00:00Z');
// A week later (run date 1997-10-08): a third of the customers have a score to write (the day after, hardly any).
const night2 = new Date('1997-10-09T02:00:00Z');
// The day after (run date 1997-10-09): night 2's model is a day old, so one pass.
const night3 = new Date('1997-10-10T02:00:00Z');

/** The read units of one Query of the whole scoring index, every shard, as a night's pages read it. */
async function indexPassUnits(): Promise<number> {
  const client = localDynamoDbClient(aws.dynamodb.endpoint);
  let units = 0;
  try {
    for (let shard = 0; shard < 32; shard++) {
      let ExclusiveStartKey: Record<string, never> | undefined;
      do {
        const out = await client.send(
          new QueryCommand({ TableName: table, IndexName: 'byScoringShard', KeyConditionExpression: 'scoringShard = :s', ExpressionAttributeValues: { ':s': { S: `SHARD#${String(shard).padStart(2, '0')}` } }, Limit: 250, ExclusiveStartKey, ReturnConsumedCapacity: 'TOTAL' }),
        );
        units += out.ConsumedCapacity?.CapacityUnits ?? 0;
        ExclusiveStartKey = out.LastEvaluatedKey as never;
      } while (ExclusiveStartKey);
    }
  } finally {
    client.destroy();
  }
  return units;
}
/** Runs the night with every score invocation of the `bad` segment failing; how often it was tried. */
async function nightFailingIn(scheduledTime: Date, bad: string): Promise<{ result: Json; badAttempts: number }> {
  let badAttempts = 0;
  const result = (await runNightlyStateMachine({
    region: 'eu-west-1',
    scheduledTime,
    retryWaitMs: 0,
    handler: async (e, c) => {
      if ((e as Json).step === 'score' && (e as Json).segment === bad) {
        badAttempts++;
        throw new Error('injected failure');
      }
      return handler(e, c as never);
    },
  })) as Json;
  return { result, badAttempts };
}

/** A night's read units, by the run summary: night 2's first attempt (two passes) is kept for the one-pass night's comparison. */
const readUnits: Record<string, number> = {};

describe('the synthesized nightly state machine (aws-local-stepfunctions, DynamoDB Local)', () => {
  it("runs the deployed stack's definition: the same as the construct's alone, but for the function's ARN", () => {
    const { stack, template } = synth({ senderAddress: 'news@mail.acme.test', stackName: 'Acme' }, { bundle: false });
    const [[, sm]] = resourcesOf(template, 'AWS::StepFunctions::StateMachine').filter(([id]) => id === logicalId(stack, stack.nightlyRun.stateMachine));
    const fnArn = JSON.stringify(arnOf(logicalId(stack, stack.functions[nightlyRun.function].function)));
    const FN = 'arn:aws:lambda:eu-west-1:000000000000:function:nightly';
    const deployed = aslOf(sm!.Properties.DefinitionString, (token) => (JSON.stringify(token) === fnArn ? FN : 'OTHER'));
    const local = synthesizedNightlyRunDefinition(FN, nightlyRun, Duration.seconds(functionSpecs[nightlyRun.function].timeoutSeconds));
    expect(local).toEqual(deployed);
    expect(new Set(JSON.stringify(local).match(/"Resource":"[^"]+"/g))).toEqual(new Set([`"Resource":"${FN}"`]));
  }, 120_000);

  it('refuses a definition the interpreter finds invalid, every time (a definition is marked validated only once it passed)', async () => {
    const invalid = { StartAt: 'Start', States: { Start: { Type: 'Task', Resource: 'not an ARN', End: true } } };
    for (let i = 0; i < 2; i++) await expect(runNightlyStateMachine({ region: 'eu-west-1', definition: invalid, handler: async () => ({}) })).rejects.toThrow(/definition is invalid/);
  });

  it('runs a night: every segment gathered and scored, then finished; the parts travel as keys, not in the state', async () => {
    const steps: string[] = [];
    const sizes: Record<string, number> = {};
    const record = (name: string, value: unknown) => (sizes[name] = Math.max(sizes[name] ?? 0, Buffer.byteLength(JSON.stringify(value))));
    const result = (await runNightlyStateMachine({
      region: 'eu-west-1',
      scheduledTime: night1,
      retryWaitMs: 0,
      handler: async (e, c) => {
        const step = (e as Json).step ?? 'start';
        steps.push(step);
        record(`${step} input`, e);
        const out = await handler(e, c as never);
        record(`${step} output`, out);
        return out;
      },
    })) as Json;
    // The gathered summaries of 2,357 customers (about 2,300 unique rows) and 32 outreach top-200 lists
    // would be hundreds of KB in the state (its limit is 256 KB); kept in the table, the largest
    // state is the finish step's input: 32 segment summaries and their part keys.
    expect(Math.max(...Object.values(sizes)), JSON.stringify(sizes)).toBeLessThan(40_000);
    expect(sizes['gather output']).toBeLessThan(2_000);
    expect(sizes['score output']).toBeLessThan(2_000);
    expect(result.summary).toMatchObject({ customersRead: 2357, written: 2357, emitted: 2357, failed: 0, failedSegments: [] });
    expect(result.outreach).toMatchObject({ period: '1997-09', planned: 200, created: 200 });
    expect(steps.filter((s) => s === 'gather')).toHaveLength(32);
    expect(steps.filter((s) => s === 'score')).toHaveLength(32);
    expect(steps.filter((s) => s === 'start' || s === 'fit' || s === 'finish')).toEqual(['start', 'fit', 'finish']);
    expect(capture.putEvents().filter((e) => e.DetailType === 'CustomerRescored')).toHaveLength(2357);
  }, 180_000);

  it('retries a segment that keeps failing, names it, finishes the others; the rerun resumes it', async () => {
    const bad = scoringShard('1');
    const inBad = profiles.filter((p) => scoringShard(p.customerId) === bad).length;
    const { result: failing, badAttempts } = await nightFailingIn(night2, bad);
    expect(badAttempts).toBe(1 + nightlyRun.retry.maxAttempts);
    expect(failing.passes).toBe(2);
    readUnits.twoPasses = failing.summary.consumedReadUnits;
    expect(failing.summary.failedSegments).toEqual([bad]);
    expect(failing.summary.customersRead).toBe(2357 - inBad);

    // the rerun (same night, same run id) scores every segment again: only the failed one has anything to write
    const rerun = (await runNightlyStateMachine({ region: 'eu-west-1', scheduledTime: night2, retryWaitMs: 0, handler: (e, c) => handler(e, c as never) })) as Json;
    expect(rerun.summary.failedSegments).toEqual([]);
    expect(rerun.summary.customersRead).toBe(2357);
    expect(rerun.summary.written).toBeGreaterThan(0);
    expect(rerun.summary.written).toBeLessThanOrEqual(inBad);
  }, 300_000);

  it("runs the next quiet night in one pass: scored with the night before's model while gathering, fitted after; it reads the index once", async () => {
    const steps: string[] = [];
    let largest = 0;
    let scoreStepUnits = 0;
    let partKeys = 0;
    const rescoredBefore = capture.putEvents().filter((e) => e.DetailType === 'CustomerRescored').length;
    const result = (await runNightlyStateMachine({
      region: 'eu-west-1',
      scheduledTime: night3,
      retryWaitMs: 0,
      handler: async (e, c) => {
        steps.push((e as Json).step ?? 'start');
        const out = await handler(e, c as never);
        if ((e as Json).step === 'score') largest = Math.max(largest, Buffer.byteLength(JSON.stringify(out)));
        // a segment's summary counts its pages' read units (and its run parts' write units)
        if ((e as Json).step === 'score' && (out as Json).done) {
          scoreStepUnits += (out as Json).part.summary.consumedReadUnits;
          partKeys += (out as Json).part.keys.length + ((out as Json).part.gatherKeys ?? []).length;
        }
        return out;
      },
    })) as Json;
    expect(steps.filter((s) => s !== 'score')).toEqual(['start', 'fit', 'finish']);
    expect(steps.filter((s) => s === 'score')).toHaveLength(32);
    expect(largest).toBeLessThan(2_000); // the gathered sample travels as part keys
    expect(result).toMatchObject({ passes: 1, modelId: 'run-1997-10-08', fittedModelId: 'run-1997-10-09', fit: { status: 'fitted' } });
    expect(result.summary).toMatchObject({ customersRead: 2357, failed: 0, failedSegments: [] });
    // the stored scores are up to nine days old (night 2 wrote a third of them): a few per cent drifted past a threshold
    expect(result.summary.written).toBeLessThan(2357 * 0.05);
    const done = capture.putEvents().filter((e) => e.DetailType === 'NightlyRunCompleted').at(-1)!;
    expect(JSON.parse(done.Detail)).toMatchObject({ runDate: '1997-10-09', passes: 1, modelId: 'run-1997-10-08', fittedModelId: 'run-1997-10-09', fitStatus: 'fitted' });
    expect(capture.putEvents().filter((e) => e.DetailType === 'CustomerRescored').length - rescoredBefore).toBe(result.summary.emitted);

    // The score steps read the index once (their pages end at other entries than 250 a page: a little more
    // or less in 4 KB steps); the rest of the night's read units are the run parts read back by the fit and
    // finish (strongly consistent: a unit for each 4 KB of a part; a fixed cost per segment). Night 2 (two
    // passes, 31 of 32 segments scored) read the index about twice: one pass more.
    const pass = await indexPassUnits();
    readUnits.onePass = result.summary.consumedReadUnits;
    const figures = JSON.stringify({ pass, scoreStepUnits, partKeys, ...readUnits });
    expect(scoreStepUnits, figures).toBeGreaterThanOrEqual(pass * 0.95);
    expect(scoreStepUnits, figures).toBeLessThan(pass * 1.1);
    expect(partKeys, figures).toBeGreaterThanOrEqual(2 * 32); // each segment's gathered sample and its top N + report
    expect(readUnits.onePass - scoreStepUnits, figures).toBeLessThanOrEqual(2 * partKeys); // parts under 8 KB
    expect(readUnits.twoPasses - readUnits.onePass, figures).toBeGreaterThan(pass * 0.9 * (31 / 32));
  }, 300_000);

  it('reruns the one-pass night: the same model scores, the fitted one is reused, nothing gathered, written or emitted again', async () => {
    const before = capture.putEvents().filter((e) => e.DetailType === 'CustomerRescored' || e.DetailType === 'OutreachPlanned').length;
    const gatherKeys: string[] = [];
    const rerun = (await runNightlyStateMachine({
      region: 'eu-west-1',
      scheduledTime: night3,
      retryWaitMs: 0,
      handler: async (e, c) => {
        const out = (await handler(e, c as never)) as Json;
        if ((e as Json).step === 'score') gatherKeys.push(...(out.part.gatherKeys ?? []));
        return out;
      },
    })) as Json;
    expect(rerun).toMatchObject({ passes: 1, modelId: 'run-1997-10-08', fittedModelId: 'run-1997-10-09', outreach: { created: 0 } });
    expect(rerun.summary).toMatchObject({ customersRead: 2357, written: 0, emitted: 0 });
    expect(gatherKeys).toEqual([]);
    expect(capture.putEvents().filter((e) => e.DetailType === 'CustomerRescored' || e.DetailType === 'OutreachPlanned')).toHaveLength(before);
  }, 300_000);

  it('one pass: a segment that keeps failing is retried, named once, the fit goes on without its sample; the rerun resumes it', async () => {
    const night4 = new Date('1997-10-11T02:00:00Z'); // run date 1997-10-10: night 3's model is a day old
    const bad = scoringShard('2');
    const inBad = profiles.filter((p) => scoringShard(p.customerId) === bad).length;
    const { result: failing, badAttempts } = await nightFailingIn(night4, bad);
    expect(failing).toMatchObject({ passes: 1, modelId: 'run-1997-10-09', fittedModelId: 'run-1997-10-10' });
    expect(badAttempts).toBe(1 + nightlyRun.retry.maxAttempts);
    expect(failing.summary.failedSegments).toEqual([bad]);
    expect(failing.summary.customersRead).toBe(2357 - inBad);
    // tonight's model was fitted on the other segments' sample
    const client = localDynamoDbClient(aws.dynamodb.endpoint);
    const model = await new DynamoScoringStore(client, { tableName: table, profiles: { empty: emptyProfile } }).getModel('run-1997-10-10', '1997-10-10');
    client.destroy();
    expect(model!.sample.adHocCustomers).toBe(2357 - inBad);

    const rerun = (await runNightlyStateMachine({ region: 'eu-west-1', scheduledTime: night4, retryWaitMs: 0, handler: (e, c) => handler(e, c as never) })) as Json;
    expect(rerun).toMatchObject({ passes: 1, modelId: 'run-1997-10-09', fittedModelId: 'run-1997-10-10' });
    expect(rerun.summary).toMatchObject({ customersRead: 2357, failedSegments: [] });
    expect(rerun.summary.written).toBeLessThanOrEqual(inBad);
  }, 300_000);
});
