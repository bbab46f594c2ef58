/**
 * The report capability in the template: the private bucket (and its access-log bucket), what
 * the report function may do with it, its environment, and the schedule that invokes it.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULE_MAX_EVENT_AGE, SCHEDULE_RETRY_ATTEMPTS } from '../../infra/constructs/nightly-schedule.ts';
import { ENV, subscriptions } from '../../shared/wiring.ts';
import { actionsOf, arnOf, logicalId, resourcesOf, statementsOfRole, synth, type TestApp } from './helpers.ts';

describe('report bucket and schedule', () => {
  let built: TestApp;
  const id = (c: { node: { defaultChild?: unknown } }) => logicalId(built.stack, c);
  beforeAll(() => {
    built = synth({ reportSchedule: 'cron(15 7 * * ? *)', nightlyTimeZone: 'Europe/Amsterdam', reportSettings: '{"costPerContact": 22, "currency": "USD"}' }, { bundle: false });
  }, 120_000);

  it('keeps the report in a private, encrypted, TLS-only bucket with access logs and expiry', () => {
    const r = built.stack.report!;
    const bucket = resourcesOf(built.template, 'AWS::S3::Bucket').find(([k]) => k === id(r.bucket))![1].Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: id(r.accessLogs) }, LogFilePrefix: 'report-bucket/' });
    expect(bucket.LifecycleConfiguration.Rules).toEqual([{ ExpirationInDays: 400, Status: 'Enabled' }]);
    built.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id(r.bucket) },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    // the log bucket takes deliveries from the S3 logging service for this bucket only
    built.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id(r.accessLogs) },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Condition: Match.objectLike({ ArnLike: { 'aws:SourceArn': arnOf(id(r.bucket)) } }) })]),
      },
    });
  });

  it('lets the report function put objects under reports/ and latest/ only, and query the table', () => {
    const fn = built.stack.functions.report;
    const statements = statementsOfRole(built.template, id(fn.role));
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    expect(s3.flatMap(actionsOf)).toEqual(['s3:PutObject']);
    expect(JSON.stringify(s3[0].Resource)).toContain('/reports/*');
    expect(JSON.stringify(s3[0].Resource)).toContain('/latest/*');
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:Query']);
    const env = resourcesOf(built.template, 'AWS::Lambda::Function').find(([k]) => k === id(fn.function))![1].Properties.Environment.Variables;
    expect(env[ENV.reportBucket]).toEqual({ Ref: id(built.stack.report!.bucket) });
    expect(JSON.parse(env[ENV.reportSettings])).toEqual({ costPerContact: 22, currency: 'USD' });
    // no other function gets the bucket or the report settings
    for (const [name, f] of Object.entries(built.stack.functions)) {
      if (name === 'report') continue;
      const vars = resourcesOf(built.template, 'AWS::Lambda::Function').find(([k]) => k === id(f.function))![1].Properties.Environment.Variables;
      expect(vars[ENV.reportBucket], name).toBeUndefined();
      expect(vars[ENV.reportSettings], name).toBeUndefined();
    }
  });

  it('invokes the report function on its own cron, with the wiring input, retries and a DLQ', () => {
    const sub = subscriptions.find((s) => s.id === 'NightlyReport')!;
    const r = built.stack.report!;
    const [, schedule] = resourcesOf(built.template, 'AWS::Scheduler::Schedule').find(([, s]) => JSON.stringify(s.Properties.Target.Arn) === JSON.stringify(arnOf(id(built.stack.functions.report.function))))!;
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'cron(15 7 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Amsterdam',
      Target: { DeadLetterConfig: { Arn: arnOf(id(r.deadLetterQueue)) }, RetryPolicy: { MaximumRetryAttempts: SCHEDULE_RETRY_ATTEMPTS, MaximumEventAgeInSeconds: SCHEDULE_MAX_EVENT_AGE.toSeconds() } },
    });
    expect(JSON.parse(schedule.Properties.Target.Input)).toEqual(sub.kind === 'schedule' && sub.input('<aws.scheduler.scheduled-time>'));
  });

  it('refuses invalid report settings at synthesis, naming the field', () => {
    expect(() => synth({ reportSettings: '{"costPerContact": -1}' }, { bundle: false })).toThrow(/reportSettings.*costPerContact/);
    expect(() => synth({ reportSchedule: 'rate(1 day)' }, { bundle: false })).toThrow(/reportSchedule/);
  });
});
