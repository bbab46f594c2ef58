/**
 * Loads the Lambda handlers named in `shared/wiring.ts` and builds the events
 * Lambda would give them: SQS events for rule subscriptions, DynamoDB stream
 * events for stream subscriptions, an EventBridge Scheduler event for the
 * schedule, and a Lambda context.
 *
 * Handlers create their AWS SDK clients when their module loads, so the
 * environment (endpoints, table name, …) must be set before `loadHandler`.
 */
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { functionSpecs, subscriptions, type FunctionName, type ScheduleSubscription } from '../shared/wiring.ts';
import { LOCAL_ACCOUNT_ID, type QueueMessage } from './queues.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type Handler = (event: unknown, context: LambdaContextLike) => Promise<unknown>;

export type LambdaContextLike = {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis: () => number;
  done: () => void;
  fail: () => void;
  succeed: () => void;
};

export async function loadHandler(fn: FunctionName): Promise<Handler> {
  const entry = path.resolve(REPO_ROOT, functionSpecs[fn].entry);
  const mod = (await import(pathToFileURL(entry).href)) as { handler?: unknown };
  if (typeof mod.handler !== 'function') throw new Error(`${functionSpecs[fn].entry} does not export a handler function`);
  return mod.handler as Handler;
}

export function lambdaContext(fn: FunctionName, region: string): LambdaContextLike {
  const spec = functionSpecs[fn];
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  const functionName = `clm-local-${fn}`;
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${randomUUID()}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/**
 * How many invocations may run at once in this one process, as Lambda Managed Instances tell
 * the runtime with this variable. With it set, Powertools keeps each invocation's log context
 * (function name, request id, appended keys) in the invocation's own InvokeStore scope, not in
 * the logger shared by every handler of the local stack (functions/commons/powertools.ts).
 */
export const LOCAL_MAX_CONCURRENCY_ENV = 'AWS_LAMBDA_MAX_CONCURRENCY';

/**
 * The InvokeStore that scopes each invocation, as the Lambda runtime provides it (on
 * `globalThis.awslambda`, where Powertools looks); the multi-invocation one (AsyncLocalStorage),
 * since the local stack runs the handlers concurrently in one process.
 */
async function invokeStore(): Promise<Awaited<ReturnType<typeof InvokeStore.getInstanceAsync>>> {
  const store = await InvokeStore.getInstanceAsync(true);
  // Only once the store is where Powertools looks: with the variable set and no store there, its logger throws.
  if ((globalThis as { awslambda?: { InvokeStore?: unknown } }).awslambda?.InvokeStore === store) process.env[LOCAL_MAX_CONCURRENCY_ENV] ??= '1000';
  return store;
}

/** Runs a handler with its timeout from wiring (a timed-out invocation is an error, as in Lambda), in an invocation scope of its own. */
export async function invokeWithTimeout(handler: Handler, fn: FunctionName, event: unknown, region: string): Promise<unknown> {
  const context = lambdaContext(fn, region);
  const ms = functionSpecs[fn].timeoutSeconds * 1000;
  const store = await invokeStore();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () => handler(event, context)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Task timed out after ${functionSpecs[fn].timeoutSeconds}.00 seconds`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The SQSEvent Lambda delivers for a batch of messages from `queueArn`. */
export function sqsEvent(messages: QueueMessage[], queueArn: string, region: string) {
  return {
    Records: messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: m.receiptHandle ?? '',
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentTimestamp),
        SenderId: LOCAL_ACCOUNT_ID,
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.sentTimestamp),
      },
      messageAttributes: {},
      md5OfBody: m.md5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: region,
    })),
  };
}

/**
 * The event EventBridge Scheduler delivers to a Lambda target: the schedule's
 * target input, verbatim — the shape `input` of the schedule subscription in
 * shared/wiring.ts defines, which CDK deploys as the target input — with the
 * current time as the scheduled time.
 */
export function schedulerEvent(scheduleName: string, _region: string) {
  const sub = subscriptions.find((s): s is ScheduleSubscription => s.kind === 'schedule' && s.id === scheduleName);
  if (!sub) throw new Error(`No schedule subscription ${scheduleName} in shared/wiring.ts`);
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return sub.input(now);
}
