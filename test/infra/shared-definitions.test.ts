/**
 * What the CDK stack and the local stack must share: the schedule payload,
 * the table definition, and the limits the wiring's settings must respect.
 * No synthesis of the whole app.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { RuleSubscription } from '../../infra/constructs/rule-subscription.ts';
import { schedulerEvent } from '../../local/invoke.ts';
import { createTableInput } from '../../local/services.ts';
import { tableDefinition } from '../../shared/data-model/table.ts';
import { type RuleSubscription as RuleSpec, type ScheduleSubscription, subscriptions } from '../../shared/wiring.ts';

const scheduleSubs = subscriptions.filter((s): s is ScheduleSubscription => s.kind === 'schedule');

describe('schedule payload (one shape for CDK and the local stack)', () => {
  it.each(scheduleSubs.map((s) => [s.id, s] as const))('%s: the local Scheduler event is the wiring input with a real time', (_, sub) => {
    const event = schedulerEvent(sub.id, 'eu-west-1') as Record<string, unknown>;
    expect(Object.keys(event).sort()).toEqual(Object.keys(sub.input('x')).sort());
    expect(event).toEqual(sub.input(event.scheduledTime as string));
    expect(event.subscription).toBe(sub.id);
    expect(new Date(event.scheduledTime as string).toISOString().replace(/\.\d{3}Z$/, 'Z')).toBe(event.scheduledTime);
  });

  it('an unknown schedule is an error, not an empty event', () => {
    expect(() => schedulerEvent('NoSuchSchedule', 'eu-west-1')).toThrow(/NoSuchSchedule/);
  });
});

describe('local CreateTable (from shared/data-model/table.ts)', () => {
  it('creates byScoringShard with an INCLUDE projection (the attributes shared/data-model/table.ts lists) and byTimerDue with ALL, as CDK does', () => {
    const input = createTableInput('t');
    expect(input.GlobalSecondaryIndexes).toEqual([
      expect.objectContaining({ IndexName: 'byScoringShard', Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...tableDefinition.globalSecondaryIndexes[0].nonKeyAttributes] } }),
      expect.objectContaining({
        IndexName: 'byTimerDue',
        KeySchema: [
          { AttributeName: 'timerBucket', KeyType: 'HASH' },
          { AttributeName: 'timerDue', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      }),
    ]);
  });
});

describe('rule subscription maxConcurrency', () => {
  const build = (maxConcurrency: number | undefined) => {
    const stack = new Stack();
    const bus = new events.EventBus(stack, 'Bus');
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => ({})'),
      timeout: Duration.seconds(10),
    });
    const spec: RuleSpec = {
      kind: 'rule',
      id: 'Sub',
      function: 'campaigns',
      description: 'test',
      pattern: { source: ['x'] },
      batchSize: 10,
      maxBatchingWindowSeconds: 1,
      maxReceiveCount: 5,
      maxConcurrency,
    };
    new RuleSubscription(stack, 'Sub', { spec, bus, fn, functionTimeoutSeconds: 10 });
    return Template.fromStack(stack);
  };

  it('sets ScalingConfig.MaximumConcurrency on the SQS event source', () => {
    build(7).hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 7 } });
  });

  it('is rejected outside the 2–1000 the SQS event source accepts', () => {
    expect(() => build(1)).toThrow(/maxConcurrency/);
    expect(() => build(1001)).toThrow(/maxConcurrency/);
    expect(() => build(2.5)).toThrow(/maxConcurrency/);
  });

  it('the campaigns subscription sets no fixed concurrency: the stack derives it from the SES send rate (test/infra/ses.test.ts)', () => {
    const campaigns = subscriptions.find((s): s is RuleSpec => s.kind === 'rule' && s.function === 'campaigns');
    expect(campaigns).toBeDefined();
    expect(campaigns?.maxConcurrency).toBeUndefined();
  });
});
