/**
 * RejectedEventSink on an SQS queue: the raw event, its reason and its rejection id (also a
 * message attribute), for an operator to inspect and replay. The ingest domain sends each
 * rejection id once (shared/ingest/ingest-event.ts); a consumer may deduplicate on it too.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Rejection } from '../events/validate.ts';
import type { RejectedEventSink } from '../ports.ts';

/** SQS's message size limit; an event larger than this is kept truncated, with a note. */
const MAX_SQS_BYTES = 256 * 1024;

export class SqsRejectedEventSink implements RejectedEventSink {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async reject(raw: string, rejection: Rejection, receivedAt: Date, rejectionId: string): Promise<void> {
    const meta = { rejectionId, code: rejection.code, reason: rejection.reason, detailType: rejection.detailType, source: rejection.source, receivedAt: receivedAt.toISOString() };
    let body = JSON.stringify({ ...meta, event: raw });
    if (Buffer.byteLength(body, 'utf8') > MAX_SQS_BYTES) {
      const room = MAX_SQS_BYTES - Buffer.byteLength(JSON.stringify({ ...meta, truncated: true, event: '' }), 'utf8') - 1024;
      body = JSON.stringify({ ...meta, truncated: true, event: Buffer.from(raw, 'utf8').subarray(0, Math.max(0, room)).toString('utf8') });
    }
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: { code: { DataType: 'String', StringValue: rejection.code }, rejectionId: { DataType: 'String', StringValue: rejectionId } },
      }),
    );
  }
}
