/**
 * A CloudWatch dashboard of the pipeline, `${stackName}-pipeline`: events in
 * (stored, duplicate, rejected, rejected again, of erased customers, failed), churn triggers fired, campaign
 * outcomes (sent, control, skipped), the depth and oldest-message age of the
 * work and dead-letter queues, the stream's iterator age, and per function
 * invocations, errors, throttles and failed records.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FAILED_RECORDS_METRIC, powertoolsMetric } from './alarms.ts';
import { INGEST_OUTCOME_METRICS } from '../../functions/commons/metric-names.ts';
import { physicalName } from './names.ts';

export type PipelineDashboardProps = {
  /** The functions by name (their Powertools `service` dimension). */
  functions: Record<string, lambda.IFunction>;
  /** Queues functions consume, by a readable name. */
  workQueues: Record<string, sqs.IQueue>;
  /** Dead-letter and holding queues (rejected events), by a readable name. */
  deadLetterQueues: Record<string, sqs.IQueue>;
  /** Functions reading a stream, by name. */
  streamFunctions: Record<string, lambda.IFunction>;
  /** The ingest, churn-triggers and campaigns function names (Powertools services). */
  services: { ingest: string; triggers: string; campaigns: string };
};

const WIDTH = 12;
const HEIGHT = 6;

export class PipelineDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const { services } = props;
    const sum = (service: string, name: string, label: string) => powertoolsMetric(service, name, { label });
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, ...extra });
    const perQueue = (queues: Record<string, sqs.IQueue>, metric: (q: sqs.IQueue, label: string) => cloudwatch.IMetric) =>
      Object.entries(queues).map(([name, q]) => metric(q, name));
    const fns = Object.entries(props.functions);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: physicalName(this, 'pipeline', 255),
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          graph('Events in (ingest)', [
            sum(services.ingest, INGEST_OUTCOME_METRICS.stored, 'stored'),
            sum(services.ingest, INGEST_OUTCOME_METRICS.duplicate, 'duplicate'),
            sum(services.ingest, INGEST_OUTCOME_METRICS.rejected, 'rejected (to the rejected-events queue)'),
            sum(services.ingest, INGEST_OUTCOME_METRICS.rejectedBefore, 'rejected again (a redelivery; queued once)'),
            sum(services.ingest, INGEST_OUTCOME_METRICS.erased, 'of erased customers (not stored)'),
            sum(services.ingest, INGEST_OUTCOME_METRICS.failed, 'failed (retried)'),
          ]),
          graph('Churn triggers and campaign emails', [
            sum(services.triggers, 'ChurnTriggersFired', 'triggers fired'),
            sum(services.campaigns, 'Campaign_sent', 'emails sent'),
            sum(services.campaigns, 'Campaign_control', 'held out (control group)'),
            sum(services.campaigns, 'Campaign_skipped', 'skipped (reason in the logs)'),
          ]),
        ],
        [
          graph('Work queues: messages waiting', perQueue(props.workQueues, (q, label) =>
            q.metricApproximateNumberOfMessagesVisible({ label, statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }))),
          graph('Work queues: oldest message age (s)', perQueue(props.workQueues, (q, label) =>
            q.metricApproximateAgeOfOldestMessage({ label, statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }))),
        ],
        [
          graph('Dead-letter and rejected-events queues: messages', perQueue(props.deadLetterQueues, (q, label) =>
            q.metricApproximateNumberOfMessagesVisible({ label, statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }))),
          graph('Stream iterator age (ms)', Object.entries(props.streamFunctions).map(([name, fn]) =>
            fn.metric('IteratorAge', { label: name, statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }))),
        ],
        [
          graph('Function errors and throttles', fns.flatMap(([name, fn]) => [
            fn.metricErrors({ label: `${name} errors`, period: Duration.minutes(5) }),
            fn.metricThrottles({ label: `${name} throttles`, period: Duration.minutes(5) }),
          ])),
          graph('Failed records (reported for retry)', fns.map(([name]) => sum(name, FAILED_RECORDS_METRIC, name)), {
            right: fns.map(([name, fn]) => fn.metricInvocations({ label: `${name} invocations`, period: Duration.minutes(5) })),
          }),
        ],
      ],
    });
  }
}
