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
import { tableDefinition, tableName } from '../../shared/data-model/table.ts';
import { ENV, type FunctionName, functionSpecs, type RuleSubscription as RuleSpec, type StreamSubscription as StreamSpec, subscriptions } from '../../shared/wiring.ts';
import { RULE_TARGET_MAX_EVENT_AGE, RULE_TARGET_RETRY_ATTEMPTS, type RuleSubscription } from '../../infra/constructs/rule-subscription.ts';
import type { StreamSubscription } from '../../infra/constructs/stream-subscription.ts';
import { type NightlySchedule, SCHEDULE_MAX_EVENT_AGE, SCHEDULE_RETRY_ATTEMPTS } from '../../infra/constructs/nightly-schedule.ts';
import type { ServerlessClmStack } from '../../infra/stack.ts';
import { actionsOf, arnOf, logicalId, resourcesOf, statementsOfRole, synth, type TestApp } from './helpers.ts';

const context = {
  senderAddress: 'news@mail.acme.test',
  tablePrefix: 'acme-',
  nightlySchedule: 'cron(30 3 * * ? *)',
  nightlyTimeZone: 'Europe/Amsterdam',
  alarmEmail: 'ops@acme.test',
  producerAccountIds: '111111111111,222222222222',
  eventArchiveDays: '45',
  controlGroupPercent: '15',
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
const scheduleSubs = subscriptions.filter((s) => s.kind === 'schedule');

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
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: tableName('acme-'),
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        StreamSpecification: { StreamViewType: def.stream },
        TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true },
        DeletionProtectionEnabled: true,
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
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(p.EventBusName).toEqual({ Ref: busId });
      expect(p.Statement.Action).toBe('events:PutEvents');
      expect(p.Statement.Resource).toEqual(arnOf(busId));
    }
    const principals = JSON.stringify(policies.map((p) => p.Statement.Principal));
    expect(principals).toContain('"Ref":"AWS::AccountId"');
    expect(principals).toContain(':iam::111111111111:root');
    expect(principals).toContain(':iam::222222222222:root');
  });
});

describe('rule subscriptions (bus rule → queue with DLQ → function)', () => {
  it.each(ruleSubs.map((s) => [s.id, s] as const))('%s', (_, sub) => {
    const c = stack.node.findChild(sub.id) as RuleSubscription;
    const queueId = id(c.queue);
    const dlqId = id(c.deadLetterQueue);
    const deliveryDlqId = id(c.deliveryDeadLetterQueue);

    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: id(stack.eventBus.bus) },
      EventPattern: sub.pattern,
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
      BatchSize: sub.batchSize,
      MaximumBatchingWindowInSeconds: sub.maxBatchingWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
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
  it.each(scheduleSubs.map((s) => [s.id, s] as const))('%s runs the configured cron in the configured time zone, with retries and a DLQ', (_, sub) => {
    const c = stack.node.findChild(sub.id) as NightlySchedule;
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Amsterdam',
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: arnOf(fnId(sub.function)),
        RoleArn: arnOf(id(c.role)),
        DeadLetterConfig: { Arn: arnOf(id(c.deadLetterQueue)) },
        RetryPolicy: { MaximumRetryAttempts: SCHEDULE_RETRY_ATTEMPTS, MaximumEventAgeInSeconds: SCHEDULE_MAX_EVENT_AGE.toSeconds() },
      }),
    });
    const statements = statementsOfRole(template, id(c.role));
    expect(statements.flatMap(actionsOf).sort()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
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
    const dlqs = [...Object.values(stack.deadLetterQueues), stack.rejectedEvents.queue];
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
          [ENV.frequencyCapPerWeek]: '3',
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
    if (access.table) expect(vars[ENV.tableName]).toEqual({ Ref: id(stack.table.table) });
    if (access.putEvents) expect(vars[ENV.busName]).toEqual({ Ref: id(stack.eventBus.bus) });
    if (access.rejectedEvents) expect(vars[ENV.rejectedQueueUrl]).toEqual({ Ref: id(stack.rejectedEvents.queue) });
    if (access.sendEmail) {
      expect(vars[ENV.senderAddress]).toBe('news@mail.acme.test');
      expect(vars[ENV.configurationSet]).toEqual({ Ref: id(stack.email.configurationSet) });
      expect(vars[ENV.unsubscribeBaseUrl]).toBe('https://acme.test/u');
      expect(vars[ENV.helpBaseUrl]).toBe('https://acme.test/help');
    }
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
          for (const a of actionsOf(s)) expect(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'dynamodb:ListStreams']).toContain(a);
        }
      }
    }
  });

  it.each(functionNames)('%s: table, bus, email and rejected-queue rights match its access', (name) => {
    const { access } = functionSpecs[name];
    const statements = statementsOfRole(template, roleId(name));
    const withAction = (a: string) => statements.filter((s) => actionsOf(s).includes(a));
    const tableArn = arnOf(id(stack.table.table));

    expect(withAction('dynamodb:GetItem').length > 0).toBe(access.table !== undefined);
    expect(withAction('dynamodb:PutItem').length > 0).toBe(access.table === 'readwrite');
    for (const s of withAction('dynamodb:GetItem')) expect([s.Resource].flat()).toContainEqual(tableArn);

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
  it('watch every dead-letter queue, the rejected-events queue and every function, notifying the topic', () => {
    const topicRef = { Ref: id(stack.alarms.topic) };
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const watchedQueues = [...Object.values(stack.deadLetterQueues), stack.rejectedEvents.queue];
    expect(alarms).toHaveLength(watchedQueues.length + functionNames.length);
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([topicRef]);
      expect(a.Threshold).toBe(0);
      expect(a.ComparisonOperator).toBe('GreaterThanThreshold');
    }
    for (const q of watchedQueues) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Namespace: 'AWS/SQS',
          Dimensions: [{ Name: 'QueueName', Value: arnOf(id(q), 'QueueName') }],
        }),
      );
    }
    for (const name of functionNames) {
      expect(alarms).toContainEqual(
        expect.objectContaining({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(name) } }] }),
      );
    }
  });

  it('subscribes the alarm e-mail to a TLS-only topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@acme.test', TopicArn: { Ref: id(stack.alarms.topic) } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
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
