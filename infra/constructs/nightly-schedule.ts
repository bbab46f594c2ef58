/**
 * A `kind: 'schedule'` subscription from shared/wiring.ts: an EventBridge
 * Scheduler schedule that invokes the function with the cron expression and
 * time zone from the settings, retries, and a dead-letter queue for
 * invocations Scheduler could not make. Scheduler invokes asynchronously, so a
 * run that fails inside the function is Lambda's to retry: the function's
 * asynchronous invocation config sets those retries and the event age
 * explicitly and sends failed runs to a queue (on-failure destination).
 */
import { type CfnElement, Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ScheduleSubscription } from '../../shared/wiring.ts';
import { deadLetterQueue } from './queues.ts';

export const SCHEDULE_RETRY_ATTEMPTS = 3;
export const SCHEDULE_MAX_EVENT_AGE = Duration.hours(2);
/**
 * Lambda's retries of a run that failed in the function (its default is 2):
 * one retry covers a transient failure; a run that fails twice needs a look,
 * not a third run of up to 15 minutes.
 */
export const RUN_RETRY_ATTEMPTS = 1;
/** A run still waiting (throttled) after this long goes to the failed-runs queue instead of starting late in the day. */
export const RUN_MAX_EVENT_AGE = Duration.hours(6);

export type NightlyScheduleProps = {
  spec: ScheduleSubscription;
  fn: lambda.IFunction;
  /** EventBridge Scheduler expression, e.g. `cron(0 2 * * ? *)`. */
  expression: string;
  /** IANA time zone the expression is evaluated in. */
  timeZone: string;
};

export class NightlySchedule extends Construct {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;
  /** Runs that failed in the function after Lambda's retries (on-failure destination). */
  readonly failedRunQueue: sqs.Queue;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: NightlyScheduleProps) {
    super(scope, id);
    const { spec } = props;

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue');
    const stack = Stack.of(this);
    // Own role (rather than CDK's shared one), assumable by EventBridge
    // Scheduler for schedules of this account's default group only.
    this.role = new iam.Role(this, 'Role', {
      description: `EventBridge Scheduler role of the ${spec.id} schedule`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
    });

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: spec.description,
      schedule: scheduler.ScheduleExpression.expression(props.expression, TimeZone.of(props.timeZone)),
      target: new schedulerTargets.LambdaInvoke(props.fn, {
        // The payload shape is the wiring's (`spec.input`), shared with the local stack;
        // Scheduler fills in the scheduled time.
        input: scheduler.ScheduleTargetInput.fromObject(spec.input(scheduler.ContextAttribute.scheduledTime)),
        retryAttempts: SCHEDULE_RETRY_ATTEMPTS,
        maxEventAge: SCHEDULE_MAX_EVENT_AGE,
        deadLetterQueue: this.deadLetterQueue,
        role: this.role,
      }),
    });

    this.failedRunQueue = deadLetterQueue(this, 'FailedRunQueue');
    props.fn.configureAsyncInvoke({
      retryAttempts: RUN_RETRY_ATTEMPTS,
      maxEventAge: RUN_MAX_EVENT_AGE,
      onFailure: new SqsDestination(this.failedRunQueue),
    });

    const fnId = stack.getLogicalId(props.fn.node.defaultChild as CfnElement);
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason: 'lambda:InvokeFunction on the versions and aliases (":*") of the one scheduled function, as added by CDK\'s grantInvoke; no other function is covered.',
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the EventBridge Scheduler target; it is watched by a CloudWatch alarm.',
    });
    Validations.of(this.failedRunQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the on-failure destination (a dead-letter queue) of the function\'s asynchronous invocations; it is watched by a CloudWatch alarm.',
    });
  }
}
