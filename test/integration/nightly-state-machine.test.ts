/**
 * The nightly run's state machine as CDK synthesizes it, executed by an ASL interpreter
 * (aws-local-stepfunctions, through local/nightly-run.ts as `npm start -- --run-nightly` runs
 * it) with its Lambda tasks overridden by the real nightly-rescore handler, on DynamoDB Local
 * with the CDNOW sample and a captured bus: a night, a night with a segment that keeps failing
 * (retried, named, the others finish), and the rerun that resumes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duration } from 'aws-cdk-lib';
import type { Context } from 'aws-lambda';
import { aslOf } from '../../infra/asl.ts';
import { synthesizedNightlyRunDefinition } from '../../infra/constructs/nightly-run.ts';
import { runNightlyStateMachine } from '../../local/nightly-run.ts';
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

beforeAll(async () => {
  [aws, capture] = await Promise.all([startLocalAws({ ses: false }), startCaptureServer()]);
  const { tableName } = await freshTable(aws.dynamodb.endpoint);
  const client = localDynamoDbClient(aws.dynamodb.endpoint);
  await loadProfileItems(client, tableName, profiles);
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
    let badAttempts = 0;
    const failing = (await runNightlyStateMachine({
      region: 'eu-west-1',
      scheduledTime: night2,
      retryWaitMs: 0,
      handler: async (e, c) => {
        if ((e as Json).step === 'score' && (e as Json).segment === bad) {
          badAttempts++;
          throw new Error('injected failure');
        }
        return handler(e, c as never);
      },
    })) as Json;
    expect(badAttempts).toBe(1 + nightlyRun.retry.maxAttempts);
    expect(failing.summary.failedSegments).toEqual([bad]);
    expect(failing.summary.customersRead).toBe(2357 - inBad);

    // the rerun (same night, same run id) scores every segment again: only the failed one has anything to write
    const rerun = (await runNightlyStateMachine({ region: 'eu-west-1', scheduledTime: night2, retryWaitMs: 0, handler: (e, c) => handler(e, c as never) })) as Json;
    expect(rerun.summary.failedSegments).toEqual([]);
    expect(rerun.summary.customersRead).toBe(2357);
    expect(rerun.summary.written).toBeGreaterThan(0);
    expect(rerun.summary.written).toBeLessThanOrEqual(inBad);
  }, 300_000);
});
