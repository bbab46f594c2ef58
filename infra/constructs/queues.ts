/** The stack's SQS defaults: every queue SQS-managed encrypted and TLS-only; dead-letter queues keep messages 14 days. */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export const DLQ_RETENTION = Duration.days(14);

export function encryptedQueue(scope: Construct, id: string, props: sqs.QueueProps = {}): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    ...props,
  });
}

/** A dead-letter queue: a place failed messages wait (14 days) to be inspected and redriven. */
export function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  return encryptedQueue(scope, id, { retentionPeriod: DLQ_RETENTION });
}
