/**
 * The local stack, composed: DynamoDB Local and the SES emulator (child
 * processes), the table from the shared definition, the local bus and queues
 * behind one AWS JSON endpoint (EventBridge PutEvents + SQS), and the event
 * sources from `shared/wiring.ts` — rule subscriptions as queue consumers,
 * the stream subscription as a poller of DynamoDB Local's Streams API — calling
 * the same handler modules that run in Lambda.
 *
 * `startLocalStack()` is used by `local/start.ts` and by the integration tests.
 */
import { GetItemCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { mkdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { CLM_SOURCE_PREFIX } from '../shared/events/catalog.ts';
import { tableName as tableNameFor } from '../shared/data-model/table.ts';
import { customerPk, SK } from '../shared/data-model/keys.ts';
import { settingDefaults } from '../infra/settings.ts';
import { ENV, functionSpecs, publicPages, subscriptions, type FunctionName, type RuleSubscription, type StreamSubscription } from '../shared/wiring.ts';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  createTable,
  localDynamoDbClient,
  startDynamoDbLocal,
  startSesLocal,
  type RunningService,
} from './services.ts';
import { startAwsJsonServer, type AwsJsonServer } from './aws-json-server.ts';
import { ensureLocalPageKeys } from './page-keys.ts';
import { ensureLocalPrivacySalt } from './privacy-salt.ts';
import { startPagesServer } from './pages-server.ts';
import { FUNCTIONS_CREDENTIALS, LocalBus, type EventBridgeEvent } from './bus.ts';
import { invokeWithTimeout, lambdaContext, loadHandler, schedulerEvent, sqsEvent, type Handler } from './invoke.ts';
import { QueueConsumer, QueueRegistry } from './queues.ts';
import { StreamPoller, type LambdaStreamRecord } from './stream-poller.ts';
import { matchesPattern } from './event-pattern.ts';
import { compareRetentionPath, type ActualOutcome, type ActualTrigger } from './retention-path.ts';
import { billingPath } from '../shared/pipeline/billing-path.ts';
import { defaultSendPolicy } from '../shared/campaigns/guardrails.ts';
import { CAMPAIGNS_EVENT_SOURCE } from '../shared/campaigns/send-campaign.ts';
import { PAGES_EVENT_SOURCE } from '../shared/pages/serve-page.ts';

/** The sources of the events the stack stores itself (not a producer's): the campaigns' and the pages' consent records. */
const STACK_RECORD_SOURCES = new Set([CAMPAIGNS_EVENT_SOURCE, PAGES_EVENT_SOURCE]);

export const REJECTED_QUEUE = 'rejected-events';
/** Subdirectory of the state directory where each sent email is kept (`<messageId>.eml`, `.html`, `index.jsonl`). */
export const EMAILS_DIR = 'emails';
/**
 * The bus's name as deployed with the default settings: `${stackName}-events`
 * (infra/constructs/event-bus.ts) with stackName `ServerlessClm` (infra/settings.ts),
 * so producers' code and docs/events.md work unchanged against the local bus.
 */
export const LOCAL_BUS_NAME = `${settingDefaults.stackName}-events`;
/** The local Secrets Manager secret of the page signing keys (generated per state directory, local/page-keys.ts). */
export const LOCAL_PAGE_KEYS_SECRET = `${settingDefaults.stackName}-page-keys`;
/** The local Secrets Manager secret of the erasure salt (generated per state directory, local/privacy-salt.ts). */
export const LOCAL_PRIVACY_SALT_SECRET = `${settingDefaults.stackName}-privacy-salt`;
export const dlqName = (subscriptionId: string) => `${subscriptionId}-dlq`;
/** After its first hour, how long `waitForIdle` (without a timeout) waits with nothing happening at all before it gives up. */
const STALL_MS = 10 * 60_000;

export type LocalStackOptions = {
  /** Ports for the services; default: free ports. */
  dynamodbPort?: number;
  sesPort?: number;
  busPort?: number;
  /** Port of the public pages' server (default: a free port). */
  pagesPort?: number;
  /** Use already running services instead of starting them (tests). */
  dynamodbEndpoint?: string;
  sesEndpoint?: string;
  /** Default `local-clm` (the shared definition's name with the `local-` prefix). */
  tableName?: string;
  /** Default `ServerlessClm-events`, the deployed bus's default name (`LOCAL_BUS_NAME`). */
  busName?: string;
  /** Where dead-letter and rejected messages are appended as JSONL; default `.local`. */
  stateDir?: string;
  /** Replace handlers (tests); by default the modules in wiring.ts are loaded. */
  handlers?: Partial<Record<FunctionName, Handler>>;
  /** Batches handled in parallel per rule subscription (default 4). */
  consumerConcurrency?: number;
  /** Override every rule subscription's batching window (ms); default from wiring. */
  maxBatchingWindowMs?: number;
  /** Delay before a failed SQS message is redelivered (the visibility timeout, shortened). Default 50 ms × receive count. */
  redeliveryDelayMs?: number;
  log?: (line: string) => void;
};

export type Endpoints = {
  /** EventBridge PutEvents and SQS endpoint (same server). */
  bus: string;
  sqs: string;
  dynamodb: string;
  ses: string;
  /** The SES emulator's web inbox, and its JSON store. */
  sesInbox: string;
  sesStore: string;
  rejectedQueueUrl: string;
  /** The public pages (unsubscribe, help page, exit survey): the pages function behind a local function URL. */
  pages: string;
};

export type HandlerErrorLog = { function: FunctionName; count: number; samples: string[] };

export type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

export async function startLocalStack(options: LocalStackOptions = {}) {
  const log = options.log ?? (() => {});
  const region = LOCAL_REGION;
  const stateDir = path.resolve(options.stateDir ?? '.local');
  const tableName = options.tableName ?? tableNameFor('local-');
  const busName = options.busName ?? LOCAL_BUS_NAME;
  const emailsDir = path.join(stateDir, EMAILS_DIR);
  // This run's emails only, like the other state files.
  rmSync(emailsDir, { recursive: true, force: true });
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  };

  try {
    // 1. Services.
    let dynamodb: string;
    let ses: string;
    const services: RunningService[] = [];
    if (options.dynamodbEndpoint) dynamodb = options.dynamodbEndpoint;
    else {
      const s: RunningService = await startDynamoDbLocal({ port: options.dynamodbPort, log });
      cleanups.push(s.stop);
      services.push(s);
      dynamodb = s.endpoint;
    }
    if (options.sesEndpoint) ses = options.sesEndpoint;
    else {
      const s = await startSesLocal({ port: options.sesPort });
      cleanups.push(s.stop);
      services.push(s);
      ses = s.endpoint;
    }
    /** Resolves with a description if a service this stack started ends without being asked to (never, if it started none). */
    const serviceExited: Promise<string> = Promise.race(services.flatMap((s) => (s.exited ? [s.exited] : [])));

    // 2. Table.
    const ddb: DynamoDBClient = localDynamoDbClient(dynamodb);
    cleanups.push(async () => ddb.destroy());
    const { streamArn } = await createTable(ddb, tableName);

    // 3. Queues and bus behind one AWS JSON endpoint.
    const queues = new QueueRegistry({ persistDir: stateDir, region });
    const ruleSubs = subscriptions.filter((s): s is RuleSubscription => s.kind === 'rule');
    const streamSubs = subscriptions.filter((s): s is StreamSubscription => s.kind === 'stream');
    const scheduleSubs = subscriptions.filter((s) => s.kind === 'schedule');
    queues.ensure(REJECTED_QUEUE, { persist: true });
    for (const s of ruleSubs) {
      queues.ensure(s.id);
      queues.ensure(dlqName(s.id), { persist: true });
    }
    for (const s of streamSubs) queues.ensure(dlqName(s.id), { persist: true });
    const bus = new LocalBus({ name: busName, region, queueFor: (sub) => queues.get(sub.id)! });
    const pageKeysText = ensureLocalPageKeys(stateDir);
    const privacySalt = ensureLocalPrivacySalt(stateDir);
    const secrets = new Map([
      [LOCAL_PAGE_KEYS_SECRET, () => pageKeysText],
      [LOCAL_PRIVACY_SALT_SECRET, () => privacySalt],
    ]);
    const server: AwsJsonServer = await startAwsJsonServer({ bus, queues, port: options.busPort, secrets });
    cleanups.push(server.close);
    // The public pages, as behind a function URL; the handler is loaded at the first request (after the environment is set).
    const pagesServer = await startPagesServer({ handler: () => handlerFor(publicPages.function), region, port: options.pagesPort, onError: (e) => recordError(publicPages.function, e) });
    cleanups.push(pagesServer.close);

    const endpoints: Endpoints = {
      bus: server.url,
      sqs: server.url,
      dynamodb,
      ses,
      sesInbox: `${ses}/`,
      sesStore: `${ses}/store`,
      rejectedQueueUrl: queues.url(REJECTED_QUEUE),
      pages: pagesServer.url,
    };

    // 4. The environment the handlers read, set before their modules load. The
    // functions get their own access key id: as with the deployed bus policy,
    // only they may put events with the stack's `clm.*` sources on the bus.
    const env: Record<string, string> = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: FUNCTIONS_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FUNCTIONS_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamodb,
      AWS_ENDPOINT_URL_SESV2: ses,
      AWS_ENDPOINT_URL_EVENTBRIDGE: server.url,
      AWS_ENDPOINT_URL_SQS: server.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url,
      [ENV.pageKeysSecret]: LOCAL_PAGE_KEYS_SECRET,
      [ENV.privacySaltSecret]: LOCAL_PRIVACY_SALT_SECRET,
      [ENV.pagesBaseUrl]: pagesServer.url,
      [ENV.tableName]: tableName,
      [ENV.busName]: busName,
      [ENV.rejectedQueueUrl]: endpoints.rejectedQueueUrl,
      // All concurrent invocations share the handlers' clients here (in Lambda each has its own): one socket
      // per message that can be in flight at once, so the SDK neither queues them nor warns about capacity.
      CLM_LOCAL_MAX_SOCKETS: String(
        ruleSubs.reduce((n, s) => n + s.batchSize * (options.consumerConcurrency ?? 4), 0) + streamSubs.reduce((n, s) => n + s.batchSize, 0),
      ),
    };
    // Settings a user may override from the shell.
    const defaults: Record<string, string> = {
      [ENV.senderAddress]: 'Local CLM <hello@example.com>',
      [ENV.unsubscribeBaseUrl]: 'http://localhost/unsubscribe',
      [ENV.helpBaseUrl]: 'http://localhost/help',
      [ENV.eventRetentionDays]: '1095',
      [ENV.controlGroupPercent]: String(settingDefaults.controlGroupPercent),
      [ENV.controlGroupExperiment]: settingDefaults.controlGroupExperiment,
      [ENV.frequencyCapPerWeek]: String(settingDefaults.frequencyCapPerWeek),
      [ENV.circuitBreaker]: JSON.stringify(settingDefaults.circuitBreaker),
      [ENV.winbackPermissionMonths]: String(settingDefaults.winbackPermissionMonths),
      [ENV.winbackDelaysDays]: settingDefaults.winbackDelaysDays.join(','),
      [ENV.winbackHighValueMinClv]: String(settingDefaults.winbackHighValueMinClv),
      [ENV.winbackPersonalOutreach]: settingDefaults.winbackPersonalOutreach,
      POWERTOOLS_LOG_LEVEL: 'WARN',
      POWERTOOLS_METRICS_NAMESPACE: 'clm-local',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      // No tracing here: the X-Ray SDK (loaded with the Powertools tracer) need not hook every promise
      // (its automatic mode's async_hooks made each await about 20 times slower in one process)
      AWS_XRAY_MANUAL_MODE: 'true',
    };
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    Object.assign(process.env, env);
    for (const [k, v] of Object.entries(defaults)) process.env[k] ??= v;
    /** The control group the campaigns handler will use (as it reads it: a number, else its default). */
    const controlGroupPercent = (() => {
      const n = Number(process.env[ENV.controlGroupPercent]);
      return process.env[ENV.controlGroupPercent]?.trim() && Number.isFinite(n) ? n : settingDefaults.controlGroupPercent;
    })();
    /** The control-group experiment the campaigns handler will use (it salts the assignment). */
    const controlGroupExperiment = process.env[ENV.controlGroupExperiment]?.trim() || settingDefaults.controlGroupExperiment;

    // Entries without EventBusName go to the default bus, as in AWS, and reach no handler: say so once.
    bus.onDefaultBus((e) => {
      if (bus.stats.toDefaultBus === 1) {
        log(`! an event (${e.source} ${e['detail-type']}) was put without EventBusName and went to the "default" bus, which has no rules: set EventBusName to ${busName}`);
      }
    });

    // 5. Handlers (the real modules unless replaced).
    const handlers = new Map<FunctionName, Handler>();
    const handlerFor = async (fn: FunctionName): Promise<Handler> => {
      let h = handlers.get(fn);
      if (!h) {
        h = options.handlers?.[fn] ?? (await loadHandler(fn));
        handlers.set(fn, h);
      }
      return h;
    };
    const errors = new Map<FunctionName, HandlerErrorLog>();
    const recordError = (fn: FunctionName, e: unknown) => {
      const entry = errors.get(fn) ?? { function: fn, count: 0, samples: [] };
      entry.count++;
      if (entry.samples.length < 3) {
        const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        entry.samples.push(msg);
        log(`! ${fn} failed: ${msg}`);
      }
      errors.set(fn, entry);
    };

    // Tracing of the retention path: what the ingest rule delivered (for the pure pipeline's
    // expectation), billing calls read from the stream, and triggers delivered to campaigns.
    const ingestRule = ruleSubs.find((s) => s.function === 'ingest')!;
    const trace = {
      /** The bodies the ingest rule's queue received, in order. */
      ingestBodies: [] as string[],
      billingCalls: new Map<string, string>(), // eventId → customerId
      streamDeliveredEventIds: new Set<string>(),
      campaignTriggerIds: new Set<string>(),
      /** EVT# items inserted, as seen on the table stream (every INSERT, before filtering). */
      storedEvents: 0,
      /** Of those, the events the stack records itself (consent changes of its double opt-in requests and pages, exit-survey answers). */
      stackRecordedEvents: 0,
    };
    bus.onEvent((e: EventBridgeEvent) => {
      if (matchesPattern(ingestRule.pattern, e)) trace.ingestBodies.push(JSON.stringify(e));
      const d = e.detail as Record<string, unknown>;
      if (e['detail-type'] === 'SupportCallLogged' && d.reason === 'billing' && typeof d.eventId === 'string' && typeof d.callId === 'string') {
        trace.billingCalls.set(d.eventId, String(d.customerId));
      }
    });

    // 6. Event sources.
    const consumers = new Map<string, QueueConsumer>();
    for (const sub of ruleSubs) {
      const queue = queues.get(sub.id)!;
      const arn = queues.arn(sub.id);
      const consumer = new QueueConsumer({
        queue,
        deadLetterQueue: queues.get(dlqName(sub.id))!,
        batchSize: sub.batchSize,
        maxBatchingWindowMs: options.maxBatchingWindowMs ?? sub.maxBatchingWindowSeconds * 1000,
        maxReceiveCount: sub.maxReceiveCount,
        concurrency: options.consumerConcurrency ?? 4,
        redeliveryDelayMs: options.redeliveryDelayMs,
        invoke: async (messages) => {
          const handler = await handlerFor(sub.function);
          if (sub.function === 'campaigns') {
            for (const m of messages) {
              try {
                const id = (JSON.parse(m.body) as { detail?: { triggerId?: string } }).detail?.triggerId;
                if (id) trace.campaignTriggerIds.add(id);
              } catch {
                /* not ours to judge */
              }
            }
          }
          return (await invokeWithTimeout(handler, sub.function, sqsEvent(messages, arn, region), region)) as never;
        },
        onError: (e) => recordError(sub.function, e),
      });
      consumers.set(sub.id, consumer);
    }

    const streamsClient = new DynamoDBStreamsClient({ endpoint: dynamodb, region, credentials: LOCAL_CREDENTIALS });
    cleanups.push(async () => streamsClient.destroy());
    const pollers = new Map<string, StreamPoller>();
    for (const sub of streamSubs) {
      const failureQueue = queues.get(dlqName(sub.id))!;
      const poller = new StreamPoller({
        client: streamsClient,
        streamArn,
        region,
        filters: sub.filters,
        batchSize: sub.batchSize,
        retryAttempts: sub.retryAttempts,
        maxRecordAgeSeconds: sub.maxRecordAgeSeconds,
        functionArn: lambdaContext(sub.function, region).invokedFunctionArn,
        handler: async (event) => {
          const handler = await handlerFor(sub.function);
          for (const r of event.Records as LambdaStreamRecord[]) {
            const sk = (r.dynamodb.NewImage?.sk as { S?: string } | undefined)?.S;
            if (sk?.startsWith('EVT#')) {
              const eventId = sk.slice(4);
              if (trace.billingCalls.has(eventId)) trace.streamDeliveredEventIds.add(eventId);
            }
          }
          return (await invokeWithTimeout(handler, sub.function, event, region)) as never;
        },
        onFailure: (info) => {
          failureQueue.send(JSON.stringify(info), { subscription: sub.id });
        },
        onError: (e) => recordError(sub.function, e),
        observe: (r) => {
          if (sub === streamSubs[0] && r.eventName === 'INSERT' && (r.dynamodb.Keys?.sk as { S?: string } | undefined)?.S?.startsWith('EVT#')) {
            trace.storedEvents++;
            if (STACK_RECORD_SOURCES.has(String((r.dynamodb.NewImage?.source as { S?: string } | undefined)?.S))) trace.stackRecordedEvents++;
          }
        },
      });
      pollers.set(sub.id, poller);
    }

    // Load the handler modules now (fails fast on a broken module), then start polling.
    for (const s of [...ruleSubs, ...streamSubs]) await handlerFor(s.function);
    for (const c of consumers.values()) c.start();
    for (const p of pollers.values()) p.start();
    cleanups.push(async () => {
      await Promise.all([...consumers.values()].map((c) => c.stop()));
      await Promise.all([...pollers.values()].map((p) => p.stop()));
    });

    const activity = () =>
      bus.activity +
      [...consumers.values()].reduce((n, c) => n + c.activity, 0) +
      [...pollers.values()].reduce((n, p) => n + p.activity, 0) +
      queues.all().reduce((n, q) => n + q.sentCount + q.deletedCount, 0);

    /**
     * Resolves once every queue is drained (nothing visible, in flight or due
     * for redelivery) and every stream poller has completed two full polling
     * rounds with no new records while nothing else changed. With `timeoutMs`, gives up after
     * that long; without, not before an hour, and after it only once `STALL_MS` have passed with
     * no activity at all (a large base's replay, or a night's CustomerRescored for every customer,
     * takes longer than any fixed time).
     */
    const waitForIdle = async (opts: { timeoutMs?: number } = {}) => {
      let deadline = Date.now() + (opts.timeoutMs ?? 60 * 60_000);
      let seen = activity();
      const allConsumersIdle = () => [...consumers.values()].every((c) => c.idle);
      while (Date.now() < deadline) {
        if (opts.timeoutMs === undefined && activity() !== seen) {
          seen = activity();
          deadline = Math.max(deadline, Date.now() + STALL_MS);
        }
        if (!allConsumersIdle()) {
          const busy = [...consumers].find(([, c]) => !c.idle)!;
          await queues.get(busy[0])!.waitForChange(100);
          continue;
        }
        const before = activity();
        await Promise.all([...pollers.values()].map((p) => p.waitRounds(2)));
        const quiet = [...pollers.values()].every((p) => p.emptyRounds >= 1 && !p.busy);
        if (quiet && allConsumersIdle() && activity() === before) return;
      }
      throw new Error(opts.timeoutMs === undefined ? `the local stack did not become idle: an hour, and no activity in the last ${STALL_MS / 60_000} minutes` : 'the local stack did not become idle in time');
    };
    type ScheduleResult = { id: string; function: FunctionName; ok: boolean; result?: unknown; error?: string; ms: number };
    /** Invokes one schedule subscription's function once, as EventBridge Scheduler would (at the process clock's time). */
    const runSchedule = async (id: string): Promise<ScheduleResult> => {
      const s = scheduleSubs.find((x) => x.id === id);
      if (!s) throw new Error(`no schedule subscription ${id} in shared/wiring.ts`);
      const started = Date.now();
      try {
        const handler = await handlerFor(s.function);
        const result = await invokeWithTimeout(handler, s.function, schedulerEvent(s.id, region), region);
        return { id: s.id, function: s.function, ok: true, result, ms: Date.now() - started };
      } catch (e) {
        recordError(s.function, e);
        return { id: s.id, function: s.function, ok: false, error: String((e as Error)?.message ?? e), ms: Date.now() - started };
      }
    };
    /** Invokes each schedule subscription's function once, as EventBridge Scheduler would. */
    const runSchedules = async (): Promise<ScheduleResult[]> => {
      const results: ScheduleResult[] = [];
      for (const s of scheduleSubs) results.push(await runSchedule(s.id));
      return results;
    };
    /**
     * One timer sweep (the TimerSweep schedule's function, as Scheduler invokes it every few
     * minutes in AWS), then waits until what it fired has gone through. With the process clock
     * moved forward (local/clock.ts advanceClock), it fires the timers due by then.
     */
    const sweepTimers = async (): Promise<ScheduleResult> => {
      const result = await runSchedule('TimerSweep');
      await waitForIdle();
      return result;
    };

    const emails = async (): Promise<{ destination?: { to?: string[] }; subject?: string; messageId?: string }[]> => {
      const res = await fetch(endpoints.sesStore);
      if (!res.ok) throw new Error(`SES store answered ${res.status}`);
      return ((await res.json()) as { emails: never[] }).emails;
    };

    /**
     * Writes each email in the SES emulator not written yet to `<stateDir>/emails/`: the
     * message as sent (`<messageId>.eml`, RFC 822, from the emulator) and its HTML part
     * (`<messageId>.html`), and a line in `index.jsonl` with the ids from its EmailSent event
     * (customer, campaign, send). The files outlive the run; the inbox does not.
     */
    const savedEmails = new Set<string>();
    const saveEmails = async (): Promise<{ dir: string; total: number; written: number }> => {
      type Stored = { messageId?: string; at?: number; body?: { html?: string } };
      const stored = (await emails()) as Stored[];
      const sentEvents = new Map<string, Record<string, unknown>>();
      for (const e of bus.emitted) {
        const d = e.detail as Record<string, unknown>;
        if (e['detail-type'] === 'EmailSent' && typeof d.messageId === 'string') sentEvents.set(d.messageId, d);
      }
      mkdirSync(emailsDir, { recursive: true });
      let written = 0;
      for (const m of stored) {
        const id = m.messageId;
        if (!id || savedEmails.has(id)) continue;
        const file = id.replace(/[^A-Za-z0-9._-]/g, '_');
        const res = await fetch(`${endpoints.ses}/get-emlContent?messageId=${encodeURIComponent(id)}`);
        if (!res.ok) throw new Error(`SES emulator answered ${res.status} for the .eml of ${id}`);
        const eml = Buffer.from(((await res.json()) as { body: { data: number[] } }).body.data);
        writeFileSync(path.join(emailsDir, `${file}.eml`), eml);
        writeFileSync(path.join(emailsDir, `${file}.html`), m.body?.html ?? '');
        const sent = sentEvents.get(id);
        const line = {
          messageId: id,
          sentAt: m.at ? new Date(m.at * 1000).toISOString() : undefined,
          customerId: sent?.customerId,
          campaign: sent?.campaign,
          sendId: sent?.sendId,
          eml: `${file}.eml`,
          html: `${file}.html`,
        };
        appendFileSync(path.join(emailsDir, 'index.jsonl'), `${JSON.stringify(line)}\n`);
        savedEmails.add(id);
        written++;
      }
      return { dir: emailsDir, total: savedEmails.size, written };
    };

    const countStoredEvents = async (): Promise<number> => {
      let count = 0;
      let start: Record<string, never> | undefined;
      do {
        const out = await ddb.send(
          new ScanCommand({
            TableName: tableName,
            Select: 'COUNT',
            FilterExpression: 'begins_with(sk, :evt)',
            ExpressionAttributeValues: { ':evt': { S: 'EVT#' } },
            ExclusiveStartKey: start,
          }),
        );
        count += out.Count ?? 0;
        start = out.LastEvaluatedKey as never;
      } while (start);
      return count;
    };

    /**
     * Follows the recent billing complaints through the whole path — accepted on the bus →
     * stored by ingest (EVT# item) → read from the table stream and delivered to churn-triggers
     * → a ChurnTriggerFired citing it on the bus → delivered to campaigns → EmailSent with a
     * message in the SES inbox — and compares each with what the pure pipeline
     * (shared/pipeline/) expects for the same events, with the campaigns handler's settings.
     */
    const verifyRetentionPath = async () => {
      const checkedAt = new Date();
      const { settings } = await import('../functions/commons/clients.ts');
      const sendPolicy = { ...defaultSendPolicy, controlGroupPercent: settings.controlGroupPercent(), frequencyCapPerWeek: settings.frequencyCapPerWeek() };
      const expected = await billingPath(trace.ingestBodies, { now: () => checkedAt, sendPolicy });
      const inbox = new Set((await emails()).map((m) => m.messageId ?? ''));
      const triggers = bus.emitted.filter((e) => e['detail-type'] === 'ChurnTriggerFired').map((e) => e.detail as ActualTrigger);
      const outcomes = new Map<string, ActualOutcome>();
      for (const e of bus.emitted) {
        const d = e.detail as { sendId?: string; reason?: string; messageId?: string };
        if (!d.sendId) continue;
        const triggerId = d.sendId.slice(d.sendId.indexOf('#') + 1); // sendId = `${campaign}#${triggerId}`
        if (e['detail-type'] === 'EmailSent') outcomes.set(triggerId, { outcome: 'sent', messageId: d.messageId });
        else if (e['detail-type'] === 'EmailSkipped') outcomes.set(triggerId, { outcome: d.reason?.startsWith('control group') || d.reason?.startsWith('global holdout') ? 'control' : 'skipped', reason: d.reason });
      }
      // Storage: read back the EVT# item of each recent complaint the stream did not show (bounded).
      const stored = new Set<string>();
      let reads = 0;
      for (const e of expected) {
        if (trace.streamDeliveredEventIds.has(e.eventId)) stored.add(e.eventId);
        else if (reads++ < 500) {
          const item = await ddb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: customerPk(e.customerId) }, sk: { S: SK.event(e.eventId) } } }));
          if (item.Item) stored.add(e.eventId);
        }
      }
      return compareRetentionPath(expected, {
        stored: (id) => stored.has(id),
        streamed: (id) => trace.streamDeliveredEventIds.has(id),
        triggers,
        toCampaigns: (id) => trace.campaignTriggerIds.has(id),
        outcomes,
        inbox,
      });
    };

    const counters = async () => {
      const rejected = queues.get(REJECTED_QUEUE)!;
      // Distinct rejected events (by rejection id; by body for a message without one): ingest sends
      // each once, but the window between a send and its ledger entry can still repeat one.
      const rejectedKeys = new Map<string, string>();
      for (const m of rejected.history) {
        let key = 'unparsed';
        let id = m.body;
        try {
          const b = JSON.parse(m.body) as Record<string, unknown>;
          const r = (b.rejection ?? b) as Record<string, unknown>;
          key = String(r.code ?? r.reason ?? r.error ?? 'unknown');
          id = typeof b.rejectionId === 'string' ? b.rejectionId : m.body;
        } catch {
          key = m.body.slice(0, 80);
        }
        rejectedKeys.set(id, key);
      }
      const rejectedReasons = new Map<string, number>();
      for (const key of rejectedKeys.values()) rejectedReasons.set(key, (rejectedReasons.get(key) ?? 0) + 1);
      const emittedByType = new Map<string, number>();
      for (const e of bus.emitted) emittedByType.set(e['detail-type'], (emittedByType.get(e['detail-type']) ?? 0) + 1);
      // Why triggers did not become emails: EmailSkipped by reason (as campaigns recorded it in the
      // send ledger), and triggers campaigns took no decision on (by action: most have no campaign).
      const skippedByReason = new Map<string, number>();
      const decided = new Set<string>();
      for (const e of bus.emitted) {
        const d = e.detail as { reason?: string; sendId?: string; campaign?: string };
        if (e['detail-type'] === 'EmailSkipped') skippedByReason.set(String(d.reason), (skippedByReason.get(String(d.reason)) ?? 0) + 1);
        if ((e['detail-type'] === 'EmailSkipped' || e['detail-type'] === 'EmailSent') && d.sendId && d.campaign) decided.add(d.sendId.slice(d.campaign.length + 1));
      }
      const undecidedByAction = new Map<string, number>();
      const seenTriggers = new Set<string>();
      for (const e of bus.emitted) {
        const d = e.detail as { triggerId?: string; action?: string };
        if (e['detail-type'] !== 'ChurnTriggerFired' || !d.triggerId || seenTriggers.has(d.triggerId)) continue;
        seenTriggers.add(d.triggerId);
        if (!decided.has(d.triggerId)) undecidedByAction.set(String(d.action), (undecidedByAction.get(String(d.action)) ?? 0) + 1);
      }
      let emailCount = -1;
      try {
        emailCount = (await emails()).length;
      } catch {
        /* reported as -1 */
      }
      return {
        bus: { calls: bus.stats.calls, accepted: bus.stats.accepted, toDefaultBus: bus.stats.toDefaultBus, failedEntries: bus.stats.failedEntries, failedRequests: bus.stats.failedRequests, accessDenied: bus.stats.accessDenied, entryErrors: Object.fromEntries(bus.stats.byError) },
        /** Distinct rejected events (a message sent twice counts once), by code. */
        rejected: { count: rejectedKeys.size, messages: rejected.sentCount, byReason: Object.fromEntries(rejectedReasons) },
        emitted: Object.fromEntries(emittedByType),
        triggersFired: emittedByType.get('ChurnTriggerFired') ?? 0,
        emailsSent: emailCount,
        emailsSkipped: { count: [...skippedByReason.values()].reduce((a, b) => a + b, 0), byReason: Object.fromEntries([...skippedByReason].sort((a, b) => b[1] - a[1])) },
        /** Distinct triggers with no EmailSent/EmailSkipped, by action (an action without a campaign sends nothing). */
        triggersWithoutEmailDecision: Object.fromEntries([...undecidedByAction].sort((a, b) => b[1] - a[1])),
        consumers: Object.fromEntries(
          [...consumers].map(([id, c]) => [id, { invocations: c.invocations, succeeded: c.succeeded, failedReceives: c.failedReceives, deadLettered: c.deadLettered }]),
        ),
        streams: Object.fromEntries([...pollers].map(([id, p]) => [id, { ...p.stats, shards: p.shardIds().length }])),
        deadLetters: Object.fromEntries(queues.all().filter((q) => q.name.endsWith('-dlq')).map((q) => [q.name, q.sentCount])),
        handlerErrors: [...errors.values()],
      };
    };

    let stopped = false;
    return {
      endpoints,
      serviceExited,
      /** Process ids of the service child processes (DynamoDB Local, the SES emulator) this stack started. */
      servicePids: services.flatMap((s) => (s.pid ? [s.pid] : [])),
      tableName,
      streamArn,
      busName,
      busArn: bus.arn,
      controlGroupPercent,
      controlGroupExperiment,
      stateDir,
      bus,
      queues,
      consumers,
      pollers,
      dynamodb: ddb,
      trace,
      waitForIdle,
      runSchedules,
      runSchedule,
      sweepTimers,
      emails,
      saveEmails,
      countStoredEvents,
      verifyRetentionPath,
      counters,
      isOwnSource: (source: string) => source.startsWith(CLM_SOURCE_PREFIX),
      functions: Object.keys(functionSpecs) as FunctionName[],
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopAll();
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
