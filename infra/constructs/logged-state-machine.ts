/**
 * What the stack's state machines (the nightly run, the backfill) have in common: a log group
 * that keeps every state's log line for three months, without the execution data (the states
 * carry customer ids); X-Ray tracing; a timeout; the cdk-nag acknowledgements of the grants CDK
 * adds for invoking one function and for log delivery and X-Ray; and the metric of executions
 * that failed, timed out or were aborted, for an alarm.
 */
import { type CfnElement, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

export type LoggedStateMachineProps = {
  comment: string;
  definition: sfn.IChainable;
  timeout: Duration;
  /** Of the log group. */
  removalPolicy: RemovalPolicy;
  /** The one function the tasks invoke, and what it is (for the nag acknowledgement's reason). */
  fn: lambda.IFunction;
  fnDescription: string;
};

/** Creates `Logs` and `StateMachine` in `scope` (the ids every state machine construct of the stack uses). */
export function loggedStateMachine(scope: Construct, props: LoggedStateMachineProps): { stateMachine: sfn.StateMachine; logGroup: logs.LogGroup } {
  const logGroup = new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: props.removalPolicy });
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    comment: props.comment,
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    timeout: props.timeout,
    tracingEnabled: true,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
  });
  const fnResource = props.fn.node.defaultChild as CfnElement | undefined;
  if (fnResource) {
    Validations.of(stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(fnResource)}.Arn>:*]`,
      reason: `lambda:InvokeFunction on the versions and aliases (":*") of the one ${props.fnDescription}, as added by CDK's grantInvoke; no other function is covered.`,
    });
  }
  Validations.of(stateMachine.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Step Functions log delivery (logs:CreateLogDelivery, logs:*LogDelivery*, logs:PutResourcePolicy, logs:DescribeResourcePolicies, logs:DescribeLogGroups) and X-Ray (xray:PutTraceSegments, xray:PutTelemetryRecords, xray:GetSampling*) do not support resource-level permissions.',
  });
  return { stateMachine, logGroup };
}

/** Executions of `stateMachine` that failed, timed out or were aborted, summed over 5 minutes. */
export function failedExecutions(stateMachine: sfn.IStateMachine, label: string): cloudwatch.IMetric {
  const period = Duration.minutes(5);
  return new cloudwatch.MathExpression({
    expression: 'failed + timedOut + aborted',
    usingMetrics: {
      failed: stateMachine.metricFailed({ period, statistic: cloudwatch.Stats.SUM }),
      timedOut: stateMachine.metricTimedOut({ period, statistic: cloudwatch.Stats.SUM }),
      aborted: stateMachine.metricAborted({ period, statistic: cloudwatch.Stats.SUM }),
    },
    label,
    period,
  });
}
