/**
 * A `kind: 'rule'` subscription from shared/wiring.ts: bus rule → SQS queue
 * (with its own dead-letter queue after `maxReceiveCount` receives) → function
 * through an SQS event source with partial batch responses
 * (ReportBatchItemFailures) and, when the wiring sets it, a maximum concurrency. EventBridge delivery to the queue is retried and
 * what still fails lands in a delivery dead-letter queue.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RuleSubscription as RuleSubscriptionSpec } from '../../shared/wiring.ts';
import { deadLetterQueue, encryptedQueue } from './queues.ts';

/** EventBridge retries delivery to the queue this often / this long before the delivery DLQ. */
export const RULE_TARGET_RETRY_ATTEMPTS = 185;
export const RULE_TARGET_MAX_EVENT_AGE = Duration.hours(24);

export type RuleSubscriptionProps = {
  spec: RuleSubscriptionSpec;
  bus: events.IEventBus;
  fn: lambda.IFunction;
  functionTimeoutSeconds: number;
};

export class RuleSubscription extends Construct {
  readonly rule: events.Rule;
  readonly queue: sqs.Queue;
  /** Messages the function failed `maxReceiveCount` times. */
  readonly deadLetterQueue: sqs.Queue;
  /** Events EventBridge could not deliver to the queue. */
  readonly deliveryDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RuleSubscriptionProps) {
    super(scope, id);
    const { spec } = props;

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue');
    this.queue = encryptedQueue(this, 'Queue', {
      // AWS guidance: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(Math.max(30, 6 * props.functionTimeoutSeconds)),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: spec.maxReceiveCount },
    });
    this.deliveryDeadLetterQueue = deadLetterQueue(this, 'DeliveryDeadLetterQueue');

    this.rule = new events.Rule(this, 'Rule', {
      eventBus: props.bus,
      description: spec.description,
      // Wiring patterns use EventBridge's own JSON keys ("detail-type"), which CDK passes through.
      eventPattern: spec.pattern as events.EventPattern,
      targets: [
        new targets.SqsQueue(this.queue, {
          deadLetterQueue: this.deliveryDeadLetterQueue,
          retryAttempts: RULE_TARGET_RETRY_ATTEMPTS,
          maxEventAge: RULE_TARGET_MAX_EVENT_AGE,
        }),
      ],
    });

    if (spec.maxConcurrency !== undefined && (!Number.isInteger(spec.maxConcurrency) || spec.maxConcurrency < 2 || spec.maxConcurrency > 1000)) {
      throw new Error(`Subscription ${spec.id}: maxConcurrency must be a whole number from 2 to 1000 (the SQS event source's limits), got ${spec.maxConcurrency}`);
    }
    props.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: spec.batchSize,
        maxBatchingWindow: spec.maxBatchingWindowSeconds > 0 ? Duration.seconds(spec.maxBatchingWindowSeconds) : undefined,
        reportBatchItemFailures: true,
        // Bounds the invocations the event source runs at once (the rest wait in the queue).
        maxConcurrency: spec.maxConcurrency,
      }),
    );

    for (const q of [this.deadLetterQueue, this.deliveryDeadLetterQueue]) {
      Validations.of(q).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself a dead-letter queue (of the subscription queue or of the EventBridge rule target); it is watched by a CloudWatch alarm.',
      });
    }
  }
}
