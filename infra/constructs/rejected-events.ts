/**
 * Where the ingest function puts events that fail validation, with the
 * reason, so producers' mistakes are kept (14 days) and visible (alarm)
 * instead of silently dropped.
 */
import { Validations } from 'aws-cdk-lib';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './queues.ts';

export class RejectedEvents extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.queue = deadLetterQueue(this, 'Queue');
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'The rejected-events queue is a terminal holding queue (a dead-letter queue in all but name) for events that failed validation; nothing consumes it automatically, it is watched by a CloudWatch alarm.',
    });
  }
}
