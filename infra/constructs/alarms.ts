/**
 * Operational alarms, all to one SNS topic (with the alarm e-mail subscribed
 * when configured): a message arriving in (or waiting in) any dead-letter
 * queue, a rejected event, a function error.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** How messages get into a watched queue: sent with SendMessage, or moved there by a redrive policy. */
export type QueueFill = 'send' | 'redrive';

export type AlarmsProps = {
  alarmEmail?: string;
};

export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'serverless-clm alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    this.action = new actions.SnsAction(this.topic);

    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'The topic only carries CloudWatch alarm state changes (alarm name, metric, threshold), no customer data; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key and a customer managed KMS key would add cost for no protected data. Publishing is TLS-only (enforceSSL).',
    });
  }

  /**
   * Alarm on a message arriving in a queue nobody consumes (a dead-letter or
   * the rejected-events queue). The metric depends on how messages get there:
   *
   * - `send`: the queue is filled with SendMessage (EventBridge and Scheduler
   *   dead-letter queues, Lambda's on-failure destination, the ingest function
   *   for rejected events). Alarm on `NumberOfMessagesSent` (Sum over 5 min > 0):
   *   it fires for each new arrival and returns to OK after it. Queue depth
   *   would stay above 0 for the 14 days the messages are kept, so the alarm
   *   would fire once and then stay in ALARM, silent for every later arrival.
   * - `redrive`: the queue is the target of another queue's redrive policy.
   *   SQS does not count messages moved by a redrive policy in the dead-letter
   *   queue's `NumberOfMessagesSent` (only ones sent to it directly), so an
   *   alarm on it would never fire. Alarm on depth
   *   (`ApproximateNumberOfMessagesVisible` > 0) instead: it stays in ALARM
   *   until the messages are redriven or purged, which is the action it asks for.
   */
  watchQueue(id: string, queue: sqs.IQueue, what: string, filledBy: QueueFill): cloudwatch.Alarm {
    if (filledBy === 'send') {
      return this.add(
        new cloudwatch.Alarm(this, `${id}Arrivals`, {
          alarmDescription: `${what}: new messages arrived in ${id}. Inspect them, fix the cause, then redrive, re-put or purge them.`,
          metric: queue.metricNumberOfMessagesSent({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    return this.add(
      new cloudwatch.Alarm(this, `${id}Depth`, {
        alarmDescription: `${what}: messages are waiting in ${id}. Inspect them, fix the cause, then redrive or purge; the alarm stays on until the queue is empty.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /** Alarm on any function error (uncaught exception, timeout, out of memory). */
  watchFunction(id: string, fn: lambda.IFunction): cloudwatch.Alarm {
    return this.add(
      new cloudwatch.Alarm(this, `${id}Errors`, {
        alarmDescription: `The ${id} function reported errors. See its log group and X-Ray traces.`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  private add(alarm: cloudwatch.Alarm): cloudwatch.Alarm {
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }
}
