/**
 * The bulk backfill (shared/backfill; docs/backfill.md): an S3 bucket for the uploaded files and
 * a Step Functions state machine that backfills one file an execution (`clm backfill upload`
 * starts one per file), built from `backfillRun` in shared/wiring.ts.
 *
 *   Format (Choice on $.format) → CsvRows | JsonLinesRows (a Distributed Map each) → Summarise
 *
 * Each Distributed Map reads the file itself (its ItemReader: CSV with the header on the first
 * row, or JSON Lines), adds each row's index in the file (ItemSelector), hands the rows to the
 * backfill function in batches (ItemBatcher, with the run id, file and format as BatchInput), at
 * most `maxConcurrency` batches at once, and writes the child results to the bucket
 * (ResultWriter, under results/). A batch still failing after its retries is recorded (with its
 * lines and the error) by the function and the Map goes on; beyond `toleratedFailurePercentage`
 * failed children the run fails. Summarise adds up the file's batches (rows read, rejected,
 * events stored, customers written, failed batches) as the execution's output and publishes
 * BackfillCompleted. Logging of every state (without execution data: rows hold personal data),
 * X-Ray, a timeout.
 *
 * The bucket: S3-managed encryption, TLS only, all public access blocked, versioned, access
 * logged to a second bucket; the Map's results expire after 30 days.
 */
import { App, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { nagEnv } from './names.ts';
import * as cxapi from 'aws-cdk-lib/cx-api';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { backfillRun } from '../../shared/wiring.ts';
import { aslOf } from '../asl.ts';
import { loggedStateMachine } from './logged-state-machine.ts';

/** Where the Distributed Maps write their child executions' results in the bucket. */
export const BACKFILL_RESULTS_PREFIX = 'results/';
/** Days the Map results are kept. */
export const BACKFILL_RESULTS_DAYS = 30;

export type BackfillProps = {
  spec: typeof backfillRun;
  fn: lambda.IFunction;
  /** The function's own timeout: one batch never takes longer. */
  stepTimeout: Duration;
  /** Of the buckets and the log group (as the table's). */
  removalPolicy: RemovalPolicy;
};

export class Backfill extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BackfillProps) {
    super(scope, id);
    // ResultWriterV2 is rendered only with its feature flag; set for this construct's states only.
    this.node.setContext(cxapi.STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
    // Access-log delivery granted by a bucket policy (not the deprecated log-delivery ACL).
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const { spec, fn } = props;
    const autoDeleteObjects = false;
    const secure = { encryption: s3.BucketEncryption.S3_MANAGED, enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, removalPolicy: props.removalPolicy, autoDeleteObjects };
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', { ...secure, lifecycleRules: [{ expiration: Duration.days(365) }] });
    Validations.of(this.accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is the access-log bucket of the backfill bucket; logging its own access would log into itself.' });
    this.bucket = new s3.Bucket(this, 'Uploads', {
      ...secure,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'uploads/',
      lifecycleRules: [
        { prefix: BACKFILL_RESULTS_PREFIX, expiration: Duration.days(BACKFILL_RESULTS_DAYS) },
        { noncurrentVersionExpiration: Duration.days(30) },
      ],
    });

    const invoke = (name: string, payload?: sfn.TaskInput) => {
      const task = new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fn,
        ...(payload && { payload }),
        // The function's result is the state's output, and the task's resource is the function's ARN
        // (the local ASL run overrides exactly that resource with the local handler).
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        taskTimeout: sfn.Timeout.duration(props.stepTimeout.plus(Duration.minutes(1))),
      });
      task.addRetry({
        errors: ['States.ALL'],
        maxAttempts: spec.retry.maxAttempts,
        interval: Duration.seconds(spec.retry.intervalSeconds),
        backoffRate: spec.retry.backoffRate,
        maxDelay: Duration.seconds(spec.retry.maxDelaySeconds),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };

    /** The Distributed Map of one format: read, batch, backfill each batch (a failing one recorded), results to S3. */
    const rowsMap = (name: string, format: 'csv' | 'jsonl', itemReader: sfn.IItemReader) => {
      const batch = invoke(`${name}Batch`);
      const failed = invoke(
        `${name}BatchFailed`,
        sfn.TaskInput.fromObject({ step: 'failed', 'Items.$': '$.Items', 'BatchInput.$': '$.BatchInput', 'error.$': '$.error' }),
      );
      batch.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
      const map = new sfn.DistributedMap(this, name, {
        itemReader,
        itemSelector: { 'index.$': '$$.Map.Item.Index', 'row.$': '$$.Map.Item.Value' },
        itemBatcher: new sfn.ItemBatcher({
          maxItemsPerBatch: spec.rowsPerBatch,
          // Under Lambda's 256 KB payload with room for the batch input.
          maxInputBytesPerBatch: 200 * 1024,
          batchInput: { 'runId.$': '$.runId', 'file.$': '$.key', format },
        }),
        maxConcurrency: spec.maxConcurrency,
        toleratedFailurePercentage: spec.toleratedFailurePercentage,
        resultWriterV2: new sfn.ResultWriterV2({ bucket: this.bucket, prefix: BACKFILL_RESULTS_PREFIX }),
        // The state keeps its input (run id, key); the results are in the bucket.
        resultPath: sfn.JsonPath.DISCARD,
      });
      map.itemProcessor(batch);
      return map;
    };

    const csv = rowsMap('CsvRows', 'csv', new sfn.S3CsvItemReader({ bucket: this.bucket, key: sfn.JsonPath.stringAt('$.key'), csvHeaders: sfn.CsvHeaders.useFirstRow() }));
    const jsonl = rowsMap('JsonLinesRows', 'jsonl', new sfn.S3JsonLItemReader({ bucket: this.bucket, key: sfn.JsonPath.stringAt('$.key') }));
    const summarise = invoke('Summarise', sfn.TaskInput.fromObject({ step: 'summarise', 'runId.$': '$.runId', 'file.$': '$.key' }));
    const format = new sfn.Choice(this, 'Format')
      .when(sfn.Condition.stringEquals('$.format', 'csv'), csv.next(summarise))
      .when(sfn.Condition.stringEquals('$.format', 'jsonl'), jsonl.next(summarise))
      .otherwise(new sfn.Fail(this, 'UnknownFormat', { error: 'UnknownFormat', cause: 'format must be csv or jsonl' }));

    ({ stateMachine: this.stateMachine, logGroup: this.logGroup } = loggedStateMachine(this, {
      comment: 'serverless-clm backfill of one uploaded file: read its rows, backfill them in batches, summarise (docs/backfill.md)',
      definition: format,
      timeout: Duration.hours(spec.timeoutHours),
      removalPolicy: props.removalPolicy,
      fn,
      fnDescription: 'backfill function',
    }));

    const logicalId = (c: Construct) => Stack.of(this).getLogicalId(c.node.defaultChild as CfnElement);
    Validations.of(this.stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<${logicalId(this.bucket)}>/*]`,
      reason: "The Distributed Maps read the uploaded files (any key: the file names are the user's) and write their results under results/ of the backfill's own bucket only (s3:GetObject, s3:PutObject and multipart upload, as CDK's item reader and result writer add them).",
    });
    // The Map Runs' child executions of this state machine (CDK's DistributedMapPolicy).
    // The region and account as the template names them: tokens in an environment-agnostic stack, literal when set
    // (`cdk synth` sets the region from CDK_DEFAULT_REGION).
    const { region, account } = nagEnv(this);
    const executions = `arn:<AWS::Partition>:states:${region}:${account}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(this.stateMachine)}"}]}]}`;
    for (const resource of [`${executions}:*`, `${executions}/*:*`]) {
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason: 'A Distributed Map starts, describes and stops the child executions of its own state machine, whose names Step Functions makes up (CDK\'s DistributedMapPolicy); no other state machine is covered.',
      });
    }
  }
}

/** The name of the bucket in the definition the local run executes (its ItemReader and ResultWriter are not run locally). */
export const LOCAL_BACKFILL_BUCKET = 'clm-local-backfill';

/**
 * The state machine's definition (ASL) as CDK synthesizes this construct, for a function with
 * the given ARN and the bucket named LOCAL_BACKFILL_BUCKET: the local stack runs exactly this
 * with an ASL interpreter (local/backfill-run.ts). A test checks it equals the deployed stack's
 * definition but for the ARN and the bucket.
 */
export function synthesizedBackfillDefinition(functionArn: string, spec: typeof backfillRun, stepTimeout: Duration): Record<string, unknown> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'BackfillDefinition', { env: { account: '000000000000', region: 'eu-west-1' } });
  const fn = lambda.Function.fromFunctionArn(stack, 'BackfillFunction', functionArn);
  const run = new Backfill(stack, 'Backfill', { spec, fn, stepTimeout, removalPolicy: RemovalPolicy.DESTROY });
  const bucketRef = JSON.stringify({ Ref: stack.getLogicalId(run.bucket.node.defaultChild as CfnElement) });
  const resource = app.synth().getStackByName(stack.stackName).template.Resources[stack.getLogicalId(run.stateMachine.node.defaultChild as CfnElement)];
  return aslOf(resource.Properties.DefinitionString, (token) => {
    if (JSON.stringify(token) === bucketRef) return LOCAL_BACKFILL_BUCKET;
    if (JSON.stringify(token) === '{"Ref":"AWS::Partition"}') return 'aws';
    throw new Error(`unexpected token in the backfill's definition: ${JSON.stringify(token)}`);
  });
}
