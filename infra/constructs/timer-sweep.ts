/**
 * The timer sweep (shared/timers/, docs/triggers.md): a `kind: 'schedule'` subscription from
 * shared/wiring.ts whose target is a function rather than the nightly state machine — an
 * EventBridge Scheduler schedule (a rate expression, `timerSweepSchedule`) that invokes the
 * sweeper with the wiring's input, with retries and a dead-letter queue for invocations
 * Scheduler could not make. A sweep that fails is simply the next sweep's work: the timers
 * stay due in the table until they are marked fired.
 */
import { type CfnElement, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ScheduleSubscription } from '../../shared/wiring.ts';
import { scheduleTargetBase } from './nightly-schedule.ts';

export type TimerSweepProps = {
  spec: ScheduleSubscription;
  /** The sweeper function. */
  fn: lambda.IFunction;
  /** EventBridge Scheduler rate expression, e.g. `rate(5 minutes)`. */
  expression: string;
};

export class TimerSweep extends Construct {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TimerSweepProps) {
    super(scope, id);
    const { spec } = props;
    const base = scheduleTargetBase(this, spec);
    this.deadLetterQueue = base.deadLetterQueue;
    this.role = base.role;
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: spec.description,
      schedule: scheduler.ScheduleExpression.expression(props.expression, TimeZone.ETC_UTC),
      target: new schedulerTargets.LambdaInvoke(props.fn, base.target),
    });
    const fnResource = props.fn.node.defaultChild as CfnElement | undefined;
    if (fnResource) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fnResource)}.Arn>:*]`,
        reason: 'lambda:InvokeFunction on the versions and aliases (":*") of the one sweeper function, as added by CDK\'s Scheduler LambdaInvoke target; no other function is covered.',
      });
    }
  }
}
