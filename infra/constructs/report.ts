/**
 * The report capability in AWS: a private S3 bucket the report function writes to (all public
 * access blocked, S3-managed encryption, TLS only, owner-enforced object ownership, reports
 * expire after `expireDays`; server access logs to a second private bucket), and the
 * EventBridge Scheduler schedule that invokes the report function (a `kind: 'schedule'`
 * subscription of shared/wiring.ts, after the nightly run) with retries and a dead-letter
 * queue for invocations Scheduler could not make.
 */
import { type CfnElement, Duration, type RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ScheduleSubscription } from '../../shared/wiring.ts';
import { SCHEDULE_MAX_EVENT_AGE, SCHEDULE_RETRY_ATTEMPTS } from './nightly-schedule.ts';
import { deadLetterQueue } from './queues.ts';

const ACCESS_LOG_PREFIX = 'report-bucket/';

/** The prefixes the report function writes under (shared/report/publish.ts). */
export const REPORT_PREFIXES = ['reports/', 'latest/'] as const;

export type ReportProps = {
  spec: ScheduleSubscription;
  fn: lambda.IFunction;
  role: iam.IRole;
  /** EventBridge Scheduler expression, e.g. `cron(0 6 * * ? *)`. */
  expression: string;
  timeZone: string;
  removalPolicy: RemovalPolicy;
  /** Days a report is kept (default 400). */
  expireDays?: number;
};

export class Report extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ReportProps) {
    super(scope, id);
    const privateBucket: s3.BucketProps = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
    };
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', { ...privateBucket, lifecycleRules: [{ expiration: Duration.days(90) }] });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the destination of the report bucket\'s server access logs; logging it into itself (or a third bucket) would only log the log delivery.',
    });
    this.bucket = new s3.Bucket(this, 'Bucket', { ...privateBucket, lifecycleRules: [{ expiration: Duration.days(props.expireDays ?? 400) }] });
    // Server access logs delivered under a bucket policy (the way AWS recommends, no ACL: both buckets keep owner-enforced ownership).
    const stack = Stack.of(this);
    (this.bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = { destinationBucketName: this.accessLogs.bucketName, logFilePrefix: ACCESS_LOG_PREFIX };
    this.accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.accessLogs.arnForObjects(`${ACCESS_LOG_PREFIX}*`)],
        conditions: { ArnLike: { 'aws:SourceArn': this.bucket.bucketArn }, StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    // PutObject under the report prefixes only (no read, no delete, no other key).
    const put = new iam.Policy(this, 'WritePolicy', {
      statements: [new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: REPORT_PREFIXES.map((p) => this.bucket.arnForObjects(`${p}*`)) })],
    });
    put.attachToRole(props.role);
    Validations.of(put).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/reports/*]`,
      reason: 'The report function writes one object per file of each night under reports/<run date>/ (keys not known in advance); PutObject only, in this bucket only.',
    });
    Validations.of(put).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/latest/*]`,
      reason: 'The report function overwrites the newest report\'s files under latest/; PutObject only, in this bucket only.',
    });

    this.deadLetterQueue = deadLetterQueue(this, 'ScheduleDeadLetterQueue');
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the EventBridge Scheduler target (report invocations Scheduler could not make); it is watched by a CloudWatch alarm.',
    });
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      description: `EventBridge Scheduler role of the ${props.spec.id} schedule`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
    });
    const fnResource = props.fn.node.defaultChild as CfnElement | undefined;
    if (fnResource) {
      Validations.of(scheduleRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fnResource)}.Arn>:*]`,
        reason: 'lambda:InvokeFunction on the versions and aliases (":*") of the one report function, as the Scheduler Lambda target grants it; no other function is covered.',
      });
    }
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: props.spec.description,
      schedule: scheduler.ScheduleExpression.expression(props.expression, TimeZone.of(props.timeZone)),
      target: new schedulerTargets.LambdaInvoke(props.fn, {
        input: scheduler.ScheduleTargetInput.fromObject(props.spec.input(scheduler.ContextAttribute.scheduledTime)),
        retryAttempts: SCHEDULE_RETRY_ATTEMPTS,
        maxEventAge: SCHEDULE_MAX_EVENT_AGE,
        deadLetterQueue: this.deadLetterQueue,
        role: scheduleRole,
      }),
    });
  }
}
