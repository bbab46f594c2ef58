/**
 * The composed local stack with small test handlers (so delivery semantics are
 * tested apart from the real handlers): the env endpoints the SDK clients pick
 * up, bus → SQS-shaped batches with partial failures, redelivery and DLQ, the
 * table stream → filtered batches, PutEvents back onto the bus, SES, and the
 * idle wait.
 */
import { PutItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS_CREDENTIALS } from '../../local/bus.ts';
import type { Handler } from '../../local/invoke.ts';
import { startLocalStack, type LocalStack } from '../../local/local-stack.ts';
import { subscriptions } from '../../shared/wiring.ts';

type SqsRecord = { messageId: string; body: string; attributes: { ApproximateReceiveCount: string }; eventSource: string; eventSourceARN: string };
type StreamRecord = { eventName: string; dynamodb: { NewImage?: Record<string, { S?: string }>; SequenceNumber: string } };

let stack: LocalStack;
let stateDir: string;
const seen = { ingest: [] as SqsRecord[], stream: [] as StreamRecord[], campaigns: [] as SqsRecord[], ingestInvocations: 0, scheduled: [] as unknown[] };
let thrownOnce = false;

const ingest: Handler = async (event) => {
  seen.ingestInvocations++;
  const records = (event as { Records: SqsRecord[] }).Records;
  seen.ingest.push(...records);
  // Clients built from the environment only, as the real handlers do.
  const ddb = new DynamoDBClient({});
  const failures: { itemIdentifier: string }[] = [];
  try {
    if (!thrownOnce && records.some((r) => JSON.parse(r.body).detail.mode === 'throw-once')) {
      thrownOnce = true;
      throw new Error('whole batch fails');
    }
    for (const r of records) {
      const e = JSON.parse(r.body);
      const mode = e.detail.mode;
      if (mode === 'always-fail' || (mode === 'fail-once' && r.attributes.ApproximateReceiveCount === '1')) {
        failures.push({ itemIdentifier: r.messageId });
        continue;
      }
      await ddb.send(
        new PutItemCommand({
          TableName: process.env.CLM_TABLE_NAME,
          Item: { pk: { S: `CUST#${e.detail.customerId}` }, sk: { S: `EVT#${e.detail.eventId}` }, type: { S: e['detail-type'] } },
        }),
      );
    }
  } finally {
    ddb.destroy();
  }
  return { batchItemFailures: failures };
};

const churnTriggers: Handler = async (event) => {
  const records = (event as { Records: StreamRecord[] }).Records;
  seen.stream.push(...records);
  const bus = new EventBridgeClient({});
  try {
    for (const r of records) {
      const img = r.dynamodb.NewImage!;
      if (img.type.S !== 'SupportCallLogged') continue;
      const customerId = img.pk.S!.slice(5);
      const out = await bus.send(
        new PutEventsCommand({
          Entries: [{ Source: 'clm.triggers', DetailType: 'ChurnTriggerFired', EventBusName: process.env.CLM_BUS_NAME, Detail: JSON.stringify({ triggerId: `t-${customerId}`, customerId }) }],
        }),
      );
      if (out.FailedEntryCount) throw new Error(JSON.stringify(out.Entries));
    }
  } finally {
    bus.destroy();
  }
};

const campaigns: Handler = async (event) => {
  const records = (event as { Records: SqsRecord[] }).Records;
  seen.campaigns.push(...records);
  const ses = new SESv2Client({});
  try {
    for (const r of records) {
      const d = JSON.parse(r.body).detail;
      await ses.send(
        new SendEmailCommand({
          FromEmailAddress: 'hello@example.com',
          Destination: { ToAddresses: [`${d.customerId.toLowerCase()}@example.com`] },
          Content: { Simple: { Subject: { Data: 'We are sorry' }, Body: { Text: { Data: 'Let us fix your bill.' } } } },
        }),
      );
    }
  } finally {
    ses.destroy();
  }
};

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'clm-stack-'));
  stack = await startLocalStack({
    stateDir,
    handlers: { ingest, 'churn-triggers': churnTriggers, campaigns, 'nightly-rescore': async (e) => void seen.scheduled.push(e), 'timer-sweep': async (e) => void seen.scheduled.push(e) },
    maxBatchingWindowMs: 50,
    redeliveryDelayMs: 5,
  });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const entry = (detailType: string, detail: Record<string, unknown>) => ({
  EventBusName: 'ServerlessClm-events',
  Source: 'com.example.test',
  DetailType: detailType,
  Detail: JSON.stringify({ occurredAt: '2026-01-01T00:00:00Z', ...detail }),
});

describe('local stack with test handlers', () => {
  it('sets the endpoints and settings the handlers read', () => {
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(stack.endpoints.dynamodb);
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS).toBe(stack.endpoints.dynamodb);
    expect(process.env.AWS_ENDPOINT_URL_SESV2).toBe(stack.endpoints.ses);
    expect(process.env.AWS_ENDPOINT_URL_EVENTBRIDGE).toBe(stack.endpoints.bus);
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBe(stack.endpoints.bus);
    expect(process.env.CLM_TABLE_NAME).toBe(stack.tableName);
    expect(process.env.CLM_BUS_NAME).toBe(stack.busName);
    // The deployed bus's default name (infra/settings.ts stackName + "-events"), so docs/events.md works locally.
    expect(stack.busName).toBe('ServerlessClm-events');
    // The documented defaults (docs/deploy.md): a 10% control group drawn as experiment "v1", at most 2 emails a week.
    expect(stack.controlGroupPercent).toBe(10);
    expect(process.env.CLM_CONTROL_GROUP_PERCENT).toBe('10');
    expect(stack.controlGroupExperiment).toBe('v1');
    expect(process.env.CLM_CONTROL_GROUP_EXPERIMENT).toBe('v1');
    expect(process.env.CLM_FREQUENCY_CAP_PER_WEEK).toBe('2');
    expect(process.env.CLM_CIRCUIT_BREAKER).toBe('{}');
    // No tracing locally, and the X-Ray SDK (loaded with the Powertools tracer) in manual mode: it hooks no promise.
    expect(process.env.POWERTOOLS_TRACE_ENABLED).toBe('false');
    expect(process.env.AWS_XRAY_MANUAL_MODE).toBe('true');
    expect(process.env.CLM_REJECTED_QUEUE_URL).toBe(`${stack.endpoints.bus}/000000000000/rejected-events`);
    // The functions' own access key id: only it may put clm.* sources on the bus.
    expect(process.env.AWS_ACCESS_KEY_ID).toBe(FUNCTIONS_CREDENTIALS.accessKeyId);
    // Concurrent invocations share the handlers' clients locally: a socket for every message that can be in flight
    // (4 batches per rule subscription, one per stream), so the SDK neither queues them nor warns of capacity.
    const inFlight = subscriptions.reduce((n, s) => n + (s.kind === 'rule' ? 4 * s.batchSize : s.kind === 'stream' ? s.batchSize : 0), 0);
    expect(inFlight).toBeGreaterThan(100);
    expect(Number(process.env.CLM_LOCAL_MAX_SOCKETS)).toBe(inFlight);
  });

  it('routes PutEvents → ingest → table stream → churn-triggers → PutEvents → campaigns → SES, then becomes idle', async () => {
    const client = new EventBridgeClient({ endpoint: stack.endpoints.bus, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const res = await client.send(
      new PutEventsCommand({
        Entries: [
          entry('SupportCallLogged', { eventId: 'e1', customerId: 'A1', reason: 'billing' }),
          entry('InvoiceIssued', { eventId: 'e2', customerId: 'A2' }),
          entry('SupportCallLogged', { eventId: 'e3', customerId: 'A3', mode: 'fail-once' }),
          entry('UsageRecorded', { eventId: 'e4', customerId: 'A4', mode: 'always-fail' }),
        ],
      }),
    );
    client.destroy();
    expect(res.FailedEntryCount).toBe(0);
    await stack.waitForIdle({ timeoutMs: 60_000 });

    // SQS-shaped events.
    expect(seen.ingest[0]).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:BusinessEventsToIngest' });
    // fail-once: delivered twice; always-fail: maxReceiveCount (5) times, then the DLQ with the error.
    const receives = (id: string) => seen.ingest.filter((r) => JSON.parse(r.body).detail.eventId === id).length;
    expect(receives('e1')).toBe(1);
    expect(receives('e3')).toBe(2);
    expect(receives('e4')).toBe(5);
    const dlq = stack.queues.get('BusinessEventsToIngest-dlq')!;
    expect(dlq.sentCount).toBe(1);
    const dead = JSON.parse(readFileSync(path.join(stateDir, 'BusinessEventsToIngest-dlq.jsonl'), 'utf8').trim());
    expect(JSON.parse(dead.body).detail.eventId).toBe('e4');
    expect(dead.messageAttributes).toMatchObject({ receiveCount: 5, error: 'reported in batchItemFailures' });

    // Stream: only the filtered INSERTs of trigger-relevant types reached churn-triggers.
    const streamed = seen.stream.map((r) => r.dynamodb.NewImage!.sk.S).sort();
    expect(streamed).toEqual(['EVT#e1', 'EVT#e3']);
    // Triggers came back through the bus to campaigns (with A2's invoice, a producer's event that asks for an
    // email), and this test's campaigns handler sent an email for each message it got, through SES.
    expect(seen.campaigns.map((r) => `${JSON.parse(r.body)['detail-type']} ${JSON.parse(r.body).detail.customerId}`).sort()).toEqual(['ChurnTriggerFired A1', 'ChurnTriggerFired A3', 'InvoiceIssued A2']);
    const inbox = await stack.emails();
    expect(inbox.map((m) => m.destination?.to?.[0]).sort()).toEqual(['a1@example.com', 'a2@example.com', 'a3@example.com']);
    const c = await stack.counters();
    expect(c.triggersFired).toBe(2);
    expect(c.emailsSent).toBe(3);
    expect(c.consumers.BusinessEventsToIngest.deadLettered).toBe(1);
  }, 60_000);

  it('a thrown handler error fails the whole batch, which is redelivered', async () => {
    const before = seen.ingestInvocations;
    const client = new EventBridgeClient({ endpoint: stack.endpoints.bus, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    await client.send(
      new PutEventsCommand({ Entries: [entry('OrderPlaced', { eventId: 't1', customerId: 'B1', mode: 'throw-once' }), entry('OrderPlaced', { eventId: 't2', customerId: 'B2' })] }),
    );
    client.destroy();
    await stack.waitForIdle({ timeoutMs: 60_000 });
    expect(thrownOnce).toBe(true);
    expect(seen.ingestInvocations - before).toBeGreaterThanOrEqual(2);
    const receives = (id: string) => seen.ingest.filter((r) => JSON.parse(r.body).detail.eventId === id).length;
    expect(receives('t1')).toBe(2);
    expect(receives('t2')).toBeGreaterThanOrEqual(1);
    expect(stack.queues.get('BusinessEventsToIngest-dlq')!.sentCount).toBe(1);
    // EVT# items: e1, e2, e3, t1, t2 — counted on the stream and by scanning the table.
    expect(await stack.countStoredEvents()).toBe(5);
    expect(stack.trace.storedEvents).toBe(5);
    const c = await stack.counters();
    expect(c.handlerErrors.find((e) => e.function === 'ingest')?.count).toBe(1);
  }, 60_000);

  it('refuses a forged ChurnTriggerFired (clm.triggers) from an external client, as the bus policy does; the functions\' own still route', async () => {
    const campaignsQueue = stack.queues.get('ChurnTriggersToCampaigns')!;
    const before = { sent: campaignsQueue.sentCount, campaigns: seen.campaigns.length, emails: (await stack.emails()).length, triggers: (await stack.counters()).triggersFired };
    const forged = {
      EventBusName: 'ServerlessClm-events',
      Source: 'clm.triggers',
      DetailType: 'ChurnTriggerFired',
      Detail: JSON.stringify({ triggerId: 't-forged', customerId: 'F1' }),
    };
    for (const credentials of [{ accessKeyId: 'x', secretAccessKey: 'x' }, { accessKeyId: 'local', secretAccessKey: 'local' }]) {
      const client = new EventBridgeClient({ endpoint: stack.endpoints.bus, region: 'eu-west-1', credentials });
      const err = await client.send(new PutEventsCommand({ Entries: [entry('OrderPlaced', { eventId: 'f0', customerId: 'F0' }), forged] })).catch((e) => e);
      client.destroy();
      expect(err.name).toBe('AccessDeniedException');
      expect(err.$metadata.httpStatusCode).toBe(400);
      expect(err.message).toMatch(/is not authorized to perform: events:PutEvents on resource: arn:aws:events:eu-west-1:000000000000:event-bus\/ServerlessClm-events with an explicit deny in a resource-based policy$/);
    }
    await stack.waitForIdle({ timeoutMs: 60_000 });
    // Nothing reached the campaigns queue or handler, no email went out; the call's other entry was not put either.
    expect(campaignsQueue.sentCount).toBe(before.sent);
    expect(seen.campaigns.length).toBe(before.campaigns);
    expect((await stack.emails()).length).toBe(before.emails);
    expect(seen.ingest.some((r) => JSON.parse(r.body).detail.eventId === 'f0')).toBe(false);
    const c = await stack.counters();
    expect(c.bus.accessDenied).toBe(2);
    expect(c.triggersFired).toBe(before.triggers);

    // The in-process functions (churn-triggers, with the env credentials) still put clm.triggers events that reach campaigns.
    const client = new EventBridgeClient({ endpoint: stack.endpoints.bus, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const res = await client.send(new PutEventsCommand({ Entries: [entry('SupportCallLogged', { eventId: 'f2', customerId: 'F2', reason: 'billing' })] }));
    client.destroy();
    expect(res.FailedEntryCount).toBe(0);
    await stack.waitForIdle({ timeoutMs: 60_000 });
    expect(seen.campaigns.slice(before.campaigns).map((r) => JSON.parse(r.body).detail.customerId)).toEqual(['F2']);
    expect(campaignsQueue.sentCount).toBe(before.sent + 1);
    expect((await stack.counters()).triggersFired).toBe(before.triggers + 1);
    expect((await stack.emails()).map((m) => m.destination?.to?.[0])).toContain('f2@example.com');
  }, 60_000);

  it('an event without EventBusName goes to the default bus, as in AWS: accepted, reaches no handler, counted', async () => {
    const before = seen.ingest.length;
    const client = new EventBridgeClient({ endpoint: stack.endpoints.bus, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const { EventBusName: _, ...noBus } = entry('SupportCallLogged', { eventId: 'd1', customerId: 'D1', reason: 'billing' });
    const res = await client.send(new PutEventsCommand({ Entries: [noBus] }));
    client.destroy();
    expect(res.FailedEntryCount).toBe(0);
    expect(res.Entries?.[0]?.EventId).toBeTruthy();
    await stack.waitForIdle({ timeoutMs: 60_000 });
    expect(seen.ingest.length).toBe(before);
    expect((await stack.counters()).bus.toDefaultBus).toBe(1);
  }, 60_000);

  it('counts rejected events once each in the summary, however many messages carry one', async () => {
    const queue = stack.queues.get('rejected-events')!;
    const before = (await stack.counters()).rejected;
    const message = (rejectionId: string, code: string) => JSON.stringify({ rejectionId, code, reason: 'r', receivedAt: '2026-01-01T00:00:00.000Z', event: `raw ${rejectionId}` });
    queue.send(message('r1', 'not-json'));
    queue.send(message('r1', 'not-json')); // the same rejection sent again (the window between a send and its ledger entry)
    queue.send(message('r2', 'invalid-detail'));
    const after = (await stack.counters()).rejected;
    expect(after.count - before.count).toBe(2);
    expect(after.messages - before.messages).toBe(3);
    expect((after.byReason['not-json'] ?? 0) - (before.byReason['not-json'] ?? 0)).toBe(1);
    expect((after.byReason['invalid-detail'] ?? 0) - (before.byReason['invalid-detail'] ?? 0)).toBe(1);
  });

  it('invokes the schedule once on demand with the schedule target input', async () => {
    const results = await stack.runSchedules();
    expect(results).toEqual([
      expect.objectContaining({ id: 'NightlyRescore', function: 'nightly-rescore', ok: true }),
      expect.objectContaining({ id: 'TimerSweep', function: 'timer-sweep', ok: true }),
      // no night has stored a report aggregate here: nothing to write (npm start writes the local report itself, local/report.ts)
      expect.objectContaining({ id: 'NightlyReport', function: 'report', ok: true, result: { status: 'no-report-yet' } }),
    ]);
    // The schedule target's input from shared/wiring.ts, verbatim (local/invoke.ts schedulerEvent).
    expect(seen.scheduled[0]).toEqual({ subscription: 'NightlyRescore', scheduledTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    expect(seen.scheduled[1]).toEqual({ subscription: 'TimerSweep', scheduledTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
  });
});
