/**
 * The nightly run's state machine as CDK synthesizes it, executed by an ASL interpreter
 * (aws-local-stepfunctions) with its Lambda task resources overridden by the real
 * nightly-rescore handler, on DynamoDB Local with the CDNOW sample and a captured bus: a night,
 * a night with a segment that keeps failing (retried, named, the others finish), and the
 * rerun that resumes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import { aslOf } from '../../infra/asl.ts';
import { localDynamoDbClient } from '../../local/services.ts';
import { scoringShard } from '../../shared/data-model/keys.ts';
import { ENV, nightlyRun } from '../../shared/wiring.ts';
import { cdnowProfiles } from '../unit/scoring/helpers.ts';
import { arnOf, logicalId, resourcesOf, synth } from '../infra/helpers.ts';
import { freshTable, startCaptureServer, startLocalAws, useLocalEndpoints, type LocalAws } from '../support/local-aws.ts';
import { loadProfileItems } from '../support/nightly.ts';

const FN_ARN = 'arn:aws:lambda:eu-west-1:000000000000:function:nightly-rescore';
const profiles = [...cdnowProfiles('1997-10-01').values()];
let aws: LocalAws;
let capture: Awaited<ReturnType<typeof startCaptureServer>>;
let handler: (e: unknown, c: Context) => Promise<unknown>;
let definition: Record<string, unknown>;
const context = { functionName: 'nightly', awsRequestId: 'req', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

beforeAll(async () => {
  const { stack, template } = synth({ senderAddress: 'news@mail.acme.test', stackName: 'Acme' }, { bundle: false });
  const [[, sm]] = resourcesOf(template, 'AWS::StepFunctions::StateMachine');
  const fnArn = JSON.stringify(arnOf(logicalId(stack, stack.functions[nightlyRun.function].function)));
  definition = aslOf(sm!.Properties.DefinitionString, (token) => {
    if (JSON.stringify(token) !== fnArn) throw new Error(`unexpected token in the definition: ${JSON.stringify(token)}`);
    return FN_ARN;
  });
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
const TASKS = ['Start', 'Gather', 'Fit', 'Score', 'Finish'];

/** Runs the synthesized definition; every Task state's resource (the function) is the real handler, unless `handle` says otherwise. */
async function execute(input: Json, handle: (state: string, event: Json) => Promise<unknown> = (_, e) => handler(e, context)) {
  const invocations: string[] = [];
  const machine = new StateMachine(definition as never);
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(
        TASKS.map((name) => [name, async (event: unknown) => {
          invocations.push(name);
          return JSON.parse(JSON.stringify(await handle(name, event as Json)));
        }]),
      ),
      retryIntervalOverrides: Object.fromEntries(TASKS.map((name) => [name, 0])),
    },
  });
  return { result: (await execution.result) as Json, invocations };
}

const scheduled = { subscription: 'NightlyRescore', scheduledTime: '1997-10-01T02:00:00Z' };

describe('the synthesized nightly state machine (aws-local-stepfunctions, DynamoDB Local)', () => {
  it('uses only the nightly function as a task resource', () => {
    const resources = JSON.stringify(definition).match(/"Resource":"[^"]+"/g) ?? [];
    expect(new Set(resources)).toEqual(new Set([`"Resource":"${FN_ARN}"`]));
  });

  it('runs a night: every segment gathered and scored, then finished', async () => {
    const { result, invocations } = await execute(scheduled);
    expect(result.summary).toMatchObject({ customersRead: 2357, written: 2357, emitted: 2357, failed: 0, failedSegments: [] });
    expect(result.outreach).toMatchObject({ period: '1997-09', planned: 200, created: 200 });
    expect(invocations.filter((n) => n === 'Gather')).toHaveLength(32);
    expect(invocations.filter((n) => n === 'Score')).toHaveLength(32);
    expect(capture.putEvents().filter((e) => e.DetailType === 'CustomerRescored')).toHaveLength(2357);
  }, 180_000);

  it('retries a segment that keeps failing, names it, finishes the others; the rerun resumes it', async () => {
    const bad = scoringShard('1');
    const inBad = profiles.filter((p) => scoringShard(p.customerId) === bad).length;
    const night2 = { ...scheduled, scheduledTime: '1997-10-02T02:00:00Z' };
    let badAttempts = 0;
    const failing = await execute(night2, (state, event) => {
      if (state === 'Score' && event.segment === bad) {
        badAttempts++;
        throw new Error('injected failure');
      }
      return handler(event, context);
    });
    expect(badAttempts).toBe(1 + nightlyRun.retry.maxAttempts);
    expect(failing.result.summary.failedSegments).toEqual([bad]);
    expect(failing.result.summary.customersRead).toBe(2357 - inBad);

    // the rerun (same night, same run id) scores every segment again: only the failed one has anything to write
    const rerun = await execute(night2);
    expect(rerun.result.summary.failedSegments).toEqual([]);
    expect(rerun.result.summary.customersRead).toBe(2357);
    const written = rerun.result.summary.written;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThanOrEqual(inBad);
  }, 300_000);
});
