/**
 * The backfill's bucket and state machine in the synthesized template (infra/constructs/backfill.ts),
 * and the definition the local run executes being the deployed one.
 */
import { Duration } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { aslOf } from '../../infra/asl.ts';
import { BACKFILL_RESULTS_PREFIX, LOCAL_BACKFILL_BUCKET, synthesizedBackfillDefinition } from '../../infra/constructs/backfill.ts';
import { backfillRun, functionSpecs } from '../../shared/wiring.ts';
import { actionsOf, arnOf, logicalId, resourcesOf, statementsOfRole, synth, type TestApp } from './helpers.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
let t: TestApp;
let definition: any;
let smId: string;
let bucketId: string;
let fnId: string;
const FN = 'arn:aws:lambda:eu-west-1:000000000000:function:backfill';

beforeAll(() => {
  t = synth({ senderAddress: 'news@mail.acme.test', stackName: 'Acme' }, { bundle: false });
  smId = logicalId(t.stack, t.stack.backfill.stateMachine);
  bucketId = logicalId(t.stack, t.stack.backfill.bucket);
  fnId = logicalId(t.stack, t.stack.functions[backfillRun.function].function);
  const sm = resourcesOf(t.template, 'AWS::StepFunctions::StateMachine').find(([id]) => id === smId)![1];
  definition = aslOf(sm.Properties.DefinitionString, (token) => {
    const s = JSON.stringify(token);
    if (s === JSON.stringify(arnOf(fnId))) return FN;
    if (s === JSON.stringify({ Ref: bucketId })) return LOCAL_BACKFILL_BUCKET;
    if (s === JSON.stringify({ Ref: 'AWS::Partition' })) return 'aws';
    return 'OTHER';
  });
}, 600_000);

describe('backfill bucket', () => {
  it('is encrypted, versioned, private, TLS-only and access-logged; the Map results expire', () => {
    const bucket = resourcesOf(t.template, 'AWS::S3::Bucket').find(([id]) => id === bucketId)![1].Properties;
    expect(bucket.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logicalId(t.stack, t.stack.backfill.accessLogs) }, LogFilePrefix: 'uploads/' });
    expect(bucket.LifecycleConfiguration.Rules).toEqual(expect.arrayContaining([expect.objectContaining({ Prefix: BACKFILL_RESULTS_PREFIX, ExpirationInDays: 30, Status: 'Enabled' })]));
    const policies = resourcesOf(t.template, 'AWS::S3::BucketPolicy').filter(([, p]) => p.Properties.Bucket.Ref === bucketId);
    expect(JSON.stringify(policies)).toContain('"aws:SecureTransport":"false"');
  });
});

describe('backfill state machine', () => {
  it('is logged (every state, without execution data), traced, with a timeout', () => {
    const sm = resourcesOf(t.template, 'AWS::StepFunctions::StateMachine').find(([id]) => id === smId)![1].Properties;
    expect(sm.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(sm.TracingConfiguration).toEqual({ Enabled: true });
    expect(definition.TimeoutSeconds).toBe(backfillRun.timeoutHours * 3600);
  });

  it('reads each format with a Distributed Map: its item reader, row index, batches with the run, file and format, bounded concurrency, tolerated failures, results to S3', () => {
    expect(definition.StartAt).toBe('Format');
    expect(definition.States.Format.Choices).toEqual([
      { Variable: '$.format', StringEquals: 'csv', Next: 'CsvRows' },
      { Variable: '$.format', StringEquals: 'jsonl', Next: 'JsonLinesRows' },
    ]);
    for (const [name, format, reader] of [
      ['CsvRows', 'csv', { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW' }],
      ['JsonLinesRows', 'jsonl', { InputType: 'JSONL' }],
    ] as const) {
      const map = definition.States[name];
      expect(map).toMatchObject({
        Type: 'Map',
        Next: 'Summarise',
        ResultPath: null,
        MaxConcurrency: backfillRun.maxConcurrency,
        ToleratedFailurePercentage: backfillRun.toleratedFailurePercentage,
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: reader, Parameters: { Bucket: LOCAL_BACKFILL_BUCKET, 'Key.$': '$.key' } },
        ItemSelector: { 'index.$': '$$.Map.Item.Index', 'row.$': '$$.Map.Item.Value' },
        ItemBatcher: { MaxItemsPerBatch: backfillRun.rowsPerBatch, MaxInputBytesPerBatch: 204800, BatchInput: { 'runId.$': '$.runId', 'file.$': '$.key', format } },
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: LOCAL_BACKFILL_BUCKET, Prefix: BACKFILL_RESULTS_PREFIX } },
      });
      expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
      const batch = map.ItemProcessor.States[`${name}Batch`];
      const retry = [{ ErrorEquals: ['States.ALL'], MaxAttempts: backfillRun.retry.maxAttempts, IntervalSeconds: backfillRun.retry.intervalSeconds, BackoffRate: backfillRun.retry.backoffRate, MaxDelaySeconds: backfillRun.retry.maxDelaySeconds, JitterStrategy: 'FULL' }];
      expect(batch).toMatchObject({ Type: 'Task', Resource: FN, Retry: retry, Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${name}BatchFailed` }] });
      expect(batch.Parameters).toBeUndefined();
      expect(map.ItemProcessor.States[`${name}BatchFailed`]).toMatchObject({ Type: 'Task', Resource: FN, Retry: retry, End: true, Parameters: { step: 'failed', 'Items.$': '$.Items', 'BatchInput.$': '$.BatchInput', 'error.$': '$.error' } });
    }
    expect(definition.States.Summarise).toMatchObject({ Type: 'Task', Resource: FN, End: true, Parameters: { step: 'summarise', 'runId.$': '$.runId', 'file.$': '$.key' } });
    expect(definition.States.UnknownFormat).toMatchObject({ Type: 'Fail', Error: 'UnknownFormat' });
  });

  it('may invoke the backfill function only, read the bucket and start its own child executions', () => {
    const roleRef = resourcesOf(t.template, 'AWS::StepFunctions::StateMachine').find(([id]) => id === smId)![1].Properties.RoleArn['Fn::GetAtt'][0];
    const statements = statementsOfRole(t.template, roleRef);
    const invoke = statements.filter((st) => actionsOf(st).includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invoke)).toContain(fnId);
    for (const other of Object.keys(functionSpecs).filter((n) => n !== backfillRun.function)) expect(JSON.stringify(invoke)).not.toContain(logicalId(t.stack, t.stack.functions[other as keyof typeof functionSpecs].function));
    const s3 = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const st of s3) expect(JSON.stringify(st.Resource)).toContain(bucketId);
    expect(JSON.stringify(statements)).toContain('states:StartExecution');
  });

  it('alarms on a failed, timed-out or aborted execution; outputs the bucket and the state machine', () => {
    const alarm = resourcesOf(t.template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties).find((a) => JSON.stringify(a.Metrics ?? []).includes(smId))!;
    for (const m of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) expect(JSON.stringify(alarm.Metrics)).toContain(m);
    expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, EvaluationPeriods: 1 });
    const outputs = t.template.toJSON().Outputs;
    expect(outputs.BackfillBucketName.Value).toEqual({ Ref: bucketId });
    expect(outputs.BackfillStateMachineArn.Value).toEqual({ Ref: smId });
  });

  it('the local run executes the same definition, but for the function ARN and the bucket name', () => {
    expect(synthesizedBackfillDefinition(FN, backfillRun, Duration.seconds(functionSpecs[backfillRun.function].timeoutSeconds))).toEqual(definition);
  });
});
