/**
 * Operational alarms, all to one SNS topic (with the alarm e-mail subscribed
 * when configured), each named after the stack (`${stackName}-<what>`):
 * messages arriving in (or waiting in) a dead-letter queue, rejected events,
 * function errors and throttles, records a function failed (it reports them as
 * partial batch failures, so the invocation itself succeeds), work piling up
 * (oldest message age, stream iterator age), DynamoDB throttles and system
 * errors, and SES bounce and complaint rates nearing the rates at which AWS
 * puts the account under review.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CIRCUIT_BREAKER_PAUSED_METRIC, FAILED_RECORDS_METRIC, TIMERS_GIVEN_UP_METRIC, pageLinkRefusedMetric } from '../../functions/commons/metric-names.ts';
import { POWERTOOLS_METRICS_NAMESPACE } from './clm-function.ts';
import { failedExecutions } from './logged-state-machine.ts';
import { physicalName } from './names.ts';

/** How messages get into a watched queue: sent with SendMessage, or moved there by a redrive policy. */
export type QueueFill = 'send' | 'redrive';

/** The metric the handlers emit (Powertools) for each record they report as a batch item failure. */
export { FAILED_RECORDS_METRIC };

/**
 * SES puts an account under review at a bounce rate of 5% and a complaint
 * rate of 0.1%; the alarms fire above 80% of those (4%, 0.08%), while there is
 * time to act.
 */
export const SES_BOUNCE_RATE_ALARM = 0.04;
export const SES_COMPLAINT_RATE_ALARM = 0.0008;

/** Links signed with an unknown key refused by the pages in 5 minutes above which the alarm fires (a few are someone trying made-up links). */
export const PAGE_LINKS_UNKNOWN_KEY_ALARM = 10;

/** A stream's iterator age alarm fires at this share of the maximum record age (older records are skipped). */
export const ITERATOR_AGE_ALARM_SHARE = 0.5;

const FIVE_MINUTES = Duration.minutes(5);

/** A Powertools metric of one function (Powertools adds the `service` dimension, the function's name). */
export const powertoolsMetric = (service: string, metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: POWERTOOLS_METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service },
    period: FIVE_MINUTES,
    statistic: cloudwatch.Stats.SUM,
    ...props,
  });

export type AlarmsProps = {
  alarmEmail?: string;
};

type AlarmOptions = {
  description: string;
  metric: cloudwatch.IMetric;
  threshold?: number;
  /** Default: above the threshold, in one period, missing data not breaching. */
  comparisonOperator?: cloudwatch.ComparisonOperator;
  evaluationPeriods?: number;
  treatMissingData?: cloudwatch.TreatMissingData;
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
   *   dead-letter queues, Lambda's on-failure destinations, the ingest function
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
      return this.add(`${id}Arrivals`, {
        description: `${what}: new messages arrived in ${id}. Inspect them, fix the cause, then redrive, re-put or purge them.`,
        metric: queue.metricNumberOfMessagesSent({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      });
    }
    return this.add(`${id}Depth`, {
      description: `${what}: messages are waiting in ${id}. Inspect them, fix the cause, then redrive or purge; the alarm stays on until the queue is empty.`,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
    });
  }

  /** Alarm when the oldest message of a work queue (one a function consumes) is older than `maxAge`: the function falls behind. */
  watchWorkQueue(id: string, queue: sqs.IQueue, maxAge: Duration): cloudwatch.Alarm {
    return this.add(`${id}OldestMessageAge`, {
      description: `${id}: the oldest message has waited more than ${maxAge.toHumanString()}. The function is throttled, failing or too slow for the traffic; see its errors, throttles and the dashboard.`,
      metric: queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: maxAge.toSeconds(),
    });
  }

  /** Alarms on a function's errors (uncaught exception, timeout, out of memory) and throttles. */
  watchFunction(id: string, fn: lambda.IFunction): cloudwatch.Alarm[] {
    return [
      this.add(`${id}Errors`, {
        description: `The ${id} function reported errors. See its log group and X-Ray traces.`,
        metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      }),
      this.add(`${id}Throttles`, {
        description: `Invocations of the ${id} function were throttled (account or reserved concurrency exhausted). Work waits in its queue or stream; raise the concurrency quota or lower other functions' use.`,
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      }),
    ];
  }

  /**
   * Alarm on the records a batch function failed and reported as batch item
   * failures (the `FailedRecords` metric its handler emits): the invocation
   * succeeds, so `Errors` does not count them.
   */
  watchFailedRecords(id: string, service: string): cloudwatch.Alarm {
    return this.add(`${id}FailedRecords`, {
      description: `The ${id} function failed records (reported for retry). Its log group has one "record failed" line per record with the error.`,
      metric: powertoolsMetric(service, FAILED_RECORDS_METRIC),
    });
  }

  /** Alarm when the timer sweep gives up on a timer (its handler kept failing): the timer item keeps `lastError` and `gaveUpAt`. */
  watchTimersGivenUp(id: string, service: string): cloudwatch.Alarm {
    return this.add(`${id}TimersGivenUp`, {
      description: `The ${id} function gave up on a durable timer after its attempts. The timer item (TIMER#…) keeps the error in lastError; its log group has a "timer failed" line per attempt (docs/triggers.md).`,
      metric: powertoolsMetric(service, TIMERS_GIVEN_UP_METRIC),
    });
  }

  /** Alarm when a stream function's iterator age nears the maximum record age, after which records are skipped to the on-failure queue. */
  watchIteratorAge(id: string, fn: lambda.IFunction, maxRecordAge: Duration): cloudwatch.Alarm {
    const threshold = maxRecordAge.toMilliseconds() * ITERATOR_AGE_ALARM_SHARE;
    return this.add(`${id}IteratorAge`, {
      description: `The ${id} function is reading stream records older than ${Duration.millis(threshold).toHumanString()}; at ${maxRecordAge.toHumanString()} they are skipped (their batch goes to the on-failure queue).`,
      metric: fn.metric('IteratorAge', { period: FIVE_MINUTES, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold,
    });
  }

  /** Alarms on the table's throttled requests and system errors, over the operations the functions call. */
  watchTable(table: dynamodb.ITable, operations: dynamodb.Operation[]): cloudwatch.Alarm[] {
    return [
      this.add('TableThrottles', {
        description: 'DynamoDB throttled requests to the table (on-demand limits or a hot partition). The functions retry; look for the hot key or ask for higher limits.',
        metric: table.metricThrottledRequestsForOperations({ operations, period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      }),
      this.add('TableSystemErrors', {
        description: 'DynamoDB answered requests to the table with system errors (HTTP 500). The SDK retries; check the AWS Health dashboard if it persists.',
        metric: table.metricSystemErrorsForOperations({ operations, period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      }),
    ];
  }

  /** Alarms on the account's SES bounce and complaint rates (reputation metrics) nearing the review thresholds. */
  watchSesReputation(): cloudwatch.Alarm[] {
    const rate = (metricName: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/SES', metricName, period: Duration.minutes(15), statistic: cloudwatch.Stats.MAXIMUM });
    return [
      this.add('SesBounceRate', {
        description: 'The SES bounce rate of the account is above 4%; SES reviews the account at 5%. Check the addresses campaigns send to (stale or bought lists).',
        metric: rate('Reputation.BounceRate'),
        threshold: SES_BOUNCE_RATE_ALARM,
      }),
      this.add('SesComplaintRate', {
        description: 'The SES complaint rate of the account is above 0.08%; SES reviews the account at 0.1%. Check consent, frequency caps and the unsubscribe link.',
        metric: rate('Reputation.ComplaintRate'),
        threshold: SES_COMPLAINT_RATE_ALARM,
      }),
    ];
  }

  /**
   * Alarm when the deliverability circuit breaker pauses marketing (the `CircuitBreakerPaused` metric
   * the sending function emits for each paused send): the stack's own bounce or complaint rate over
   * the breaker's window nears SES's review thresholds. Transactional mail keeps flowing.
   */
  watchCircuitBreaker(id: string, service: string): cloudwatch.Alarm {
    return this.add(`${id}CircuitBreakerOpen`, {
      description: `The deliverability circuit breaker paused marketing email of the ${id} function: the bounce or complaint rate of the emails SES accepted over the breaker's window nears SES's review thresholds (docs/campaigns.md). Paused sends are deferred and go when the rate recovers; find the list or campaign that bounces or draws complaints.`,
      metric: powertoolsMetric(service, CIRCUIT_BREAKER_PAUSED_METRIC),
    });
  }

  /**
   * Alarm when the public pages refuse more than `threshold` links signed with a key they no longer hold
   * in 5 minutes: a signing key removed from the ring (or a rotation without `previous`) while links it
   * signed are still in mailboxes, so customers' unsubscribe links stop working. A few such refusals are
   * someone trying made-up links; many mean the key ring lost a key.
   */
  watchPageLinks(id: string, service: string, threshold: number): cloudwatch.Alarm {
    return this.add(`${id}LinksWithUnknownKey`, {
      description: `The ${id} function refused more than ${threshold} links in 5 minutes because they were signed with a key it no longer holds: customers' unsubscribe and help links are failing. Put the retired key back in the page signing keys secret's "previous" with an acceptUntil after its links expire (docs/pages.md, Rotating the signing key); if the key leaked, this is expected.`,
      metric: powertoolsMetric(service, pageLinkRefusedMetric('unknown-key')),
      threshold,
    });
  }

  /**
   * Alarms on the nightly run: a run that failed, timed out or was aborted; and a stale run —
   * no successful run in `staleHours` (every hourly period without a success, missing data
   * counting as none, so the alarm also fires when nothing runs at all).
   */
  watchNightlyRun(id: string, run: { stateMachine: sfn.IStateMachine; metricFailedRuns: () => cloudwatch.IMetric }, staleHours: number): cloudwatch.Alarm[] {
    return [
      this.add(`${id}Failed`, {
        description: `A ${id} execution failed, timed out or was aborted. See its execution history and the nightly-rescore log group; a rerun of the night (same run id) resumes it.`,
        metric: run.metricFailedRuns(),
      }),
      this.add(`${id}Stale`, {
        description: `No ${id} execution succeeded in ${staleHours} hours: scores, tiers and the outreach plan are getting old. Check the schedule and the failed executions.`,
        metric: run.stateMachine.metricSucceeded({ period: Duration.hours(1), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: staleHours,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    ];
  }

  /** A backfill execution (one file) that failed, timed out or was aborted. */
  watchBackfill(id: string, stateMachine: sfn.IStateMachine): cloudwatch.Alarm {
    return this.add(`${id}Failed`, {
      description: `A ${id} execution (one uploaded file) failed, timed out or was aborted: more of its batches failed than tolerated, or the file could not be read. See its execution history, the Map Run's results in the bucket and the backfill log group; uploading the file again reruns it and stores nothing twice.`,
      metric: failedExecutions(stateMachine, 'Failed, timed-out or aborted backfill executions'),
    });
  }

  private add(id: string, options: AlarmOptions): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: physicalName(this, id, 255),
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold ?? 0,
      comparisonOperator: options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      treatMissingData: options.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }
}
