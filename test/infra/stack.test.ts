/**
 * Template tests of the serverless-clm stack, driven by shared/wiring.ts and
 * shared/data-model/table.ts: every function spec and subscription there must
 * show up here with its settings. One synthesis (with real esbuild bundling)
 * for the whole file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableDefinition } from '../../shared/data-model/table.ts';
import { CLM_SOURCE_PREFIX, EMITTED_SOURCES } from '../../shared/events/catalog.ts';
import { ENV, type FunctionName, functionSpecs, nightlyRun, type RuleSubscription as RuleSpec, type ScheduleSubscription as ScheduleSpec, type StreamSubscription as StreamSpec, subscriptions } from '../../shared/wiring.ts';
import { RULE_TARGET_MAX_EVENT_AGE, RULE_TARGET_RETRY_ATTEMPTS, type RuleSubscription } from '../../infra/constructs/rule-subscription.ts';
import type { StreamSubscription } from '../../infra/constructs/stream-subscription.ts';
import { type NightlySchedule, SCHEDULE_MAX_EVENT_AGE, SCHEDULE_RETRY_ATTEMPTS } from '../../infra/constructs/nightly-schedule.ts';
import type { TimerSweep } from '../../infra/constructs/timer-sweep.ts';
import { STALE_RUN_HOURS } from '../../infra/constructs/nightly-run.ts';
import { FAILED_RECORDS_METRIC, ITERATOR_AGE_ALARM_SHARE } from '../../infra/constructs/alarms.ts';
import { CIRCUIT_BREAKER_PAUSED_METRIC, INGEST_OUTCOME_METRICS, TIMERS_GIVEN_UP_METRIC } from '../../functions/commons/metric-names.ts';
import { type ServerlessClmStack, WORK_QUEUE_MAX_AGE } from '../../infra/stack.ts';
import { actionsOf, arnOf, logicalId, resourcesOf, statementsOfRole, synth, type TestApp } from './helpers.ts';

const context = {
  senderAddress: 'news@mail.acme.test',
  stackName: 'Acme',
  nightlySchedule: 'cron(30 3 * * ? *)',
  nightlyTimeZone: 'Europe/Amsterdam',
  alarmEmail: 'ops@acme.test',
  producerAccountIds: '111111111111,222222222222',
  eventArchiveDays: '45',
  controlGroupPercent: '15',
  controlGroupExperiment: 'v7',
  frequencyCapPerWeek: '3',
  logRetentionDays: '90',
  unsubscribeBaseUrl: 'https://acme.test/u',
  helpBaseUrl: 'https://acme.test/help',
};

let built: TestApp;
let template: Template;
let stack: ServerlessClmStack;
const id = (c: { node: { defaultChild?: unknown } }) => logicalId(stack, c);
const fnId = (name: FunctionName) => id(stack.functions[name].function);
const roleId = (name: FunctionName) => id(stack.functions[name].role);
const functionNames = Object.keys(functionSpecs) as FunctionName[];
const ruleSubs = subscriptions.filter((s): s is RuleSpec => s.kind === 'rule');
const streamSubs = subscriptions.filter((s): s is StreamSpec => s.kind === 'stream');
const scheduleSubs = subscriptions.filter((s): s is ScheduleSpec => s.kind === 'schedule');
const nightlySchedules = scheduleSubs.filter((s) => s.function === nightlyRun.function);
// The report's schedule has a test of its own (test/infra/report.test.ts).
const functionSchedules = scheduleSubs.filter((s) => s.function !== nightlyRun.function && s.function !== 'report');

beforeAll(() => {
  built = synth(context);
  template = built.template;
  stack = built.stack;
}, 120_000);

describe('table (from shared/data-model/table.ts)', () => {
  it('is on demand, point-in-time recoverable, encrypted, streamed, with TTL, keys and GSIs from the definition', () => {
    const def = tableDefinition;
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: 'Acme-clm',
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        StreamSpecification: { StreamViewType: def.stream },
        TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true },
        DeletionProtectionEnabled: false,
        KeySchema: [
          { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: def.globalSecondaryIndexes.map((gsi) => ({
          IndexName: gsi.indexName,
          KeySchema: [
            { AttributeName: gsi.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: gsi.sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: gsi.projection },
        })),
      }),
    });
    const [, table] = resourcesOf(template, 'AWS::DynamoDB::Table')[0]!;
    const attrs = table.Properties.AttributeDefinitions as { AttributeName: string; AttributeType: string }[];
    const keys = [def.partitionKey, def.sortKey, ...def.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey])];
    for (const key of keys) expect(attrs).toContainEqual({ AttributeName: key.name, AttributeType: key.type });
  });

  it('byScoringShard projects the scoring view, the score and the trigger attributes only (no email, name or history), so a profile write rewrites its entry only when the view changed', () => {
    const [, table] = resourcesOf(template, 'AWS::DynamoDB::Table')[0]!;
    const gsi = (table.Properties.GlobalSecondaryIndexes as any[]).find((g) => g.IndexName === 'byScoringShard');
    expect(gsi.Projection.ProjectionType).toBe('INCLUDE');
    expect(gsi.Projection.NonKeyAttributes).toEqual([...tableDefinition.globalSecondaryIndexes[0].nonKeyAttributes]);
    expect(gsi.Projection.NonKeyAttributes).toContain('scoringView');
    for (const personal of ['email', 'firstName', 'purchaseDays', 'orders', 'updatedAt', 'version']) expect(gsi.Projection.NonKeyAttributes).not.toContain(personal);
  });
});

describe('event bus', () => {
  it('has an archive of every event for the configured days', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    const busId = id(stack.eventBus.bus);
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: arnOf(busId),
      RetentionDays: 45,
      EventPattern: Match.absent(),
    });
  });

  it('lets the deploying account and the configured producer accounts put events, on this bus only', () => {
    const busId = id(stack.eventBus.bus);
    const policies = resourcesOf(template, 'AWS::Events::EventBusPolicy').map(([, r]) => r.Properties);
    const allows = policies.filter((p) => p.Statement.Effect === 'Allow');
    expect(allows).toHaveLength(2);
    for (const p of policies) {
      expect(p.EventBusName).toEqual({ Ref: busId });
      expect(p.Statement.Action).toBe('events:PutEvents');
      expect(p.Statement.Resource).toEqual(arnOf(busId));
    }
    const principals = JSON.stringify(allows.map((p) => p.Statement.Principal));
    expect(principals).toContain('"Ref":"AWS::AccountId"');
    expect(principals).toContain(':iam::111111111111:root');
    expect(principals).toContain(':iam::222222222222:root');
  });

  it('denies clm.* sources to everyone but the roles of the functions that emit events', () => {
    const policies = resourcesOf(template, 'AWS::Events::EventBusPolicy').map(([, r]) => r.Properties);
    const denies = policies.filter((p) => p.Statement.Effect === 'Deny');
    expect(denies).toHaveLength(1);
    const deny = denies[0]!.Statement;
    expect(deny.Principal).toBe('*');
    expect(deny.Action).toBe('events:PutEvents');
    expect(deny.Resource).toEqual(arnOf(id(stack.eventBus.bus)));
    // events:source is multivalued (one value per entry of the call): any reserved source denies.
    expect(deny.Condition['ForAnyValue:StringLike']).toEqual({ 'events:source': `${CLM_SOURCE_PREFIX}*` });
    const emitters = functionNames.filter((n) => functionSpecs[n].access.putEvents);
    expect(emitters.length).toBeGreaterThan(0);
    const exempt = [deny.Condition.ArnNotEquals['aws:PrincipalArn']].flat();
    expect(exempt).toHaveLength(emitters.length);
    expect(exempt).toEqual(expect.arrayContaining(emitters.map((n) => arnOf(roleId(n)))));
    // Nothing else in the condition: the deny is not narrowed any further.
    expect(Object.keys(deny.Condition).sort()).toEqual(['ArnNotEquals', 'ForAnyValue:StringLike']);
  });

  it('the reserved prefix covers every source the stack emits and every clm source a rule trusts', () => {
    for (const source of Object.values(EMITTED_SOURCES)) expect(source.startsWith(CLM_SOURCE_PREFIX)).toBe(true);
    for (const sub of ruleSubs) {
      for (const source of ([sub.pattern.source].flat() as unknown[]).filter((x): x is string => typeof x === 'string')) {
        // A rule on the default bus takes an AWS service's events: EventBridge refuses `aws.*` sources in PutEvents.
        if (sub.bus === 'default') expect(source.startsWith('aws.'), `${sub.id} trusts ${source}`).toBe(true);
        else expect(source.startsWith(CLM_SOURCE_PREFIX), `${sub.id} trusts ${source}`).toBe(true);
      }
    }
  });
});

describe('rule subscriptions (bus rule → queue with DLQ → function)', () => {
  it.each(ruleSubs.map((s) => [s.id, s] as const))('%s', (_, sub) => {
    const c = stack.node.findChild(sub.id) as RuleSubscription;
    const queueId = id(c.queue);
    const dlqId = id(c.deadLetterQueue);
    const deliveryDlqId = id(c.deliveryDeadLetterQueue);

    template.hasResourceProperties('AWS::Events::Rule', {
      // SES feedback: the account's default bus (where SES puts its events); every other rule: the stack's bus.
      EventBusName: sub.bus === 'default' ? 'default' : { Ref: id(stack.eventBus.bus) },
      // on the default bus narrowed to the stack's configuration set (test/infra/email-feedback.test.ts)
      EventPattern: sub.bus === 'default' ? Match.objectLike({ source: sub.pattern.source, 'detail-type': sub.pattern['detail-type'] }) : sub.pattern,
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: arnOf(queueId),
          DeadLetterConfig: { Arn: arnOf(deliveryDlqId) },
          RetryPolicy: { MaximumRetryAttempts: RULE_TARGET_RETRY_ATTEMPTS, MaximumEventAgeInSeconds: RULE_TARGET_MAX_EVENT_AGE.toSeconds() },
        }),
      ],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlqId), maxReceiveCount: sub.maxReceiveCount },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(queueId),
      FunctionName: { Ref: fnId(sub.function) },
      // A function that sends email is sized to the SES send rate (test/infra/ses.test.ts).
      BatchSize: functionSpecs[sub.function].access.sendEmail ? stack.sendRate.batchSize : sub.batchSize,
      MaximumBatchingWindowInSeconds: sub.maxBatchingWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: functionSpecs[sub.function].access.sendEmail
        ? { MaximumConcurrency: stack.sendRate.maxConcurrency }
        : sub.maxConcurrency === undefined ? Match.absent() : { MaximumConcurrency: sub.maxConcurrency },
    });
    // EventBridge may send to the queue and to the delivery DLQ, for this rule only.
    const ruleId = id(c.rule);
    for (const q of [queueId, deliveryDlqId]) {
      const policy = resourcesOf(template, 'AWS::SQS::QueuePolicy').find(([, r]) => r.Properties.Queues[0].Ref === q);
      const fromEvents = (policy![1].Properties.PolicyDocument.Statement as any[]).filter((st) => st.Principal?.Service === 'events.amazonaws.com');
      expect(fromEvents).toHaveLength(1);
      expect(actionsOf(fromEvents[0])).toContain('sqs:SendMessage');
      expect(fromEvents[0].Condition).toEqual({ ArnEquals: { 'aws:SourceArn': arnOf(ruleId) } });
    }
  });
});

describe('stream subscriptions (table stream → function)', () => {
  it.each(streamSubs.map((s) => [s.id, s] as const))('%s', (_, sub) => {
    const c = stack.node.findChild(sub.id) as StreamSubscription;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(id(stack.table.table), 'StreamArn'),
      FunctionName: { Ref: fnId(sub.function) },
      BatchSize: sub.batchSize,
      MaximumBatchingWindowInSeconds: sub.maxBatchingWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: sub.retryAttempts,
      MaximumRecordAgeInSeconds: sub.maxRecordAgeSeconds,
      DestinationConfig: { OnFailure: { Destination: arnOf(id(c.deadLetterQueue)) } },
      FilterCriteria: { Filters: sub.filters.map((f) => ({ Pattern: JSON.stringify(f) })) },
    });
  });

  it('the stream consumer may read the stream; functions without a stream subscription may not', () => {
    const consumers = new Set(streamSubs.map((s) => s.function));
    for (const name of functionNames) {
      const reads = statementsOfRole(template, roleId(name)).some((s) => actionsOf(s).includes('dynamodb:DescribeStream'));
      expect(reads, name).toBe(consumers.has(name));
    }
  });
});

describe('nightly schedule', () => {
  const stateMachineRef = () => ({ Ref: id(stack.nightlyRun.stateMachine) });

  it.each(nightlySchedules.map((s) => [s.id, s] as const))('%s starts the nightly run at the configured cron in the configured time zone, with retries and a DLQ', (_, sub) => {
    const c = stack.node.findChild(sub.id) as NightlySchedule;
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Amsterdam',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: stateMachineRef(),
        RoleArn: arnOf(id(c.role)),
        DeadLetterConfig: { Arn: arnOf(id(c.deadLetterQueue)) },
        RetryPolicy: { MaximumRetryAttempts: SCHEDULE_RETRY_ATTEMPTS, MaximumEventAgeInSeconds: SCHEDULE_MAX_EVENT_AGE.toSeconds() },
      }),
    });
    const statements = statementsOfRole(template, id(c.role));
    expect(statements.flatMap(actionsOf).sort()).toEqual(['sqs:SendMessage', 'states:StartExecution']);
    // the function is invoked by the state machine (synchronously), never asynchronously by the schedule
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
  });

  it.each(nightlySchedules.map((s) => [s.id, s] as const))('%s sends the input shape defined in wiring.ts, with the scheduled time', (_, sub) => {
    const [, schedule] = resourcesOf(template, 'AWS::Scheduler::Schedule').find(([, r]) => JSON.stringify(r.Properties.Target.Arn) === JSON.stringify(stateMachineRef()))!;
    const input = JSON.parse(schedule.Properties.Target.Input);
    expect(input).toEqual(sub.input('<aws.scheduler.scheduled-time>'));
    expect(input).toEqual({ subscription: sub.id, scheduledTime: '<aws.scheduler.scheduled-time>' });
  });

  it.each(functionSchedules.map((s) => [s.id, s] as const))('%s invokes its function at the timerSweepSchedule rate with the wiring input, retries and a DLQ', (_, sub) => {
    expect(sub.function).toBe('timer-sweep');
    const c = stack.node.findChild(sub.id) as TimerSweep;
    const [, schedule] = resourcesOf(template, 'AWS::Scheduler::Schedule').find(([, r]) => JSON.stringify(r.Properties.Target.Arn) === JSON.stringify(arnOf(fnId(sub.function))))!;
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Target: {
        RoleArn: arnOf(id(c.role)),
        DeadLetterConfig: { Arn: arnOf(id(c.deadLetterQueue)) },
        RetryPolicy: { MaximumRetryAttempts: SCHEDULE_RETRY_ATTEMPTS, MaximumEventAgeInSeconds: SCHEDULE_MAX_EVENT_AGE.toSeconds() },
      },
    });
    expect(JSON.parse(schedule.Properties.Target.Input)).toEqual({ subscription: sub.id, scheduledTime: '<aws.scheduler.scheduled-time>' });
    const statements = statementsOfRole(template, id(c.role));
    expect(statements.flatMap(actionsOf).sort()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
  });
});

describe('nightly run state machine', () => {
  /* eslint-disable @typescript-eslint/no-explicit-any */
  let smId: string;
  let sm: { Properties: Record<string, any> };
  let definition: any;
  let states: any;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  beforeAll(() => {
    // The nightly run's (the backfill's is tested in backfill.test.ts).
    const machines = (resourcesOf(template, 'AWS::StepFunctions::StateMachine') as unknown as [string, { Properties: Record<string, any> }][]).filter(([logical]) => logical === id(stack.nightlyRun.stateMachine)); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(machines).toHaveLength(1);
    [smId, sm] = machines[0]!;
    // The definition with every token (the function's ARN) as a placeholder naming it.
    definition = JSON.parse(
      (sm.Properties.DefinitionString['Fn::Join'][1] as unknown[])
        .map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === JSON.stringify(arnOf(fnId(nightlyRun.function))) ? 'NIGHTLY_FN' : 'OTHER_TOKEN'))
        .join(''),
    );
    states = definition.States;
  });
  const retry = [{ ErrorEquals: ['States.ALL'], MaxAttempts: nightlyRun.retry.maxAttempts, IntervalSeconds: nightlyRun.retry.intervalSeconds, BackoffRate: nightlyRun.retry.backoffRate, MaxDelaySeconds: nightlyRun.retry.maxDelaySeconds, JitterStrategy: 'FULL' }];

  it('is the one state machine, logged (every state, without execution data), traced, with a run timeout', () => {
    expect(smId).toBe(id(stack.nightlyRun.stateMachine));
    expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(sm.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(definition.TimeoutSeconds).toBe(nightlyRun.timeoutHours * 3600);
  });

  /** The states from `from` on, following `Next` to the end. */
  const path = (from: string) => {
    const order = [];
    for (let s: string | undefined = from; s; s = states[s].Next) order.push(s);
    return order;
  };

  it("runs start, then one pass or two as the start step's `passes` says, each step a retried invocation of the nightly function", () => {
    expect(definition.StartAt).toBe('Start');
    expect(states.Start.Next).toBe('Passes');
    expect(states.Passes).toEqual({ Type: 'Choice', Choices: [{ Variable: '$.passes', NumericEquals: 1, Next: 'ScoreAndGatherSegments' }], Default: 'GatherSegments' });
    // two passes: gather every segment → fit → score every segment → finish
    expect(path('GatherSegments')).toEqual(['GatherSegments', 'Fit', 'KeepFit', 'ScoreSegments', 'Finish']);
    // one pass: score every segment with the earlier night's model while gathering → fit tonight's model → finish
    expect(path('ScoreAndGatherSegments')).toEqual(['ScoreAndGatherSegments', 'FitAfterScoring', 'Finish']);
    expect(states.Finish.End).toBe(true);
    for (const name of ['Start', 'Fit', 'FitAfterScoring', 'Finish']) {
      expect(states[name]).toMatchObject({ Type: 'Task', Resource: 'NIGHTLY_FN', Retry: retry });
    }
    // the start takes the schedule's input as it is (no Parameters: a string "$" there is not ASL)
    expect(states.Start.Parameters).toBeUndefined();
    expect(states.Fit.Parameters).toMatchObject({ step: 'fit', 'results.$': '$.gathered' });
    expect(states.FitAfterScoring.Parameters).toEqual({ step: 'fit', 'night.$': '$.night', 'sampleShare.$': '$.sampleShare', 'scoreWith.$': '$.scoreWith', 'results.$': '$.scored' });
    expect(states.FitAfterScoring.ResultPath).toBe('$.fit');
    expect(states.Finish.Parameters).toMatchObject({ step: 'finish', 'results.$': '$.scored', 'failedSegments.$': '$.fit.failedSegments', 'scoredWith.$': '$.fit.scoredWith', 'passes.$': '$.fit.passes' });
  });

  it('one pass: its segments score with the earlier night\'s model (`scoreWith`) and gather tonight\'s sample (`sampleShare`); only keys travel in the state', () => {
    expect(states.ScoreAndGatherSegments.ItemSelector).toEqual({ step: 'score', 'night.$': '$.night', 'keep.$': '$.keep', 'scoreWith.$': '$.scoreWith', 'sampleShare.$': '$.sampleShare', 'segment.$': '$$.Map.Item.Value' });
    expect(states.ScoreAndGatherSegments.ResultPath).toBe('$.scored');
  });

  it.each(['Gather', 'Score', 'ScoreAndGather'])('%s: a Map over the segments with bounded concurrency, each a loop of invocations until done; a failing segment is marked, the others go on', (name) => {
    const map = states[`${name}Segments`];
    expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.segments', MaxConcurrency: nightlyRun.maxConcurrency });
    expect(map.ItemSelector).toMatchObject({ step: name === 'Gather' ? 'gather' : 'score', 'segment.$': '$$.Map.Item.Value', 'night.$': '$.night' });
    const inner = map.ItemProcessor.States;
    expect(map.ItemProcessor.StartAt).toBe(name);
    expect(inner[name]).toMatchObject({ Type: 'Task', Resource: 'NIGHTLY_FN', Retry: retry, Next: `${name}SegmentDone` });
    expect(inner[name].Parameters).toBeUndefined(); // its input is the previous output as it is
    expect(inner[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${name}SegmentFailed` }]);
    expect(inner[`${name}SegmentFailed`]).toMatchObject({ Type: 'Pass', Parameters: { 'segment.$': '$.segment', failed: true }, End: true });
    expect(inner[`${name}SegmentDone`]).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.done', BooleanEquals: true, Next: `${name}SegmentSucceeded` }], Default: name });
  });

  it('may invoke the nightly function and nothing else', () => {
    const roleRef = sm.Properties.RoleArn['Fn::GetAtt'][0];
    const invoke = statementsOfRole(template, roleRef).filter((st) => actionsOf(st).includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invoke.flatMap((st) => [st.Resource].flat()))).not.toContain(fnId('ingest'));
    expect(JSON.stringify(invoke)).toContain(fnId(nightlyRun.function));
    for (const other of functionNames.filter((n) => n !== nightlyRun.function)) expect(JSON.stringify(invoke)).not.toContain(fnId(other));
  });

  it('alarms on a failed, timed-out or aborted run and on no successful run in 26 hours', () => {
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const failed = alarms.find((a) => JSON.stringify(a.Metrics ?? []).includes('ExecutionsFailed') && JSON.stringify(a.Metrics).includes(smId))!;
    expect(failed).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, EvaluationPeriods: 1 });
    for (const m of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) expect(JSON.stringify(failed.Metrics)).toContain(m);
    const stale = alarms.find((a) => a.MetricName === 'ExecutionsSucceeded')!;
    expect(STALE_RUN_HOURS).toBe(26);
    expect(stale).toMatchObject({
      Namespace: 'AWS/States',
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 26,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: smId } }],
    });
    for (const a of [failed, stale]) expect(a.AlarmActions).toEqual([{ Ref: id(stack.alarms.topic) }]);
  });
});

describe('queues', () => {
  it('are all encrypted and TLS-only', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThan(0);
    for (const [qid, q] of queues) {
      expect(q.Properties.SqsManagedSseEnabled === true || q.Properties.KmsMasterKeyId !== undefined, qid).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: qid }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('dead-letter queues and the rejected-events queue keep messages 14 days', () => {
    const dlqs = [...Object.values(stack.deadLetterQueues).map((d) => d.queue), stack.rejectedEvents.queue];
    // Per schedule (the nightly run's, the timer sweep's, the report's): Scheduler's dead-letter queue.
    expect(dlqs.length).toBe(2 * ruleSubs.length + streamSubs.length + scheduleSubs.length + 1);
    const props = Object.fromEntries(resourcesOf(template, 'AWS::SQS::Queue'));
    for (const q of dlqs) expect(props[id(q)]!.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });
});

describe('functions (from functionSpecs)', () => {
  it('there is one function per spec, and nothing else', () => {
    template.resourceCountIs('AWS::Lambda::Function', functionNames.length);
  });

  it.each(functionNames)('%s: nodejs24.x on arm64, traced, sized per spec, Powertools settings, own log group', (name) => {
    const spec = functionSpecs[name];
    const fn = stack.functions[name];
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: spec.memoryMb,
      Timeout: spec.timeoutSeconds,
      TracingConfig: { Mode: 'Active' },
      Role: arnOf(roleId(name)),
      LoggingConfig: { LogGroup: { Ref: id(fn.logGroup) } },
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: name,
          POWERTOOLS_METRICS_NAMESPACE: 'ServerlessClm',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
          [ENV.eventRetentionDays]: '400',
          [ENV.controlGroupPercent]: '15',
          [ENV.controlGroupExperiment]: 'v7',
          [ENV.frequencyCapPerWeek]: '3',
          [ENV.winbackPermissionMonths]: '24',
          [ENV.winbackDelaysDays]: '14,60,180',
          [ENV.winbackHighValueMinClv]: '1000',
          [ENV.winbackPersonalOutreach]: 'instead',
        }),
      },
    });
    const logGroups = Object.fromEntries(resourcesOf(template, 'AWS::Logs::LogGroup'));
    expect(logGroups[id(fn.logGroup)]!.Properties.RetentionInDays).toBe(90);
  });

  it.each(functionNames)('%s: environment names exactly what its access covers', (name) => {
    const { access } = functionSpecs[name];
    const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(([k]) => k === fnId(name))!;
    const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
    expect(vars[ENV.tableName] !== undefined).toBe(access.table !== undefined);
    expect(vars[ENV.busName] !== undefined).toBe(access.putEvents === true);
    expect(vars[ENV.rejectedQueueUrl] !== undefined).toBe(access.rejectedEvents === true);
    expect(vars[ENV.configurationSet] !== undefined).toBe(access.sendEmail === true);
    expect(vars[ENV.privacySaltSecret] !== undefined).toBe(access.privacySalt === true);
    if (access.table) expect(vars[ENV.tableName]).toEqual({ Ref: id(stack.table.table) });
    // The table name is set for any table access, so functions/commons/clients.ts can build the store.
    if (access.table) expect(access.table.actions.length + (access.table.queryIndexes?.length ?? 0)).toBeGreaterThan(0);
    if (access.putEvents) expect(vars[ENV.busName]).toEqual({ Ref: id(stack.eventBus.bus) });
    if (access.rejectedEvents) expect(vars[ENV.rejectedQueueUrl]).toEqual({ Ref: id(stack.rejectedEvents.queue) });
    if (access.sendEmail) {
      expect(vars[ENV.senderAddress]).toBe('news@mail.acme.test');
      expect(vars[ENV.configurationSet]).toEqual({ Ref: id(stack.email.configurationSet) });
      expect(vars[ENV.unsubscribeBaseUrl]).toBe('https://acme.test/u');
      expect(vars[ENV.helpBaseUrl]).toBe('https://acme.test/help');
    }
    // The circuit breaker's policy goes to the function that sends (`{}`: the defaults).
    expect(vars[ENV.circuitBreaker]).toBe(access.sendEmail ? '{}' : undefined);
  });

  it('bundles with esbuild to minified ESM with the createRequire banner and a source map', () => {
    const assembly = built.app.synth();
    const assetDirs = fs
      .readdirSync(assembly.directory)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => path.join(assembly.directory, d))
      .filter((d) => fs.existsSync(path.join(d, 'index.mjs')));
    expect(assetDirs.length).toBe(functionNames.length);
    for (const dir of assetDirs) {
      const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith('import { createRequire')).toBe(true);
      expect(fs.existsSync(path.join(dir, 'index.mjs.map'))).toBe(true);
      // The AWS SDK is provided by the runtime, never bundled.
      expect(code).not.toMatch(/node_modules\/@aws-sdk\//);
    }
  });
});

describe('least-privilege IAM (exactly the access in wiring.ts)', () => {
  it('every function has its own role with no managed policies', () => {
    const roles = new Set(functionNames.map(roleId));
    expect(roles.size).toBe(functionNames.length);
    for (const [rid, role] of resourcesOf(template, 'AWS::IAM::Role')) {
      expect(role.Properties.ManagedPolicyArns, rid).toBeUndefined();
    }
  });

  it('no statement grants a wildcard action; Resource "*" only where AWS offers no resource-level permission', () => {
    for (const [, policy] of resourcesOf(template, 'AWS::IAM::Policy')) {
      for (const s of policy.Properties.PolicyDocument.Statement as any[]) {
        for (const a of actionsOf(s)) expect(a).not.toMatch(/\*/);
        if (s.Resource === '*') {
          // X-Ray; a stream's ListStreams; the state machine's log delivery to CloudWatch Logs (vended logs: no resource-level permissions).
          const allowed = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'dynamodb:ListStreams'];
          const logDelivery = ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'];
          for (const a of actionsOf(s)) expect([...allowed, ...logDelivery]).toContain(a);
        }
      }
    }
  });

  it.each(functionNames)('%s: table, bus, email and rejected-queue rights match its access', (name) => {
    const { access } = functionSpecs[name];
    const statements = statementsOfRole(template, roleId(name));
    const withAction = (a: string) => statements.filter((s) => actionsOf(s).includes(a));

    // Table: exactly the wiring's item actions on the table ARN, Query on exactly the wiring's indexes.
    const tableArn = arnOf(id(stack.table.table));
    const indexArn = (name: string) => ({ 'Fn::Join': ['', [tableArn, `/index/${name}`]] });
    const onTable = statements.filter((s) => [s.Resource].flat().some((r) => JSON.stringify(r) === JSON.stringify(tableArn)));
    expect(onTable.flatMap(actionsOf).sort()).toEqual((access.table?.actions ?? []).map((a) => `dynamodb:${a}`).sort());
    for (const s of onTable) expect([s.Resource].flat()).toEqual([tableArn]);
    const onIndexes = statements.filter((s) => JSON.stringify(s.Resource).includes('/index/'));
    expect(onIndexes.flatMap(actionsOf)).toEqual(access.table?.queryIndexes?.length ? ['dynamodb:Query'] : []);
    for (const s of onIndexes) expect([s.Resource].flat()).toEqual((access.table?.queryIndexes ?? []).map(indexArn));

    const putEvents = withAction('events:PutEvents');
    expect(putEvents.length > 0).toBe(access.putEvents === true);
    for (const s of putEvents) expect(s.Resource).toEqual(arnOf(id(stack.eventBus.bus)));

    const send = withAction('ses:SendEmail');
    expect(send.length > 0).toBe(access.sendEmail === true);
    for (const s of send) {
      const resources = JSON.stringify(s.Resource);
      expect(s.Resource).toHaveLength(2);
      expect(resources).toContain(':identity/mail.acme.test');
      expect(resources).toContain(`:configuration-set/","{"Ref":"${id(stack.email.configurationSet)}"}`.replace('","{', '",{'));
      expect(s.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'news@mail.acme.test' } });
    }

    const rejected = withAction('sqs:SendMessage').filter((s) => JSON.stringify(s.Resource) === JSON.stringify(arnOf(id(stack.rejectedEvents.queue))));
    expect(rejected.length > 0).toBe(access.rejectedEvents === true);
  });

  it('the ingest role cannot send email or put events; only functions with sendEmail can send', () => {
    const has = (name: FunctionName, a: string) => statementsOfRole(template, roleId(name)).some((s) => actionsOf(s).includes(a));
    expect(has('ingest', 'ses:SendEmail')).toBe(false);
    expect(has('ingest', 'events:PutEvents')).toBe(false);
    const senders = functionNames.filter((n) => has(n, 'ses:SendEmail'));
    expect(senders).toEqual(functionNames.filter((n) => functionSpecs[n].access.sendEmail));
    expect(senders).toEqual(['campaigns']);
  });

  it('no function may Scan or use a wildcard on the table, only the nightly run, the backfill and erasure may batch-write; each has exactly the actions its code calls', () => {
    const dynamoActions = (name: FunctionName) =>
      statementsOfRole(template, roleId(name))
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('dynamodb:'))
        .sort();
    const stream = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];
    // ingest reads the erasure tombstones of a batch's customers (BatchGetItem) but neither queries nor deletes: erasure is its own function
    expect(dynamoActions('ingest')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    // her outreach assignments (BatchGetItem, a transaction deleting each and its unpublished copy), task items and partition
    expect(dynamoActions('erasure')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    expect(dynamoActions('churn-triggers')).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', ...stream].sort());
    expect(dynamoActions('campaigns')).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(dynamoActions('nightly-rescore')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem', // an outreach assignment's copy in the unpublished list, once published
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:Query', // on the table (triggers, models, outreach) and on the byScoringShard index
      'dynamodb:UpdateItem', // an outreach assignment's publishedAt
    ]);
    expect(dynamoActions('timer-sweep')).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query', // on the table (a customer's latest WINBACK# link) and on the byTimerDue index
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(dynamoActions('backfill')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    for (const name of functionNames) expect(dynamoActions(name).includes('dynamodb:BatchWriteItem')).toBe(name === 'nightly-rescore' || name === 'backfill' || name === 'erasure');
    for (const [, policy] of resourcesOf(template, 'AWS::IAM::Policy')) {
      const text = JSON.stringify(policy.Properties.PolicyDocument);
      expect(text).not.toContain('dynamodb:Scan');
      expect(text).not.toContain('/index/*');
    }
  });
});

describe('SES', () => {
  it('has a configuration set with reputation metrics, bounce/complaint suppression and TLS required', () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      ReputationOptions: { ReputationMetricsEnabled: true },
      SuppressionOptions: { SuppressedReasons: Match.arrayEquals(['BOUNCE', 'COMPLAINT']) },
      DeliveryOptions: { TlsPolicy: 'REQUIRE' },
      SendingOptions: { SendingEnabled: true },
    });
  });

  it('creates the sender domain identity with the configuration set and outputs its DKIM records', () => {
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'mail.acme.test',
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: id(stack.email.configurationSet) } },
    });
    for (const i of [1, 2, 3]) template.hasOutput(`SenderDomainDkimRecord${i}`, {});
  });
});

describe('alarms', () => {
  const alarmProps = () => resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const dims = (name: string, value: unknown) => JSON.stringify([{ Name: name, Value: value }]);
  const onQueue = (a: any, q: { node: { defaultChild?: unknown } }) => a.Namespace === 'AWS/SQS' && JSON.stringify(a.Dimensions) === dims('QueueName', arnOf(id(q), 'QueueName'));
  const batchFunctionNames = [...new Set(subscriptions.filter((s) => s.kind !== 'schedule').map((s) => s.function))];

  it('every alarm notifies the topic on ALARM and OK, fires on one 5-minute period (but the stale nightly run), and is named after the stack', () => {
    const topicRef = { Ref: id(stack.alarms.topic) };
    const all = alarmProps();
    const watchedQueues = [...Object.values(stack.deadLetterQueues).map((d) => d.queue), stack.rejectedEvents.queue];
    // Queues, errors + throttles per function, failed records per batch function, work queue age,
    // iterator age per stream, table throttles + system errors, SES bounce + complaint rates,
    // a failed and a stale nightly run, timers given up per function schedule (the timer sweep), a failed backfill,
    // the circuit breaker per function that sends email, the pages' links with an unknown key.
    const senders = functionNames.filter((n) => functionSpecs[n].access.sendEmail);
    expect(all).toHaveLength(watchedQueues.length + 2 * functionNames.length + batchFunctionNames.length + ruleSubs.length + streamSubs.length + 2 + 2 + 2 + functionSchedules.length + 1 + senders.length + 1);
    expect(stack.alarms.alarms).toHaveLength(all.length);
    // The stale-run alarm looks at 26 hourly periods (tested with the state machine).
    const alarms = all.filter((a) => a.MetricName !== 'ExecutionsSucceeded');
    expect(alarms).toHaveLength(all.length - 1);
    for (const a of all) {
      expect(a.AlarmActions).toEqual([topicRef]);
      expect(a.OKActions).toEqual([topicRef]);
      expect(a.AlarmName).toMatch(/^Acme-[A-Za-z]+$/);
    }
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([topicRef]);
      expect(a.OKActions).toEqual([topicRef]);
      expect(a.ComparisonOperator).toBe('GreaterThanThreshold');
      expect(a.EvaluationPeriods).toBe(1);
      expect(a.TreatMissingData).toBe('notBreaching');
      expect(a.AlarmName).toMatch(/^Acme-[A-Za-z]+$/);
      if (a.Metrics === undefined && a.Namespace !== 'AWS/SES') expect(a.Period).toBe(300);
    }
    expect(new Set(alarms.map((a) => a.AlarmName)).size).toBe(alarms.length);
    for (const q of watchedQueues) {
      expect(alarms.filter((a) => onQueue(a, q)), id(q)).toHaveLength(1);
      expect(alarms.find((a) => onQueue(a, q))!.Threshold).toBe(0);
    }
  });

  it.each(functionNames)('%s: alarms on errors and throttles (any)', (name) => {
    for (const metric of ['Errors', 'Throttles']) {
      expect(alarmProps()).toContainEqual(
        expect.objectContaining({ MetricName: metric, Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 0, Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(name) } }] }),
      );
    }
  });

  it.each(batchFunctionNames)('%s: alarms on any failed record (the FailedRecords metric its handler emits)', (name) => {
    expect(alarmProps()).toContainEqual(
      expect.objectContaining({ MetricName: FAILED_RECORDS_METRIC, Namespace: 'ServerlessClm', Statistic: 'Sum', Threshold: 0, Period: 300, Dimensions: [{ Name: 'service', Value: name }] }),
    );
  });

  it.each(functionSchedules.map((s) => [s.id, s] as const))('%s: alarms on any timer given up (the TimersGivenUp metric its handler emits)', (_, sub) => {
    expect(alarmProps()).toContainEqual(
      expect.objectContaining({ MetricName: TIMERS_GIVEN_UP_METRIC, Namespace: 'ServerlessClm', Statistic: 'Sum', Threshold: 0, Period: 300, Dimensions: [{ Name: 'service', Value: sub.function }] }),
    );
  });

  it.each(ruleSubs.map((s) => [s.id, s] as const))('%s: alarms when the oldest message of its work queue waits too long', (_, sub) => {
    const c = stack.node.findChild(sub.id) as RuleSubscription;
    const age = alarmProps().filter((a) => onQueue(a, c.queue));
    expect(age).toEqual([expect.objectContaining({ MetricName: 'ApproximateAgeOfOldestMessage', Statistic: 'Maximum', Threshold: WORK_QUEUE_MAX_AGE.toSeconds() })]);
  });

  it.each(streamSubs.map((s) => [s.id, s] as const))('%s: alarms when the iterator age reaches half the maximum record age', (_, sub) => {
    expect(alarmProps()).toContainEqual(
      expect.objectContaining({
        MetricName: 'IteratorAge',
        Namespace: 'AWS/Lambda',
        Statistic: 'Maximum',
        Threshold: sub.maxRecordAgeSeconds * 1000 * ITERATOR_AGE_ALARM_SHARE,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(sub.function) } }],
      }),
    );
    expect(ITERATOR_AGE_ALARM_SHARE).toBeLessThan(1);
  });

  it('alarms on DynamoDB throttled requests and system errors of every operation the functions call', () => {
    const tableRef = { Ref: id(stack.table.table) };
    for (const metricName of ['ThrottledRequests', 'SystemErrors']) {
      const alarm = alarmProps().find((a) => (a.Metrics as any[] | undefined)?.some((m) => m.MetricStat?.Metric.MetricName === metricName));
      expect(alarm, metricName).toBeDefined();
      expect(alarm!.Threshold).toBe(0);
      const stats = (alarm!.Metrics as any[]).filter((m) => m.MetricStat).map((m) => m.MetricStat);
      const operations = stats.map((m) => m.Metric.Dimensions.find((d: any) => d.Name === 'Operation').Value).sort();
      const called = [...new Set(functionNames.flatMap((n) => functionSpecs[n].access.table?.actions ?? []))];
      expect(operations).toEqual([...called, 'TransactWriteItems'].sort());
      for (const m of stats) {
        expect(m.Metric.Namespace).toBe('AWS/DynamoDB');
        expect(m.Metric.Dimensions).toContainEqual({ Name: 'TableName', Value: tableRef });
        expect(m.Stat).toBe('Sum');
      }
      // The alarm is on the sum of the operations.
      expect((alarm!.Metrics as any[]).find((m) => m.ReturnData !== false).Expression).toMatch(/\+/);
    }
  });

  it('alarms when the deliverability circuit breaker pauses marketing (any paused send of the function that sends email)', () => {
    const senders = functionNames.filter((n) => functionSpecs[n].access.sendEmail);
    expect(senders).toEqual(['campaigns']);
    const breaker = alarmProps().filter((a) => a.MetricName === CIRCUIT_BREAKER_PAUSED_METRIC);
    expect(breaker).toEqual([
      expect.objectContaining({
        AlarmName: 'Acme-CampaignsCircuitBreakerOpen',
        Namespace: 'ServerlessClm',
        Statistic: 'Sum',
        Threshold: 0,
        Period: 300,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        Dimensions: [{ Name: 'service', Value: 'campaigns' }],
      }),
    ]);
    expect(breaker[0]!.AlarmDescription).toMatch(/bounce or complaint rate/);
  });

  it('alarms when the public pages refuse more than 10 links in 5 minutes for a signing key they no longer hold', () => {
    const refused = alarmProps().filter((a) => a.MetricName === 'PageLinkRefused_unknown-key');
    expect(refused).toEqual([
      expect.objectContaining({
        AlarmName: 'Acme-PagesLinksWithUnknownKey',
        Namespace: 'ServerlessClm',
        Statistic: 'Sum',
        Threshold: 10,
        Period: 300,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        Dimensions: [{ Name: 'service', Value: 'pages' }],
      }),
    ]);
    expect(refused[0]!.AlarmDescription).toMatch(/Rotating the signing key/);
  });

  it('alarms on the SES bounce and complaint rates at 80% of the rates SES reviews an account at (5%, 0.1%)', () => {
    const ses = alarmProps().filter((a) => a.Namespace === 'AWS/SES');
    expect(ses.map((a) => [a.MetricName, a.Threshold])).toEqual([
      ['Reputation.BounceRate', 0.04],
      ['Reputation.ComplaintRate', 0.0008],
    ]);
    for (const a of ses) expect(a).toMatchObject({ Statistic: 'Maximum', Period: 900 });
  });

  it('alarm on arrivals (NumberOfMessagesSent) for queues filled by SendMessage, on depth for redrive-policy DLQs', () => {
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const alarmOf = (qid: string) =>
      alarms.find((a) => a.Namespace === 'AWS/SQS' && JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: arnOf(qid, 'QueueName') }]))!;
    // Redrive-policy targets, read from the template: SQS does not count moved messages in NumberOfMessagesSent.
    const redriveTargets = new Set(
      resourcesOf(template, 'AWS::SQS::Queue')
        .map(([, q]) => q.Properties.RedrivePolicy?.deadLetterTargetArn?.['Fn::GetAtt']?.[0] as string | undefined)
        .filter((x): x is string => x !== undefined),
    );
    expect(redriveTargets.size).toBe(ruleSubs.length);
    const watched = [...Object.values(stack.deadLetterQueues).map((d) => id(d.queue)), id(stack.rejectedEvents.queue)];
    for (const qid of watched) {
      const a = alarmOf(qid);
      if (redriveTargets.has(qid)) {
        expect(a, qid).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum' });
      } else {
        expect(a, qid).toMatchObject({ MetricName: 'NumberOfMessagesSent', Statistic: 'Sum' });
      }
    }
    // The rejected-events queue is never consumed: a depth alarm would fire once and stay in ALARM for 14 days.
    expect(alarmOf(id(stack.rejectedEvents.queue))).toMatchObject({ MetricName: 'NumberOfMessagesSent', Statistic: 'Sum', EvaluationPeriods: 1 });
  });

  it('subscribes the alarm e-mail to a TLS-only topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@acme.test', TopicArn: { Ref: id(stack.alarms.topic) } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('dashboard', () => {
  /** The dashboard body with each token (Ref, GetAtt) replaced by the logical id it names. */
  const body = () => {
    const [, dash] = resourcesOf(template, 'AWS::CloudWatch::Dashboard')[0]!;
    const [, parts] = dash.Properties.DashboardBody['Fn::Join'] as [string, unknown[]];
    const text = parts.map((p) => (typeof p === 'string' ? p : ((p as any).Ref ?? (p as any)['Fn::GetAtt']?.[0] ?? JSON.stringify(p)))).join('');
    return JSON.parse(text) as { widgets: { properties: { title: string; metrics: unknown[][] } }[] };
  };
  const metricsOf = (title: RegExp) => {
    const w = body().widgets.find((w) => title.test(w.properties.title));
    expect(w, String(title)).toBeDefined();
    return w!.properties.metrics.map((m) => m.filter((x) => typeof x === 'string').join(' '));
  };

  it('is one dashboard named after the stack', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Acme-pipeline' });
    template.hasOutput('DashboardName', { Value: { Ref: id(stack.dashboard.dashboard) } });
  });

  it('shows events in, rejected and failed; triggers; emails sent, held out and skipped', () => {
    const events = metricsOf(/^Events in/);
    // Every outcome ingest counts (functions/commons/metric-names.ts), the repeated rejections and erased customers' events too.
    expect(Object.values(INGEST_OUTCOME_METRICS)).toEqual(expect.arrayContaining(['EventsStored', 'DuplicateEvents', 'EventsRejected', 'RepeatedRejections', 'EventsOfErasedCustomers', FAILED_RECORDS_METRIC]));
    for (const m of Object.values(INGEST_OUTCOME_METRICS)) {
      expect(events).toContainEqual(expect.stringMatching(new RegExp(`^ServerlessClm ${m} service ingest`)));
    }
    const outcomes = metricsOf(/^Churn triggers and campaign emails/);
    expect(outcomes).toContainEqual(expect.stringMatching(/^ServerlessClm ChurnTriggersFired service churn-triggers/));
    for (const o of ['sent', 'control', 'skipped']) expect(outcomes).toContainEqual(expect.stringMatching(new RegExp(`^ServerlessClm Campaign_${o} service campaigns`)));
  });

  it('shows the depth and oldest-message age of every work queue, and every dead-letter queue', () => {
    const depth = metricsOf(/^Work queues: messages waiting/);
    const age = metricsOf(/^Work queues: oldest message age/);
    for (const sub of ruleSubs) {
      const q = id((stack.node.findChild(sub.id) as RuleSubscription).queue);
      expect(depth).toContainEqual(`AWS/SQS ApproximateNumberOfMessagesVisible QueueName ${q}`);
      expect(age).toContainEqual(`AWS/SQS ApproximateAgeOfOldestMessage QueueName ${q}`);
    }
    const dlqs = metricsOf(/^Dead-letter/);
    for (const q of [...Object.values(stack.deadLetterQueues).map((d) => d.queue), stack.rejectedEvents.queue]) {
      expect(dlqs).toContainEqual(`AWS/SQS ApproximateNumberOfMessagesVisible QueueName ${id(q)}`);
    }
  });

  it('shows the iterator age of every stream function, and errors, throttles and failed records of every function', () => {
    const iterator = metricsOf(/^Stream iterator age/);
    for (const sub of streamSubs) expect(iterator).toContainEqual(`AWS/Lambda IteratorAge FunctionName ${fnId(sub.function)}`);
    const errors = metricsOf(/^Function errors/);
    const failed = metricsOf(/^Failed records/);
    for (const name of functionNames) {
      expect(errors).toContainEqual(`AWS/Lambda Errors FunctionName ${fnId(name)}`);
      expect(errors).toContainEqual(`AWS/Lambda Throttles FunctionName ${fnId(name)}`);
      expect(failed).toContainEqual(expect.stringMatching(new RegExp(`^ServerlessClm ${FAILED_RECORDS_METRIC} service ${name}`)));
    }
  });
});

describe('outputs', () => {
  it('expose the bus, table, rejected-events queue and SES configuration set', () => {
    template.hasOutput('EventBusName', { Value: { Ref: id(stack.eventBus.bus) } });
    template.hasOutput('EventBusArn', { Value: arnOf(id(stack.eventBus.bus)) });
    template.hasOutput('TableName', { Value: { Ref: id(stack.table.table) } });
    template.hasOutput('RejectedEventsQueueUrl', { Value: { Ref: id(stack.rejectedEvents.queue) } });
    template.hasOutput('SesConfigurationSetName', { Value: { Ref: id(stack.email.configurationSet) } });
  });
});
