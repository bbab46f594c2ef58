/**
 * A `kind: 'schedule'` subscription from shared/wiring.ts: an EventBridge
 * Scheduler schedule that starts the nightly run's state machine
 * (nightly-run.ts) with the cron expression and time zone from the settings,
 * retries, and a dead-letter queue for starts Scheduler could not make. What
 * happens to a run that fails inside is the state machine's (retries, failed
 * segments, alarms).
 */
import { Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ScheduleSubscription } from '../../shared/wiring.ts';
import { deadLetterQueue } from './queues.ts';

export const SCHEDULE_RETRY_ATTEMPTS = 3;
export const SCHEDULE_MAX_EVENT_AGE = Duration.hours(2);

export type NightlyScheduleProps = {
  spec: ScheduleSubscription;
  /** The nightly run's state machine, started with the schedule's input. */
  stateMachine: sfn.IStateMachine;
  /** EventBridge Scheduler expression, e.g. `cron(0 2 * * ? *)`. */
  expression: string;
  /** IANA time zone the expression is evaluated in. */
  timeZone: string;
};

export class NightlySchedule extends Construct {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: NightlyScheduleProps) {
    super(scope, id);
    const { spec } = props;

    const base = scheduleTargetBase(this, spec);
    this.deadLetterQueue = base.deadLetterQueue;
    this.role = base.role;
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: spec.description,
      schedule: scheduler.ScheduleExpression.expression(props.expression, TimeZone.of(props.timeZone)),
      target: new schedulerTargets.StepFunctionsStartExecution(props.stateMachine, base.target),
    });
  }
}

/**
 * What every schedule of the stack has: its own dead-letter queue, its own role (rather than
 * CDK's shared one) assumable by EventBridge Scheduler for schedules of this account's default
 * group only, and the target settings — the wiring's input (`spec.input`, shared with the local
 * stack; Scheduler fills in the scheduled time), retries and the dead-letter queue.
 */
export function scheduleTargetBase(scope: Construct, spec: ScheduleSubscription) {
  const queue = deadLetterQueue(scope, 'DeadLetterQueue');
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'Role', {
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
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is the dead-letter queue of the EventBridge Scheduler target; it is watched by a CloudWatch alarm.',
  });
  return {
    deadLetterQueue: queue,
    role,
    target: {
      input: scheduler.ScheduleTargetInput.fromObject(spec.input(scheduler.ContextAttribute.scheduledTime)),
      retryAttempts: SCHEDULE_RETRY_ATTEMPTS,
      maxEventAge: SCHEDULE_MAX_EVENT_AGE,
      deadLetterQueue: queue,
      role,
    },
  };
}
