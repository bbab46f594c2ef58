/**
 * A `kind: 'stream'` subscription from shared/wiring.ts: the table stream →
 * function, with the wiring's filter criteria, partial batch responses
 * (ReportBatchItemFailures), bisect on error, bounded retries and record age,
 * and an SQS on-failure destination for records that still fail.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StreamSubscription as StreamSubscriptionSpec } from '../../shared/wiring.ts';
import { deadLetterQueue } from './queues.ts';

export type StreamSubscriptionProps = {
  spec: StreamSubscriptionSpec;
  table: dynamodb.ITable;
  fn: lambda.IFunction;
};

export class StreamSubscription extends Construct {
  /** On-failure destination: metadata of the batches that exhausted their retries or record age. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: StreamSubscriptionProps) {
    super(scope, id);
    const { spec } = props;

    this.deadLetterQueue = deadLetterQueue(this, 'OnFailureQueue');

    props.fn.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: spec.batchSize,
        maxBatchingWindow: spec.maxBatchingWindowSeconds > 0 ? Duration.seconds(spec.maxBatchingWindowSeconds) : undefined,
        filters: spec.filters.map((pattern) => lambda.FilterCriteria.filter(pattern)),
        retryAttempts: spec.retryAttempts,
        maxRecordAge: Duration.seconds(spec.maxRecordAgeSeconds),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.deadLetterQueue),
      }),
    );

    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the on-failure destination (dead-letter queue) of the stream event source mapping; it is watched by a CloudWatch alarm.',
    });
  }
}
