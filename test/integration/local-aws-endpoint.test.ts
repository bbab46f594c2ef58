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
import { FUNCTIONS_CREDENTIALS, LocalBus, MAX_DETAIL_DEPTH } from '../../local/bus.ts';
import { QueueRegistry } from '../../local/queues.ts';
import { SqsRejectedEventSink } from '../../shared/adapters/sqs-rejected-sink.ts';
import { InMemoryConsentLedger, InMemoryPrivacyStore, InMemoryRejectionLedger } from '../../shared/pipeline/in-memory-ports.ts';
import { ingestBatch } from '../../shared/ingest/ingest-event.ts';
import type { CustomerStore } from '../../shared/ports.ts';

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

describe('the producer\'s Detail, end to end through the endpoint', () => {
  /** Nested objects: the Detail object is level 1. */
  const nested = (depth: number) => '{"eventId":"deep","x":'.concat('{"a":'.repeat(depth - 2), '{}', '}'.repeat(depth - 2), '}');

  it('reaches the ingest queue verbatim inside the EventBridge envelope (1e400 stays 1e400), and the rejected-events queue as sent', async () => {
    const detail = '{"eventId":"big-1","customerId":"c-9","occurredAt":"2026-01-01T00:00:00Z","orderId":"o-1","amount":1e400,"currency":"EUR", "note" : 1.10}';
    const out = await events.send(new PutEventsCommand({ Entries: [{ EventBusName: 'ServerlessClm-events', Source: 'com.example.orders', DetailType: 'OrderPlaced', Detail: detail }] }));
    expect(out.FailedEntryCount).toBe(0);

    // The message the ingest handler receives, through SQS.
    const ingestUrl = queues.url('BusinessEventsToIngest');
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: ingestUrl, MaxNumberOfMessages: 10 }));
    const message = received.Messages!.find((m) => m.Body!.includes('"big-1"'))!;
    expect(message.Body!.endsWith(`,"detail":${detail}}`)).toBe(true);
    const parsed = JSON.parse(message.Body!);
    expect(parsed).toMatchObject({ version: '0', id: out.Entries![0]!.EventId, source: 'com.example.orders', 'detail-type': 'OrderPlaced' });
    expect(parsed.detail.amount).toBe(Infinity); // what JSON.parse makes of it; the schema refuses it

    // Ingest rejects it (the amount is not a finite number) and keeps the body it got, through the real SQS adapter.
    queues.ensure('rejected-verbatim');
    const rejectedUrl = queues.url('rejected-verbatim');
    const noStore = { recordEvents: async () => { throw new Error('a rejected event must not be stored'); } } as unknown as CustomerStore;
    const [result] = await ingestBatch([message.Body!], { store: noStore, rejected: new SqsRejectedEventSink(sqs, rejectedUrl), rejections: new InMemoryRejectionLedger(), consent: new InMemoryConsentLedger(), privacy: new InMemoryPrivacyStore(), now: () => new Date('2026-01-02T00:00:00Z') });
    expect(result).toMatchObject({ outcome: 'rejected', rejection: { code: 'invalid-detail', reason: expect.stringMatching(/^OrderPlaced: amount: /) } });
    const kept = await sqs.send(new ReceiveMessageCommand({ QueueUrl: rejectedUrl, MaxNumberOfMessages: 10 }));
    expect(kept.Messages).toHaveLength(1);
    const rejection = JSON.parse(kept.Messages![0]!.Body!);
    expect(rejection.event).toBe(message.Body);
    expect(rejection.event).toContain('"amount":1e400');

    // The queue inspection shows the number as written, too.
    const inspect = await (await fetch(`${server.url}/queues/BusinessEventsToIngest`)).text();
    expect(inspect).toContain('"amount":1e400');
    expect(inspect).toContain('"note":1.10');
  });

  it(`refuses a Detail nested deeper than ${MAX_DETAIL_DEPTH} levels with MalformedDetail, per entry, as EventBridge does`, async () => {
    const ingest = queues.get('BusinessEventsToIngest')!;
    const before = ingest.sentCount;
    const entry = (Detail: string) => ({ EventBusName: 'ServerlessClm-events', Source: 'com.example.deep', DetailType: 'X', Detail });
    const out = await events.send(new PutEventsCommand({ Entries: [entry(nested(MAX_DETAIL_DEPTH)), entry(nested(MAX_DETAIL_DEPTH + 1)), entry(nested(5000))] }));
    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries![0]).toEqual({ EventId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    for (const e of out.Entries!.slice(1)) expect(e).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    expect(ingest.sentCount - before).toBe(1);
  });
});
