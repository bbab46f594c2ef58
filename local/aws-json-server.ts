/**
 * One local HTTP server speaking the AWS JSON protocols the stack needs:
 *
 * - EventBridge (AWS JSON 1.1): `X-Amz-Target: AWSEvents.PutEvents` → the local bus;
 * - SQS (AWS JSON 1.0): `X-Amz-Target: AmazonSQS.<Operation>` for SendMessage,
 *   SendMessageBatch, ReceiveMessage, DeleteMessage, DeleteMessageBatch,
 *   GetQueueAttributes, GetQueueUrl, ListQueues and PurgeQueue on the local queues;
 * - Secrets Manager (AWS JSON 1.1): `X-Amz-Target: secretsmanager.GetSecretValue` of the
 *   secrets the local stack holds (the page signing keys, local/page-keys.ts; the erasure salt, local/privacy-salt.ts);
 * - `GET /queues` and `GET /queues/<name>` to inspect the queues, `GET /health`.
 *
 * Any AWS SDK or the AWS CLI works against it with `--endpoint-url`; requests
 * are not signature-checked (any credentials work). The access key id of the
 * SigV4 `Authorization` header identifies the caller for the bus's
 * reserved-source policy: PutEvents with a `clm.*` source on the bus is
 * refused (`AccessDeniedException`) unless signed with the functions' key id.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsJsonError, accessKeyIdFromAuthorization, type LocalBus } from './bus.ts';
import { LOCAL_ACCOUNT_ID, type LocalQueue, type QueueRegistry } from './queues.ts';

export const MAX_SQS_MESSAGE_BYTES = 256 * 1024;

export type AwsJsonServer = { port: number; url: string; close: () => Promise<void> };

type Json = Record<string, unknown>;

/** `JSON.rawJSON` (Node 21+; not yet in TypeScript's ES2023 lib): a value `JSON.stringify` writes as the given text. */
const rawJSON = (JSON as unknown as { rawJSON: (text: string) => unknown }).rawJSON;
/** A `JSON.parse` reviver that keeps a number as written when a double would not reproduce its text (`1e400`, `1.0`). */
const keepNumberText = (_key: string, value: unknown, context?: { source?: string }): unknown =>
  typeof value === 'number' && context?.source !== undefined && String(value) !== context.source ? rawJSON(context.source) : value;

class SqsError extends AwsJsonError {
  constructor(
    readonly code: string,
    message: string,
    readonly queryError: string,
  ) {
    super(`com.amazonaws.sqs#${code}`, message, 400);
  }
}

const nonExistentQueue = () =>
  new SqsError('QueueDoesNotExist', 'The specified queue does not exist.', 'AWS.SimpleQueueService.NonExistentQueue;Sender');
const missing = (p: string) => new SqsError('MissingParameter', `The request must contain the parameter ${p}.`, 'MissingParameter;Sender');
const invalid = (m: string) => new SqsError('InvalidParameterValue', m, 'InvalidParameterValue;Sender');

export async function startAwsJsonServer(options: {
  bus: LocalBus;
  queues: QueueRegistry;
  port?: number;
  host?: string;
  /** Secrets served by GetSecretValue, by name (the local stack's page signing keys). */
  secrets?: ReadonlyMap<string, () => string>;
}): Promise<AwsJsonServer> {
  const { bus, queues } = options;
  const host = options.host ?? '127.0.0.1';
  const visibilityTimers = new Set<NodeJS.Timeout>();

  const queueOf = (body: Json): LocalQueue => {
    if (typeof body.QueueUrl !== 'string' || body.QueueUrl === '') throw missing('QueueUrl');
    const q = queues.fromUrl(body.QueueUrl);
    if (!q) throw nonExistentQueue();
    return q;
  };

  const checkBody = (b: unknown, name = 'MessageBody'): string => {
    if (b === undefined || b === null) throw missing(name);
    if (typeof b !== 'string' || b.length === 0) throw invalid(`Value for parameter ${name} is invalid. Reason: Message must be at least one character.`);
    if (Buffer.byteLength(b, 'utf8') > MAX_SQS_MESSAGE_BYTES) {
      throw invalid(`One or more parameters are invalid. Reason: Message must be shorter than ${MAX_SQS_MESSAGE_BYTES} bytes.`);
    }
    return b;
  };

  const sqs: Record<string, (body: Json) => Json> = {
    SendMessage(body) {
      const q = queueOf(body);
      const m = q.send(checkBody(body.MessageBody), (body.MessageAttributes as Json) ?? {});
      return { MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody };
    },
    SendMessageBatch(body) {
      const q = queueOf(body);
      const entries = body.Entries;
      if (!Array.isArray(entries) || entries.length === 0) {
        throw new SqsError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.', 'AWS.SimpleQueueService.EmptyBatchRequest;Sender');
      }
      if (entries.length > 10) {
        throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender');
      }
      const ids = entries.map((e: Json) => e?.Id);
      if (new Set(ids).size !== ids.length) {
        throw new SqsError('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct;Sender');
      }
      const Successful: Json[] = [];
      const Failed: Json[] = [];
      for (const e of entries as Json[]) {
        try {
          const m = q.send(checkBody(e.MessageBody), (e.MessageAttributes as Json) ?? {});
          Successful.push({ Id: e.Id, MessageId: m.messageId, MD5OfMessageBody: m.md5OfBody });
        } catch (err) {
          const se = err as SqsError;
          Failed.push({ Id: e.Id, SenderFault: true, Code: se.code ?? 'InternalError', Message: se.message });
        }
      }
      return { Successful, Failed };
    },
    ReceiveMessage(body) {
      const q = queueOf(body);
      const max = Math.min(10, Math.max(1, Number(body.MaxNumberOfMessages ?? 1)));
      const visibility = Number(body.VisibilityTimeout ?? 30);
      const messages = q.receive(max);
      for (const m of messages) {
        const handle = m.receiptHandle!;
        const t = setTimeout(() => {
          visibilityTimers.delete(t);
          q.release(handle);
        }, visibility * 1000);
        t.unref();
        visibilityTimers.add(t);
      }
      return {
        Messages: messages.map((m) => ({
          MessageId: m.messageId,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: m.md5OfBody,
          Body: m.body,
          Attributes: {
            SenderId: LOCAL_ACCOUNT_ID,
            SentTimestamp: String(m.sentTimestamp),
            ApproximateReceiveCount: String(m.receiveCount),
            ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.sentTimestamp),
          },
        })),
      };
    },
    DeleteMessage(body) {
      const q = queueOf(body);
      if (typeof body.ReceiptHandle !== 'string') throw missing('ReceiptHandle');
      if (!q.delete(body.ReceiptHandle)) {
        throw new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${body.ReceiptHandle}" is not a valid receipt handle.`, 'ReceiptHandleIsInvalid;Sender');
      }
      return {};
    },
    DeleteMessageBatch(body) {
      const q = queueOf(body);
      const entries = Array.isArray(body.Entries) ? (body.Entries as Json[]) : [];
      const Successful: Json[] = [];
      const Failed: Json[] = [];
      for (const e of entries) {
        if (typeof e.ReceiptHandle === 'string' && q.delete(e.ReceiptHandle)) Successful.push({ Id: e.Id });
        else Failed.push({ Id: e.Id, SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'The input receipt handle is not a valid receipt handle.' });
      }
      return { Successful, Failed };
    },
    GetQueueAttributes(body) {
      const q = queueOf(body);
      return {
        Attributes: {
          QueueArn: queues.arn(q.name),
          ApproximateNumberOfMessages: String(q.visibleCount),
          ApproximateNumberOfMessagesNotVisible: String(q.inflightCount),
          ApproximateNumberOfMessagesDelayed: '0',
          MaximumMessageSize: String(MAX_SQS_MESSAGE_BYTES),
        },
      };
    },
    GetQueueUrl(body) {
      if (typeof body.QueueName !== 'string') throw missing('QueueName');
      if (!queues.get(body.QueueName)) throw nonExistentQueue();
      return { QueueUrl: queues.url(body.QueueName) };
    },
    ListQueues(body) {
      const prefix = typeof body.QueueNamePrefix === 'string' ? body.QueueNamePrefix : '';
      return { QueueUrls: queues.all().filter((q) => q.name.startsWith(prefix)).map((q) => queues.url(q.name)) };
    },
    PurgeQueue(body) {
      const q = queueOf(body);
      for (const m of q.receive(Number.MAX_SAFE_INTEGER)) q.delete(m.receiptHandle!);
      return {};
    },
  };

  const sendJson = (res: http.ServerResponse, status: number, value: unknown, contentType: string, extra: Record<string, string> = {}) => {
    const text = JSON.stringify(value);
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': crypto.randomUUID(), ...extra });
    res.end(text);
  };

  const inspectQueue = (q: LocalQueue) => {
    // Shown as JSON when it is, without changing it: a number JSON cannot hold as a double (`1e400`) stays as written.
    const parse = (b: string) => {
      try {
        return JSON.parse(b, keepNumberText);
      } catch {
        return b;
      }
    };
    const messages = (q.persistFile ? q.history : q.peek()).map((m) => ({
      messageId: m.messageId,
      sentAt: new Date(m.sentTimestamp).toISOString(),
      body: parse(m.body),
      attributes: m.messageAttributes,
    }));
    return { name: q.name, url: queues.url(q.name), arn: queues.arn(q.name), file: q.persistFile, visible: q.visibleCount, inFlight: q.inflightCount, sent: q.sentCount, messages };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://local');
      if (req.method === 'GET') {
        if (url.pathname === '/health') return sendJson(res, 200, { ok: true }, 'application/json');
        if (url.pathname === '/queues' || url.pathname === '/queues/') {
          return sendJson(res, 200, queues.all().map((q) => ({ name: q.name, url: queues.url(q.name), visible: q.visibleCount, inFlight: q.inflightCount, sent: q.sentCount })), 'application/json');
        }
        const m = /^\/queues\/([^/]+)\/?$/.exec(url.pathname);
        if (m) {
          const q = queues.get(decodeURIComponent(m[1]));
          return q ? sendJson(res, 200, inspectQueue(q), 'application/json') : sendJson(res, 404, { message: 'no such queue' }, 'application/json');
        }
        if (url.pathname === '/') {
          return sendJson(res, 200, { bus: { name: bus.name, arn: bus.arn, rules: bus.rules.map((r) => ({ id: r.subscription.id, pattern: r.subscription.pattern, queue: r.queue.name })) }, queues: queues.all().map((q) => queues.url(q.name)) }, 'application/json');
        }
        return sendJson(res, 404, { message: 'not found' }, 'application/json');
      }
      if (req.method !== 'POST') return sendJson(res, 405, { message: 'method not allowed' }, 'application/json');

      const [service, operation] = target.split('.');
      const contentType = service === 'AmazonSQS' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
      const sendError = (e: unknown) => {
        if (e instanceof SqsError) {
          return sendJson(res, e.status, { __type: e.type, message: e.message }, contentType, { 'x-amzn-query-error': e.queryError });
        }
        if (e instanceof AwsJsonError) return sendJson(res, e.status, { __type: e.type, message: e.message }, contentType);
        return sendJson(res, 500, { __type: 'InternalException', message: String((e as Error)?.message ?? e) }, contentType);
      };
      let body: Json;
      try {
        body = raw.trim() === '' ? {} : (JSON.parse(raw) as Json);
      } catch {
        return sendError(new AwsJsonError('SerializationException', 'The request body is not valid JSON.'));
      }
      try {
        if (service === 'AWSEvents') {
          if (operation !== 'PutEvents') throw new AwsJsonError('UnknownOperationException', `Operation ${operation} is not supported by the local bus (only PutEvents).`);
          const authorization = req.headers.authorization;
          const accessKeyId = accessKeyIdFromAuthorization(Array.isArray(authorization) ? authorization[0] : authorization);
          return sendJson(res, 200, bus.putEvents(body, { accessKeyId }), contentType);
        }
        if (service === 'AmazonSQS') {
          const op = sqs[operation];
          if (!op) throw new AwsJsonError('UnknownOperationException', `Operation ${operation} is not supported by the local SQS emulation.`);
          return sendJson(res, 200, op(body), contentType);
        }
        if (service === 'secretsmanager') {
          if (operation !== 'GetSecretValue') throw new AwsJsonError('UnknownOperationException', `Operation ${operation} is not supported by the local Secrets Manager (only GetSecretValue).`);
          const id = typeof body.SecretId === 'string' ? body.SecretId : '';
          const secret = options.secrets?.get(id);
          if (!secret) throw new AwsJsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
          return sendJson(res, 200, { ARN: `arn:aws:secretsmanager:${bus.region}:${LOCAL_ACCOUNT_ID}:secret:${id}`, Name: id, SecretString: secret(), VersionId: 'local', VersionStages: ['AWSCURRENT'], CreatedDate: 0 }, contentType);
        }
        throw new AwsJsonError('UnknownOperationException', `Unknown X-Amz-Target "${target}".`);
      } catch (e) {
        return sendError(e);
      }
    });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  queues.baseUrl = url;
  return {
    port,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of visibilityTimers) clearTimeout(t);
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
