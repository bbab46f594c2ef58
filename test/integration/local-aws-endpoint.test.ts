/**
 * The local bus endpoint, exercised with the real AWS SDK clients: EventBridge
 * PutEvents (AWS JSON 1.1) and the SQS calls the handlers make (AWS JSON 1.0).
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsJsonServer, type AwsJsonServer } from '../../local/aws-json-server.ts';
import { FUNCTIONS_CREDENTIALS, LocalBus } from '../../local/bus.ts';
import { QueueRegistry } from '../../local/queues.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'eu-west-1';
let server: AwsJsonServer;
let bus: LocalBus;
let queues: QueueRegistry;
let events: EventBridgeClient;
let sqs: SQSClient;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'clm-endpoint-'));
  queues = new QueueRegistry({ region, persistDir: dir });
  queues.ensure('rejected-events', { persist: true });
  bus = new LocalBus({ name: 'ServerlessClm-events', region, queueFor: (s) => queues.ensure(s.id) });
  server = await startAwsJsonServer({ bus, queues });
  events = new EventBridgeClient({ endpoint: server.url, region, credentials });
  sqs = new SQSClient({ endpoint: server.url, region, credentials });
});
afterAll(async () => {
  events?.destroy();
  sqs?.destroy();
  await server?.close();
});

describe('EventBridge PutEvents through the AWS SDK', () => {
  it('returns per-entry results for a mix of good and bad entries', async () => {
    const detail = JSON.stringify({ eventId: 'e1', customerId: 'c1', occurredAt: '2026-01-01T00:00:00Z', callId: 'k', reason: 'billing' });
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: detail, Time: new Date('2026-01-01T00:00:00Z'), EventBusName: 'ServerlessClm-events' },
          { Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: '{not json' },
          { Source: 'com.example.support', DetailType: 'SupportCallLogged' },
          { Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: detail, EventBusName: 'nope' },
          { Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: detail, EventBusName: 'ServerlessClm-events' },
          { Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: detail, EventBusName: bus.arn },
          { Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: detail, EventBusName: 'clm-local-bus' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['ok', 'MalformedDetail', 'InvalidArgument', 'ResourceNotFoundException', 'ok', 'ok', 'ResourceNotFoundException']);
    expect(out.Entries?.[0].EventId).toMatch(/^[0-9a-f-]{36}$/);
    const msgs = queues.get('BusinessEventsToIngest')!.receive(10);
    expect(msgs).toHaveLength(3);
    expect(JSON.parse(msgs[0].body).time).toBe('2026-01-01T00:00:00Z');
  });

  it('publishes the docs/events.md example unchanged (EventBusName ServerlessClm-events)', async () => {
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'ServerlessClm-events',
            Source: 'com.example.support',
            DetailType: 'SupportCallLogged',
            Detail: '{"eventId":"call-81723-logged","customerId":"C-1001","occurredAt":"2026-11-20T09:14:00+01:00","callId":"81723","reason":"billing"}',
          },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
    const msgs = queues.get('BusinessEventsToIngest')!.receive(10);
    expect(msgs.map((m) => JSON.parse(m.body).detail.eventId)).toEqual(['call-81723-logged']);
  });

  it('accepts entries without EventBusName for the default bus, as AWS does, and routes them nowhere', async () => {
    const before = bus.stats.toDefaultBus;
    const detail = JSON.stringify({ eventId: 'e-default', customerId: 'c1', occurredAt: '2026-01-01T00:00:00Z', callId: 'k', reason: 'billing' });
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: detail },
          { Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: detail, EventBusName: 'default' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
    for (const e of out.Entries ?? []) expect(e.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(bus.stats.toDefaultBus - before).toBe(2);
    expect(queues.get('BusinessEventsToIngest')!.visibleCount).toBe(0);
  });

  it('turns request-level errors into SDK exceptions with the AWS error name and HTTP 400', async () => {
    const eleven = Array.from({ length: 11 }, () => ({ Source: 's', DetailType: 'd', Detail: '{}' }));
    const err = await events.send(new PutEventsCommand({ Entries: eleven })).catch((e) => e);
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata.httpStatusCode).toBe(400);
    const big = await events
      .send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: JSON.stringify({ x: 'y'.repeat(300_000) }) }] }))
      .catch((e) => e);
    expect(big.name).toBe('ValidationException');
    expect(big.message).toContain('over the limit');
  });

  it('refuses clm.* sources from any key id but the functions\' with AccessDeniedException (the bus policy\'s explicit deny)', async () => {
    const trigger = { EventBusName: 'ServerlessClm-events', Source: 'clm.triggers', DetailType: 'ChurnTriggerFired', Detail: '{"triggerId":"t-x","customerId":"c1"}' };
    const campaigns = queues.get('ChurnTriggersToCampaigns')!;
    const before = { visible: campaigns.visibleCount, sent: campaigns.sentCount, denied: bus.stats.accessDenied };
    const err = await events.send(new PutEventsCommand({ Entries: [trigger] })).catch((e) => e);
    expect(err.name).toBe('AccessDeniedException');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toBe(
      `User: arn:aws:iam::000000000000:user/local is not authorized to perform: events:PutEvents on resource: ${bus.arn} with an explicit deny in a resource-based policy`,
    );
    // Unsigned (raw JSON, no Authorization header): refused too.
    const raw = await fetch(`${server.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: JSON.stringify({ Entries: [trigger] }),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ __type: 'AccessDeniedException', message: expect.stringMatching(/^User: anonymous is not authorized .* explicit deny in a resource-based policy$/) });
    expect(campaigns.sentCount).toBe(before.sent);
    expect(bus.stats.accessDenied - before.denied).toBe(2);

    // Signed with the functions' key id (as the in-process handlers are): accepted and routed.
    const fn = new EventBridgeClient({ endpoint: server.url, region, credentials: FUNCTIONS_CREDENTIALS });
    const ok = await fn.send(new PutEventsCommand({ Entries: [trigger] }));
    fn.destroy();
    expect(ok.FailedEntryCount).toBe(0);
    expect(campaigns.visibleCount).toBe(before.visible + 1);
    expect(JSON.parse(campaigns.receive(1)[0].body)).toMatchObject({ source: 'clm.triggers', 'detail-type': 'ChurnTriggerFired', detail: { triggerId: 't-x' } });
  });

  it('answers raw AWS JSON 1.1 requests like the CLI sends them', async () => {
    const res = await fetch(`${server.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: JSON.stringify({ Entries: [{ Source: 'cli', DetailType: 'X', Detail: '{}' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await res.json()).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
    const bad = await fetch(`${server.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: '{"Entries": [',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { __type: string }).__type).toBe('SerializationException');
  });
});

describe('SQS through the AWS SDK', () => {
  it('SendMessage to rejected-events (as ingest does), then inspect it', async () => {
    const QueueUrl = queues.url('rejected-events');
    const out = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ code: 'invalid-detail', reason: 'x: required' }) }));
    expect(out.MessageId).toBeTruthy(); // the SDK also verified MD5OfMessageBody
    const batch = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'a', MessageBody: '{"code":"not-json"}' }, { Id: 'b', MessageBody: '' }] }),
    );
    expect(batch.Successful?.map((s) => s.Id)).toEqual(['a']);
    expect(batch.Failed?.[0]).toMatchObject({ Id: 'b', SenderFault: true, Code: 'InvalidParameterValue' });

    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe('2');
    const { QueueUrl: found } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'rejected-events' }));
    expect(found).toBe(QueueUrl);

    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages).toHaveLength(2);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: received.Messages![0].ReceiptHandle }));

    const lines = readFileSync(path.join(dir, 'rejected-events.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(JSON.parse(lines[0]).body)).toMatchObject({ code: 'invalid-detail' });

    const inspect = (await (await fetch(`${server.url}/queues/rejected-events`)).json()) as { messages: { body: unknown }[] };
    expect(inspect.messages).toHaveLength(2);
    expect(inspect.messages[0].body).toMatchObject({ code: 'invalid-detail' });
  });

  it('reports unknown queues as QueueDoesNotExist', async () => {
    const err = await sqs
      .send(new SendMessageCommand({ QueueUrl: `${server.url}/000000000000/nope`, MessageBody: 'x' }))
      .catch((e) => e);
    expect(err.name).toMatch(/QueueDoesNotExist|NonExistentQueue/);
  });
});
