/**
 * Test support: the embedded DynamoDB Local and SES emulator for one test
 * file, a fresh table per call, and a small capture server that answers
 * EventBridge PutEvents and SQS SendMessage the way AWS does and records them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { createHash, randomUUID } from 'node:crypto';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  createTable,
  localDynamoDbClient,
  startDynamoDbLocal,
  startSesLocal,
  type RunningService,
} from '../../local/services.ts';

export type LocalAws = {
  dynamodb: RunningService;
  ses: RunningService;
  stop: () => Promise<void>;
};

export async function startLocalAws(options: { ses?: boolean } = {}): Promise<LocalAws> {
  const [dynamodb, ses] = await Promise.all([
    startDynamoDbLocal(),
    options.ses === false ? Promise.resolve({ endpoint: '', port: 0, stop: async () => {} }) : startSesLocal(),
  ]);
  return { dynamodb, ses, stop: async () => void (await Promise.all([dynamodb.stop(), ses.stop()])) };
}

export async function freshTable(endpoint: string): Promise<{ tableName: string; streamArn: string }> {
  const tableName = `test-${randomUUID().slice(0, 8)}-clm`;
  const client = localDynamoDbClient(endpoint);
  try {
    const { streamArn } = await createTable(client, tableName);
    return { tableName, streamArn };
  } finally {
    client.destroy();
  }
}

export const sdkConfig = (endpoint: string) => ({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

export type Captured = { target: string; body: Record<string, unknown> };

/** Answers PutEvents and SendMessage like AWS and keeps what it was sent. `failNext` makes calls fail. */
export async function startCaptureServer(): Promise<{
  endpoint: string;
  calls: Captured[];
  putEvents: () => { Source: string; DetailType: string; Detail: string }[];
  sqsMessages: () => { QueueUrl: string; MessageBody: string }[];
  failNext: (n: number) => void;
  stop: () => Promise<void>;
}> {
  const calls: Captured[] = [];
  let failures = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      if (failures > 0) {
        failures--;
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InternalException', message: 'injected failure' }));
        return;
      }
      calls.push({ target, body });
      if (target === 'AWSEvents.PutEvents') {
        const entries = (body.Entries as unknown[]) ?? [];
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) }));
      } else if (target === 'AmazonSQS.SendMessage') {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        const md5 = createHash('md5').update(String(body.MessageBody ?? ''), 'utf8').digest('hex');
        res.end(JSON.stringify({ MessageId: randomUUID(), MD5OfMessageBody: md5 }));
      } else {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    calls,
    putEvents: () => calls.filter((c) => c.target === 'AWSEvents.PutEvents').flatMap((c) => c.body.Entries as never[]),
    sqsMessages: () => calls.filter((c) => c.target === 'AmazonSQS.SendMessage').map((c) => c.body as never),
    failNext: (n) => (failures = n),
    stop: () => new Promise((r) => server.close(() => r())),
  };
}

/** Points the handlers' AWS clients at the local services (the SDK reads AWS_ENDPOINT_URL_<SERVICE>). */
export function useLocalEndpoints(e: { dynamodb: string; ses?: string; eventbridge?: string; sqs?: string }): void {
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = e.dynamodb;
  if (e.ses) process.env.AWS_ENDPOINT_URL_SESV2 = e.ses;
  if (e.eventbridge) process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = e.eventbridge;
  if (e.sqs) process.env.AWS_ENDPOINT_URL_SQS = e.sqs;
}

/**
 * DynamoDB Local for the test file: started before its tests, stopped after. The returned
 * getters give the running service and a client on it once `beforeAll` has run.
 */
export function useLocalDynamoDb(): { aws: () => LocalAws; client: () => ReturnType<typeof localDynamoDbClient> } {
  let aws: LocalAws | undefined;
  let client: ReturnType<typeof localDynamoDbClient> | undefined;
  beforeAll(async () => {
    aws = await startLocalAws({ ses: false });
    client = localDynamoDbClient(aws.dynamodb.endpoint);
  });
  afterAll(async () => {
    client?.destroy();
    await aws?.stop();
  });
  return { aws: () => aws!, client: () => client! };
}

/**
 * The erasure salt as the functions read it (docs/erasure.md): the local stack's salt file in a fresh
 * state directory, served as its Secrets Manager secret by the local AWS JSON endpoint, with the
 * environment the functions read (the endpoint and CLM_PRIVACY_SALT_SECRET) set. `reads` counts GetSecretValue calls.
 */
export async function useLocalPrivacySalt(): Promise<{ salt: string; stateDir: string; reads: () => number; close: () => Promise<void> }> {
  const [{ mkdtempSync }, os, path, { startAwsJsonServer }, { LocalBus }, { QueueRegistry }, { ensureLocalPrivacySalt }, { ENV }] = await Promise.all([
    import('node:fs'),
    import('node:os'),
    import('node:path'),
    import('../../local/aws-json-server.ts'),
    import('../../local/bus.ts'),
    import('../../local/queues.ts'),
    import('../../local/privacy-salt.ts'),
    import('../../shared/wiring.ts'),
  ]);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'clm-salt-'));
  const salt = ensureLocalPrivacySalt(stateDir);
  const secretId = 'ServerlessClm-privacy-salt';
  let reads = 0;
  const queues = new QueueRegistry({ region: LOCAL_REGION, persistDir: stateDir });
  const bus = new LocalBus({ name: 'salt-only', region: LOCAL_REGION, queueFor: (sub) => queues.ensure(sub.id) });
  const server = await startAwsJsonServer({ bus, queues, secrets: new Map([[secretId, () => (reads++, salt)]]) });
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = server.url;
  process.env[ENV.privacySaltSecret] = secretId;
  return { salt, stateDir, reads: () => reads, close: () => server.close() };
}

/**
 * DynamoDB Local and the SES v2 emulator for the test file, with a client on each: started before
 * its tests, stopped after (the getters give them once `beforeAll` has run).
 */
export function useLocalDynamoDbAndSes(): { aws: () => LocalAws; client: () => ReturnType<typeof localDynamoDbClient>; ses: () => SESv2Client } {
  let aws: LocalAws | undefined;
  let client: ReturnType<typeof localDynamoDbClient> | undefined;
  let ses: SESv2Client | undefined;
  beforeAll(async () => {
    aws = await startLocalAws();
    client = localDynamoDbClient(aws.dynamodb.endpoint);
    ses = new SESv2Client(sdkConfig(aws.ses.endpoint));
  }, 120_000);
  afterAll(async () => {
    client?.destroy();
    ses?.destroy();
    await aws?.stop();
  });
  return { aws: () => aws!, client: () => client!, ses: () => ses! };
}
